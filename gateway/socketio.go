package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// MaxIM's web SDK reaches its long link through socket.io-client 2, that
// is Socket.IO protocol 4 over Engine.IO protocol 3, on a WebSocket from
// the start (no polling). imgate speaks the part of it the SDK uses:
//
//	server  0{"sid":…,"upgrades":[],"pingInterval":25000,"pingTimeout":60000}
//	server  40                                  connected to namespace /
//	client  2          server  3                heartbeat
//	either  451-["frame",{"_placeholder":true,"num":0}]
//	        then a binary message: 0x04 and one XSYNC Frame
//
// Anything else is refused: with HTTP 400 before the upgrade, else with
// a Socket.IO ERROR packet and close 1002, both saying why.
const (
	sioOpen = `0{"sid":"%s","upgrades":[],"pingInterval":25000,"pingTimeout":60000}`
	// sioFrameHeader announces the one binary attachment of a frame event.
	sioFrameHeader = `451-["frame",{"_placeholder":true,"num":0}]`
	sioFrameEvent  = `["frame",{"_placeholder":true,"num":0}]`
	// sioBinary starts each binary message: Engine.IO's "message" type.
	sioBinary = 4
	// sioBufferCap bounds the attachment buffer a session keeps between
	// writes; a larger frame gets a buffer of its own.
	sioBufferCap = 64 << 10
)

// Engine.IO's error codes in the JSON body of a refused handshake.
const (
	eioTransportUnknown = 0
	eioSessionUnknown   = 1
	eioBadMethod        = 2
	eioBadRequest       = 3
	eioBadVersion       = 5
)

// SocketIO returns the handler of /socket.io/: the Socket.IO transport of
// MaxIM's web SDK, carrying the same sessions as /ws. Sessions are binary
// XSYNC; the JSON rendering is for the raw transport only.
func (s *Server) SocketIO() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, msg := checkSocketIO(r); msg != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}{code, msg})
			return
		}
		s.serve(w, r, s.acceptSocketIO)
	})
}

// checkSocketIO refuses handshakes outside the subset: it returns an
// Engine.IO error code and a message, or "" to go on.
func checkSocketIO(r *http.Request) (int, string) {
	q := r.URL.Query()
	switch {
	case r.URL.Path != "/socket.io/":
		return eioBadRequest, "Bad request: the Socket.IO endpoint is /socket.io/"
	case r.Method != http.MethodGet:
		return eioBadMethod, "Bad handshake method: connect with a WebSocket GET"
	case q.Get("EIO") != "3":
		return eioBadVersion, fmt.Sprintf("Unsupported protocol version %q: imgate speaks Engine.IO 3 (socket.io-client 2.x, EIO=3)", clip(q.Get("EIO"), 16))
	case q.Get("transport") != "websocket":
		return eioTransportUnknown, fmt.Sprintf("Transport unknown %q: imgate serves transport=websocket only, no polling", clip(q.Get("transport"), 16))
	case q.Has("sid"):
		return eioSessionUnknown, "Session ID unknown: sessions are not resumed; connect anew without sid"
	case !isUpgrade(r):
		return eioBadRequest, "Bad request: transport=websocket needs a WebSocket upgrade"
	}
	return 0, ""
}

// acceptSocketIO upgrades and opens the Engine.IO session and the default
// namespace.
func (s *Server) acceptSocketIO(w http.ResponseWriter, r *http.Request) (transport, codec, bool) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return nil, nil, false // Accept has answered the client
	}
	conn.SetReadLimit(s.cfg.MaxFrameBytes + 1) // the attachment's type byte
	t := &socketIO{conn: conn, timeout: s.cfg.WriteTimeout}
	if err := t.open(); err != nil {
		conn.CloseNow()
		return nil, nil, false
	}
	return t, binaryCodec{}, true
}

// socketIO frames XSYNC as Socket.IO binary events. Heartbeats and
// refusals are written by the reader; mu keeps them from coming between
// an event's two messages.
type socketIO struct {
	conn    *websocket.Conn
	timeout time.Duration

	mu  sync.Mutex
	buf []byte // the attachment being written, reused
}

// open sends the Engine.IO handshake and connects the default namespace.
func (t *socketIO) open() error {
	var sid [16]byte
	_, _ = rand.Read(sid[:])
	ctx, cancel := context.WithTimeout(context.Background(), t.timeout)
	defer cancel()
	if err := t.conn.Write(ctx, websocket.MessageText, fmt.Appendf(nil, sioOpen, hex.EncodeToString(sid[:]))); err != nil {
		return err
	}
	return t.conn.Write(ctx, websocket.MessageText, []byte("40"))
}

func (t *socketIO) read(ctx context.Context) (websocket.MessageType, []byte, error) {
	for {
		typ, data, err := t.next(ctx)
		if err != nil {
			return 0, nil, err
		}
		if typ == websocket.MessageBinary {
			return 0, nil, t.refuse("a binary message without the frame event's header before it")
		}
		if string(data) == sioFrameHeader {
			return t.attachment(ctx)
		}
		switch p := parseSIO(string(data)); {
		case p.isConnect():
			// The default namespace again: it is connected already.
		case p.eio == '1', p.isDisconnect():
			return 0, nil, errClientLeft
		case p.isFrameEvent():
			return t.attachment(ctx)
		default:
			return 0, nil, t.refuse(p.problem())
		}
	}
}

// attachment reads the binary message a frame event announced.
func (t *socketIO) attachment(ctx context.Context) (websocket.MessageType, []byte, error) {
	typ, data, err := t.next(ctx)
	switch {
	case err != nil:
		return 0, nil, err
	case typ == websocket.MessageText:
		return 0, nil, t.refuse(fmt.Sprintf("the frame event's binary attachment must follow its header, not the text %q", clip(string(data), 40)))
	case len(data) == 0 || data[0] != sioBinary:
		return 0, nil, t.refuse("a binary attachment must start with 0x04, Engine.IO's message type")
	}
	return websocket.MessageBinary, data[1:], nil
}

// next reads the next message that is not an Engine.IO heartbeat,
// answering heartbeats on the way (they may come anywhere, even between
// an event's header and its attachment).
func (t *socketIO) next(ctx context.Context) (websocket.MessageType, []byte, error) {
	for {
		typ, data, err := t.conn.Read(ctx)
		if err != nil || typ != websocket.MessageText || len(data) == 0 || data[0] != '2' {
			return typ, data, err
		}
		if err := t.pong(string(data[1:])); err != nil {
			return 0, nil, err
		}
	}
}

func (t *socketIO) write(ctx context.Context, typ websocket.MessageType, data []byte) error {
	if typ != websocket.MessageBinary {
		return fmt.Errorf("gateway: Socket.IO carries binary frames only")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.conn.Write(ctx, websocket.MessageText, []byte(sioFrameHeader)); err != nil {
		return err
	}
	t.buf = append(append(t.buf[:0], sioBinary), data...)
	err := t.conn.Write(ctx, websocket.MessageBinary, t.buf)
	if cap(t.buf) > sioBufferCap {
		t.buf = nil
	}
	return err
}

// pong answers a heartbeat, echoing its data as Engine.IO does.
func (t *socketIO) pong(data string) error { return t.text("3" + data) }

// refuse tells the client why with a Socket.IO ERROR packet and returns
// the error that ends the session.
func (t *socketIO) refuse(reason string) error {
	reason = "socket.io: " + reason
	msg, _ := json.Marshal(reason)
	_ = t.text("44" + string(msg)) // the close frame says it too
	return &framingError{reason: reason}
}

func (t *socketIO) text(s string) error {
	ctx, cancel := context.WithTimeout(context.Background(), t.timeout)
	defer cancel()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conn.Write(ctx, websocket.MessageText, []byte(s))
}

func (t *socketIO) close(code websocket.StatusCode, reason string) error {
	return t.conn.Close(code, reason)
}

func (t *socketIO) closeNow() error { return t.conn.CloseNow() }

// sioPacket is a text message of Engine.IO 3 and, when eio is '4'
// (message), the Socket.IO packet it carries:
// <type>[<attachments>-][/<namespace>,][<ack id>][<JSON data>].
type sioPacket struct {
	eio, sio    byte // 0 when absent
	attachments int  // of binary packets (5, 6); -1 when malformed
	nsp         string
	ack         bool
	data        string
}

func parseSIO(s string) sioPacket {
	p := sioPacket{nsp: "/"}
	if s == "" {
		return p
	}
	p.eio, s = s[0], s[1:]
	if p.eio != '4' || s == "" {
		p.data = s
		return p
	}
	p.sio, s = s[0], s[1:]
	if p.sio == '5' || p.sio == '6' {
		p.attachments = -1
		if n, rest, ok := strings.Cut(s, "-"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				p.attachments, s = v, rest
			}
		}
	}
	if strings.HasPrefix(s, "/") {
		nsp, rest, _ := strings.Cut(s, ",")
		p.nsp, s = nsp, rest
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	p.ack, p.data = i > 0, s[i:]
	return p
}

func (p sioPacket) isConnect() bool    { return p.eio == '4' && p.sio == '0' && p.nsp == "/" }
func (p sioPacket) isDisconnect() bool { return p.eio == '4' && p.sio == '1' && p.nsp == "/" }

// isFrameEvent accepts the frame event's header however its JSON is
// spaced or ordered.
func (p sioPacket) isFrameEvent() bool {
	if p.eio != '4' || p.sio != '5' || p.attachments != 1 || p.nsp != "/" || p.ack {
		return false
	}
	if p.data == sioFrameEvent {
		return true
	}
	var ev []json.RawMessage
	if json.Unmarshal([]byte(p.data), &ev) != nil || len(ev) != 2 {
		return false
	}
	var name string
	var ph struct {
		Placeholder bool `json:"_placeholder"`
		Num         *int `json:"num"`
	}
	return json.Unmarshal(ev[0], &name) == nil && name == "frame" &&
		json.Unmarshal(ev[1], &ph) == nil && ph.Placeholder && ph.Num != nil && *ph.Num == 0
}

// problem says why a packet is outside the subset.
func (p sioPacket) problem() string {
	switch {
	case p.eio == 0:
		return "an empty message"
	case p.eio != '4':
		return fmt.Sprintf("Engine.IO packet type %q is not supported: only ping (2) and message (4)", p.eio)
	case p.sio == 0:
		return "an empty Socket.IO packet"
	case p.nsp != "/":
		return fmt.Sprintf("namespace %q is not served: only the default namespace /", clip(p.nsp, 32))
	case p.ack || p.sio == '3' || p.sio == '6':
		return "acknowledgements are not supported"
	case p.sio == '2':
		return `plain events are not supported: XSYNC frames travel as the binary event "frame"`
	case p.sio == '5':
		return `only the binary event ["frame",{"_placeholder":true,"num":0}] with one attachment is supported`
	}
	return fmt.Sprintf("Socket.IO packet type %q is not supported", p.sio)
}
