package delivery

import (
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/gateway/xsync"
)

// MetaOf renders a stored message as the Meta a client syncs. A recalled
// message keeps its place but not its content; an OPER message carries its
// operation.
func MetaOf(m imgate.Message) *xsync.Meta {
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
	to := &xsync.XID{Uid: uint64(m.To)}
	if m.Op != 0 {
		body.Operation = &xsync.MessageOperation{Type: xsync.MessageOperation_Type(m.Op), Mid: uint64(m.OpMID), Xid: to}
	}
	return &xsync.Meta{
		Id: uint64(m.ID), From: &xsync.XID{Uid: uint64(m.From), DeviceSN: m.FromDevice}, To: to,
		Timestamp: uint64(m.At.UnixMilli()), Ns: xsync.Meta_MESSAGE, Payload: marshal(body),
	}
}

// marshal encodes a message of strings and numbers, which cannot fail.
func marshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}

// NoticeMeta renders a notice as the Meta of its namespace. Its id is the
// notice's Seq among its recipient's notices.
func NoticeMeta(n imgate.Notice) *xsync.Meta {
	var payload []byte
	var ns xsync.Meta_NameSpace
	to := make([]*xsync.XID, len(n.To))
	for i, u := range n.To {
		to[i] = &xsync.XID{Uid: uint64(u)}
	}
	from := &xsync.XID{Uid: uint64(n.From)}
	switch n.Kind {
	case imgate.NoticeGroup:
		ns = xsync.Meta_GROUP_NOTICE
		payload = marshal(&xsync.GroupNotice{
			Type: xsync.GroupNotice_Type(n.Type), Gid: uint64(n.GroupID), From: from, To: to, Content: n.Content,
		})
	case imgate.NoticeRoster:
		ns = xsync.Meta_ROSTER_NOTICE
		payload = marshal(&xsync.RosterNotice{Type: xsync.RosterNotice_Type(n.Type), From: from, To: to, Content: n.Content})
	default:
		ns = xsync.Meta_USER_NOTICE
		payload = marshal(&xsync.UserNotice{Type: xsync.UserNotice_Type(n.Type), Content: n.Content})
	}
	return &xsync.Meta{
		Id: uint64(n.Seq), From: from, To: &xsync.XID{Uid: uint64(n.UserID)},
		Timestamp: uint64(n.At.UnixMilli()), Ns: ns, Payload: payload,
	}
}
