package webhook

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/gateway/xsync"
)

// Callback is the body of MaxIM's message callback, field for field as
// MaxIM's console sends it and back-office services for it (such as
// MaxIM's own connector) read it, plus imgate's event id. config and ext
// are the message's strings, as the SDKs set them.
type Callback struct {
	AppID      string `json:"appId"`
	MsgID      int64  `json:"msgId"`
	From       Xid    `json:"from"`
	To         Xid    `json:"to"`
	Type       string `json:"type"`  // CHAT, GROUPCHAT
	CType      string `json:"ctype"` // TEXT, IMAGE, AUDIO, VIDEO, FILE, LOCATION, COMMAND, FORWARD, RTC
	Content    string `json:"content"`
	Attachment string `json:"attachment"`
	Config     string `json:"config"`
	Ext        string `json:"ext"`
	Timestamp  int64  `json:"timestamp"` // ms since the epoch
	IsSystem   bool   `json:"isSystem"`
	RelatedMID int64  `json:"relatedMsgId,omitempty"` // the message a recall or edit applies to
	EventID    string `json:"eventId"`
}

// Xid is a user (or a group, as a group message's recipient) and the
// device a message came from; 0 for REST.
type Xid struct {
	UID      int64  `json:"uid"`
	DeviceSN uint32 `json:"deviceSn"`
}

// Envelope is the body of imgate's own events.
type Envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	AppID     string          `json:"appId"`
	Timestamp int64           `json:"timestamp"` // when the change was committed, ms since the epoch
	Data      json.RawMessage `json:"data"`
}

// body is what the event's POST carries: a message event is MaxIM's
// callback itself; the others are an Envelope whose data is a Callback
// (recall, edit) or an imgate.UserEvent.
func body(e imgate.Event) ([]byte, error) {
	id := strconv.FormatInt(e.ID, 10)
	var data any = json.RawMessage(e.Data)
	if e.Type == imgate.EventMessage || e.Type == imgate.EventMessageRecall || e.Type == imgate.EventMessageEdit {
		var m imgate.Message
		if err := json.Unmarshal(e.Data, &m); err != nil {
			return nil, fmt.Errorf("decode event %d: %w", e.ID, err)
		}
		cb := callback(m, id)
		if e.Type == imgate.EventMessage {
			return json.Marshal(cb)
		}
		data = cb
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode event %d: %w", e.ID, err)
	}
	return json.Marshal(Envelope{ID: id, Type: string(e.Type), AppID: e.AppID, Timestamp: e.CreatedAt.UnixMilli(), Data: raw})
}

// callback is the message in the shape of MaxIM's callback.
func callback(m imgate.Message, eventID string) Callback {
	typ := xsync.MessageBody_CHAT
	if m.Kind == imgate.ConvGroup {
		typ = xsync.MessageBody_GROUPCHAT
	}
	return Callback{
		AppID: m.AppID, MsgID: m.ID,
		From: Xid{UID: m.From, DeviceSN: m.FromDevice}, To: Xid{UID: m.To},
		Type: typ.String(), CType: xsync.MessageBody_ContentType(m.CType).String(),
		Content: m.Content, Attachment: m.Attachment, Config: m.Config, Ext: m.Ext,
		Timestamp: m.At.UnixMilli(), IsSystem: m.System, RelatedMID: m.OpMID, EventID: eventID,
	}
}
