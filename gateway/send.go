package gateway

import (
	"context"
	"errors"

	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway/xsync"
)

// errRateLimited refuses a send over the session's rate.
var errRateLimited = errors.New("gateway: send rate exceeded")

// sendMeta takes a message or an operation from the client and answers
// with a SyncDL: client_mid with server_mid and server_time once it is
// stored, or client_mid with a refusal.
func (s *session) sendMeta(ctx context.Context, meta *xsync.Meta) {
	s.news.Add(1)
	ack := &xsync.SyncDL{ClientMid: meta.Id, Xid: meta.To}
	if err := s.takeMeta(ctx, meta, ack); err != nil {
		ack.Status = s.statusOf(err)
		ack.ServerMid, ack.ServerTime = 0, 0
	} else {
		ack.Status = ok()
	}
	s.send(xsync.Frame_SYNC, ack)
}

func (s *session) takeMeta(ctx context.Context, meta *xsync.Meta, ack *xsync.SyncDL) error {
	if meta.Id == 0 {
		return imgate.Errorf(imgate.CodeInvalidParameter, "a message needs the client's id in meta.id")
	}
	if meta.Ns != xsync.Meta_MESSAGE && meta.Ns != xsync.Meta_CONVERSATION {
		return imgate.Errorf(imgate.CodeInvalidParameter, "clients send metas of namespace MESSAGE or CONVERSATION only, not %s", meta.Ns)
	}
	if !s.limiter.Allow() {
		return errRateLimited
	}
	if meta.Ns == xsync.Meta_CONVERSATION {
		return s.conversationOp(ctx, meta)
	}
	var body xsync.MessageBody
	if err := proto.Unmarshal(meta.Payload, &body); err != nil {
		return imgate.Errorf(imgate.CodeInvalidParameter, "payload is not a MessageBody: %v", err)
	}
	from := delivery.Sender{App: s.app, User: s.user, Device: s.sn}
	if body.Type == xsync.MessageBody_OPER {
		return s.operate(ctx, from, meta, &body, ack)
	}
	conv, err := s.target(ctx, int64(meta.To.GetUid()), body.Type)
	if err != nil {
		return err
	}
	out, _, err := s.srv.core.Send(ctx, from, []imgate.Message{{
		Kind: conv.Kind, To: conv.Peer, Type: int(body.Type), CType: int(body.Ctype),
		Content: body.Content, Config: body.Config, Attachment: body.Attachment, Ext: body.Ext,
		ClientMID: int64(meta.Id),
	}})
	if err != nil {
		return err
	}
	m := out[0]
	ack.ServerMid, ack.ServerTime = uint64(m.ID), uint64(m.At.UnixMilli())
	s.advance(conv, m.Seq, m.ID)
	return nil
}

// target is the conversation a message goes to: the type says chat or
// group; NORMAL leaves it to the id.
func (s *session) target(ctx context.Context, to int64, typ xsync.MessageBody_Type) (imgate.Conv, error) {
	switch typ {
	case xsync.MessageBody_CHAT:
		return imgate.Conv{Kind: imgate.ConvChat, Peer: to}, nil
	case xsync.MessageBody_GROUPCHAT:
		return imgate.Conv{Kind: imgate.ConvGroup, Peer: to}, nil
	case xsync.MessageBody_NORMAL:
		return s.conv(ctx, to)
	}
	return imgate.Conv{}, imgate.Errorf(imgate.CodeInvalidParameter, "unknown message type %d", typ)
}

// operate applies a MessageOperation. READ_ALL and READ_CANCEL name their
// conversation by operation.xid (else meta.to); the others by the message.
func (s *session) operate(ctx context.Context, from delivery.Sender, meta *xsync.Meta, body *xsync.MessageBody, ack *xsync.SyncDL) error {
	o := body.Operation
	if o == nil {
		return imgate.Errorf(imgate.CodeInvalidParameter, "an OPER message needs an operation")
	}
	op := delivery.Op{
		Type: int(o.Type), MID: int64(o.Mid), ClientMID: int64(meta.Id),
		Content: body.Content, Config: body.Config, Ext: body.Ext,
	}
	if op.Type == imgate.OpReadAll || op.Type == imgate.OpReadCancel {
		peer := int64(o.Xid.GetUid())
		if peer == 0 || peer == s.user {
			peer = int64(meta.To.GetUid())
		}
		conv, err := s.conv(ctx, peer)
		if err != nil {
			return err
		}
		op.Conv = conv
	}
	res, err := s.srv.core.Operate(ctx, from, op)
	if err != nil {
		return err
	}
	ack.ServerMid, ack.ServerTime = uint64(res.ID), uint64(res.At.UnixMilli())
	if !res.EditedAt.IsZero() {
		ack.EditTimestamp = uint64(res.EditedAt.UnixMilli())
	}
	return nil
}

// conversationOp serves a CONVERSATION meta, the SDKs' delete of a
// conversation: Conversation{type OPER, operation{DELETE or
// DELETE_EVERYWHERE, xid}}. Either clears the conversation for the user,
// on all its devices, as REST's DELETE /message/conversation does: its
// messages so far leave the user's history and count as read; the other
// side keeps them. (imgate keeps no per-device history to delete from one
// device alone.)
func (s *session) conversationOp(ctx context.Context, meta *xsync.Meta) error {
	var c xsync.Conversation
	if err := proto.Unmarshal(meta.Payload, &c); err != nil {
		return imgate.Errorf(imgate.CodeInvalidParameter, "payload is not a Conversation: %v", err)
	}
	op := c.GetOperation()
	if c.GetType() != xsync.Conversation_OPER || op == nil ||
		(op.GetType() != xsync.Conversation_Operation_DELETE && op.GetType() != xsync.Conversation_Operation_DELETE_EVERYWHERE) {
		return imgate.Errorf(imgate.CodeInvalidParameter, "a CONVERSATION meta must be an OPER of type DELETE or DELETE_EVERYWHERE")
	}
	conv, err := s.conv(ctx, int64(op.GetXid().GetUid()))
	if err != nil {
		return err
	}
	return s.srv.core.Notifying(s.srv.store).ClearConversation(ctx, s.app, s.user, conv)
}
