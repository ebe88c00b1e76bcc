// Package client speaks XSYNC, MaxIM's client protocol, to an imgate
// gateway over WebSocket: logins, heartbeats, sync. The tests and the load
// tool use it; it is also a reference for client authors.
package client

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate/gateway/xsync"
)

// Options tune a connection.
type Options struct {
	// JSON selects the gateway's JSON rendering ("xsync.json") instead of
	// binary protobuf frames.
	JSON bool
}

// Conn is one XSYNC connection. Send may be called from one goroutine
// and Recv from another.
type Conn struct {
	ws   *websocket.Conn
	json bool
}

// Dial connects to a gateway URL such as ws://127.0.0.1:8080/ws.
func Dial(ctx context.Context, url string, opts Options) (*Conn, error) {
	proto := "xsync"
	if opts.JSON {
		proto = "xsync.json"
	}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{proto}})
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", url, err)
	}
	ws.SetReadLimit(16 << 20)
	return &Conn{ws: ws, json: opts.JSON}, nil
}

// Close closes the connection normally.
func (c *Conn) Close() error { return c.ws.Close(websocket.StatusNormalClosure, "bye") }

// Send sends one command with its UL message.
func (c *Conn) Send(ctx context.Context, cmd xsync.Frame_Command, msg proto.Message) error {
	if c.json {
		payload, err := protojson.Marshal(msg)
		if err != nil {
			return fmt.Errorf("client: encode %s: %w", cmd, err)
		}
		data, err := json.Marshal(map[string]any{"command": cmd.String(), "payload": json.RawMessage(payload)})
		if err != nil {
			return fmt.Errorf("client: encode frame: %w", err)
		}
		return c.ws.Write(ctx, websocket.MessageText, data)
	}
	payload, err := proto.Marshal(msg)
	if err != nil {
		return fmt.Errorf("client: encode %s: %w", cmd, err)
	}
	data, err := proto.Marshal(&xsync.Frame{Command: cmd, Payload: payload})
	if err != nil {
		return fmt.Errorf("client: encode frame: %w", err)
	}
	return c.ws.Write(ctx, websocket.MessageBinary, data)
}

// SendRaw sends bytes as one binary message, unframed: for testing how a
// server treats garbage.
func (c *Conn) SendRaw(ctx context.Context, data []byte) error {
	return c.ws.Write(ctx, websocket.MessageBinary, data)
}

// Recv receives one command with its DL message: a *xsync.Provision,
// *xsync.UnreadDL, *xsync.SyncDL or *xsync.Notice. When the server closes
// the connection, the error carries its close status (see CloseStatus).
func (c *Conn) Recv(ctx context.Context) (xsync.Frame_Command, proto.Message, error) {
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		return 0, nil, err
	}
	cmd, payload, err := c.unframe(typ, data)
	if err != nil {
		return 0, nil, err
	}
	msg, err := xsync.NewDown(cmd)
	if err != nil {
		return cmd, nil, err
	}
	if c.json {
		err = protojson.Unmarshal(payload, msg)
	} else {
		err = proto.Unmarshal(payload, msg)
	}
	if err != nil {
		return cmd, nil, fmt.Errorf("client: decode %s: %w", cmd, err)
	}
	return cmd, msg, nil
}

func (c *Conn) unframe(typ websocket.MessageType, data []byte) (xsync.Frame_Command, []byte, error) {
	if c.json {
		var f struct {
			Command string          `json:"command"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			return 0, nil, fmt.Errorf("client: decode frame: %w", err)
		}
		return xsync.Frame_Command(xsync.Frame_Command_value[f.Command]), f.Payload, nil
	}
	if typ != websocket.MessageBinary {
		return 0, nil, fmt.Errorf("client: text message on the binary protocol")
	}
	var f xsync.Frame
	if err := proto.Unmarshal(data, &f); err != nil {
		return 0, nil, fmt.Errorf("client: decode frame: %w", err)
	}
	return f.Command, f.Payload, nil
}

// CloseStatus returns the WebSocket close code in err, or -1.
func CloseStatus(err error) int { return int(websocket.CloseStatus(err)) }

// Login sends PROVISION with a token (and the device's serial number, 0
// on first login) and returns the server's answer, which carries the
// assigned serial number in Xid.DeviceSN, or a refusal in Status.
func (c *Conn) Login(ctx context.Context, uid uint64, sn uint32, token, guid string) (*xsync.Provision, error) {
	p := &xsync.Provision{
		Xid: &xsync.XID{Uid: uid, DeviceSN: sn}, Token: token, DeviceGuid: guid,
		OsType: xsync.Provision_LINUX, SdkVsn: "imgate-client", DeviceInfo: "imgate Go client",
	}
	return c.provision(ctx, p)
}

// LoginPassword logs in with a password; the URL must carry ?app_id=.
func (c *Conn) LoginPassword(ctx context.Context, uid uint64, password string) (*xsync.Provision, error) {
	return c.provision(ctx, &xsync.Provision{Xid: &xsync.XID{Uid: uid}, Password: password, OsType: xsync.Provision_LINUX})
}

func (c *Conn) provision(ctx context.Context, p *xsync.Provision) (*xsync.Provision, error) {
	if err := c.Send(ctx, xsync.Frame_PROVISION, p); err != nil {
		return nil, err
	}
	cmd, msg, err := c.Recv(ctx)
	if err != nil {
		return nil, err
	}
	answer, ok := msg.(*xsync.Provision)
	if !ok {
		return nil, fmt.Errorf("client: got %s in answer to PROVISION", cmd)
	}
	return answer, nil
}
