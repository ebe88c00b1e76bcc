package gateway

import (
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/gateway/xsync"
)

// metaOf renders a stored message as the Meta a client syncs. A recalled
// message keeps its place but not its content.
func metaOf(m imgate.Message) *xsync.Meta {
	body := &xsync.MessageBody{
		Type: xsync.MessageBody_Type(m.Type), Ctype: xsync.MessageBody_ContentType(m.CType),
		Content: m.Content, Config: m.Config, Attachment: m.Attachment, Ext: m.Ext, IsSystem: m.System,
	}
	if !m.EditedAt.IsZero() {
		body.EditTimestamp = uint64(m.EditedAt.UnixMilli())
	}
	if m.Recalled {
		body.Content, body.Attachment, body.Config, body.Ext = "", "", "", ""
	}
	payload, err := proto.Marshal(body)
	if err != nil {
		payload = nil // a MessageBody of strings and numbers always marshals
	}
	return &xsync.Meta{
		Id: uint64(m.ID), From: &xsync.XID{Uid: uint64(m.From), DeviceSN: m.FromDevice}, To: &xsync.XID{Uid: uint64(m.To)},
		Timestamp: uint64(m.At.UnixMilli()), Ns: xsync.Meta_MESSAGE, Payload: payload,
	}
}
