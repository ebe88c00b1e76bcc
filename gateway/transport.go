package gateway

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// transport carries one session's frames over a WebSocket. The session
// and its writer see frames only; a transport may wrap each in messages
// of its own (Socket.IO's) and answer its own heartbeats. read is called
// by the session's one reader, write by its one writer.
type transport interface {
	// read returns the next frame's message as the codec decodes it.
	read(ctx context.Context) (websocket.MessageType, []byte, error)
	// write sends one encoded frame.
	write(ctx context.Context, typ websocket.MessageType, data []byte) error
	// close sends the close frame and waits briefly for the peer's.
	close(code websocket.StatusCode, reason string) error
	// closeNow drops the connection.
	closeNow() error
}

// rawTransport is XSYNC's own framing, which MaxIM's uni-app SDK and the
// /ws endpoint speak: each WebSocket message is one frame.
type rawTransport struct{ conn *websocket.Conn }

func (t rawTransport) read(ctx context.Context) (websocket.MessageType, []byte, error) {
	return t.conn.Read(ctx)
}

func (t rawTransport) write(ctx context.Context, typ websocket.MessageType, data []byte) error {
	return t.conn.Write(ctx, typ, data)
}

func (t rawTransport) close(code websocket.StatusCode, reason string) error {
	return t.conn.Close(code, reason)
}

func (t rawTransport) closeNow() error { return t.conn.CloseNow() }

// framingError is a message the transport cannot carry: the session
// ends with closeFraming and the error's text as the close reason.
type framingError struct{ reason string }

func (e *framingError) Error() string { return e.reason }

// errClientLeft is a client's orderly goodbye inside the transport
// (Socket.IO's close and disconnect packets).
var errClientLeft = errors.New("the client closed the transport")

// maxCloseReason is the longest reason a close frame carries.
const maxCloseReason = 123

// clip shortens s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Upgrades serves WebSocket upgrade requests as XSYNC sessions, exactly as
// the Server does at /ws, and passes every other request to next. MaxIM's
// uni-app SDK opens its raw WebSocket on the root path of its webim host,
// where plain requests get the REST API's status.
func (s *Server) Upgrades(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			s.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isUpgrade tells a WebSocket handshake (Connection: Upgrade, Upgrade:
// websocket) from a plain request.
func isUpgrade(r *http.Request) bool {
	return hasToken(r.Header, "Connection", "upgrade") && hasToken(r.Header, "Upgrade", "websocket")
}

// hasToken reports whether the comma-separated values of header name
// hold token, ignoring case.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// Buffers of a session's connection. net/http hands a hijacked connection
// 4 KiB buffers each way, which an idle session keeps for its whole life;
// XSYNC's frames are mostly far smaller. A frame larger than a buffer is
// read and written around it (bufio passes large reads and writes
// through), at the cost of one more system call.
const (
	readBufferBytes  = 1 << 10
	writeBufferBytes = 2 << 10
)

// smallBuffers is a ResponseWriter whose Hijack gives the WebSocket
// library smaller buffers than net/http's.
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		// Keep what net/http has read past the request (a client that
		// did not wait for the handshake's answer) where it is.
		return conn, brw, err
	}
	// net/http has flushed its answer: brw.Writer is empty.
	return conn, bufio.NewReadWriter(bufio.NewReaderSize(conn, readBufferBytes), bufio.NewWriterSize(conn, writeBufferBytes)), nil
}

// Unwrap lets http.ResponseController reach the ResponseWriter.
func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }
