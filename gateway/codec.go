package gateway

import (
	"encoding/json"
	"fmt"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate/gateway/xsync"
)

// Subprotocols a client may ask for. Binary is MaxIM's own framing and
// the default; JSON renders the same messages readably for browsers and
// debugging.
const (
	SubprotocolBinary = "xsync"
	SubprotocolJSON   = "xsync.json"
)

// codec turns the payload message of a command into WebSocket messages
// and back. The client sends UL messages and the server DL ones, except
// PROVISION and NOTICE, whose message is the same both ways.
type codec interface {
	decode(typ websocket.MessageType, data []byte) (xsync.Frame_Command, proto.Message, error)
	encode(cmd xsync.Frame_Command, msg proto.Message) (websocket.MessageType, []byte, error)
}

// noCommand stands for the command of a frame too broken to tell.
const noCommand xsync.Frame_Command = -1

// binaryCodec is XSYNC's framing: one binary message, one Frame, whose
// payload is the serialized command message.
type binaryCodec struct{}

func (binaryCodec) decode(typ websocket.MessageType, data []byte) (xsync.Frame_Command, proto.Message, error) {
	if typ != websocket.MessageBinary {
		return noCommand, nil, fmt.Errorf("a text message on the binary protocol")
	}
	var f xsync.Frame
	if err := proto.Unmarshal(data, &f); err != nil {
		return noCommand, nil, fmt.Errorf("frame: %w", err)
	}
	if f.CompressMethod != xsync.Frame_NONE || f.EncryptMethod != xsync.Frame_ENCRYPT_NONE {
		return f.Command, nil, errUnsupported
	}
	m, err := xsync.NewUp(f.Command)
	if err != nil {
		return f.Command, nil, err
	}
	if err := proto.Unmarshal(f.Payload, m); err != nil {
		return f.Command, nil, fmt.Errorf("payload of %s: %w", f.Command, err)
	}
	return f.Command, m, nil
}

func (binaryCodec) encode(cmd xsync.Frame_Command, msg proto.Message) (websocket.MessageType, []byte, error) {
	payload, err := proto.Marshal(msg)
	if err != nil {
		return 0, nil, fmt.Errorf("encode %s: %w", cmd, err)
	}
	data, err := proto.Marshal(&xsync.Frame{Command: cmd, Payload: payload})
	if err != nil {
		return 0, nil, fmt.Errorf("encode frame: %w", err)
	}
	return websocket.MessageBinary, data, nil
}

// jsonFrame is a Frame in a text message, with the payload as the
// protojson of its message instead of bytes:
// {"command":"SYNC","payload":{"xid":{"uid":"42"}}}.
type jsonFrame struct {
	Command string          `json:"command"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type jsonCodec struct{}

func (jsonCodec) decode(typ websocket.MessageType, data []byte) (xsync.Frame_Command, proto.Message, error) {
	if typ != websocket.MessageText {
		return noCommand, nil, fmt.Errorf("a binary message on the JSON protocol")
	}
	var f jsonFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return noCommand, nil, fmt.Errorf("frame: %w", err)
	}
	v, ok := xsync.Frame_Command_value[f.Command]
	if !ok {
		return noCommand, nil, fmt.Errorf("unknown command %q", f.Command)
	}
	cmd := xsync.Frame_Command(v)
	m, err := xsync.NewUp(cmd)
	if err != nil {
		return cmd, nil, err
	}
	if len(f.Payload) > 0 {
		if err := protojson.Unmarshal(f.Payload, m); err != nil {
			return cmd, nil, fmt.Errorf("payload of %s: %w", cmd, err)
		}
	}
	return cmd, m, nil
}

func (jsonCodec) encode(cmd xsync.Frame_Command, msg proto.Message) (websocket.MessageType, []byte, error) {
	payload, err := protojson.Marshal(msg)
	if err != nil {
		return 0, nil, fmt.Errorf("encode %s: %w", cmd, err)
	}
	data, err := json.Marshal(jsonFrame{Command: cmd.String(), Payload: payload})
	if err != nil {
		return 0, nil, fmt.Errorf("encode frame: %w", err)
	}
	return websocket.MessageText, data, nil
}
