package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/gateway/xsync"
)

// Op is a message operation (XSYNC's MessageBody type OPER): read
// receipts, recall, delete, edits.
type Op struct {
	Type int   // an imgate.Op* constant
	MID  int64 // the message operated on (READ_ALL: the last one read; 0: all)
	// Conv is the conversation, as the operating user sees it; READ_ALL
	// and READ_CANCEL need it when MID is 0, the others take it from the
	// message.
	Conv imgate.Conv
	// Content, Config and Ext are what APPEND adds (Content) and what
	// REPLACE sets.
	Content, Config, Ext string
	// ClientMID is the client's id of the operation, for dedupe of stored
	// operations and as the id of live ones.
	ClientMID int64
}

// OpResult is what an operation did.
type OpResult struct {
	// ID is the id of the OPER message stored for RECALL, APPEND and
	// REPLACE, which every device syncs; for the others, which change
	// state and are pushed live, the client's id.
	ID       int64
	At       time.Time
	EditedAt time.Time // APPEND and REPLACE: the message's new edit time
}

// Operate applies an operation by from.
func (c *Core) Operate(ctx context.Context, from Sender, op Op) (OpResult, error) {
	now := c.now()
	var target imgate.Message
	conv := op.Conv
	if op.MID != 0 {
		m, err := c.store.Message(ctx, from.App, op.MID)
		if err != nil {
			return OpResult{}, err
		}
		if err := c.visible(ctx, from, m); err != nil {
			return OpResult{}, err
		}
		target, conv = m, m.ConvOf(from.User)
	} else if op.Type != imgate.OpReadAll && op.Type != imgate.OpReadCancel {
		return OpResult{}, imgate.Errorf(imgate.CodeInvalidParameter, "operation %d needs a message id", op.Type)
	}
	live := OpResult{ID: op.ClientMID, At: now}
	switch op.Type {
	case imgate.OpReadAck:
		if err := c.readUpTo(ctx, from, conv, target.Seq, true); err != nil {
			return OpResult{}, err
		}
		c.publishOp(ctx, from, op, conv, now, target.From)
	case imgate.OpReadAll, imgate.OpReadCancel:
		if conv.Kind == 0 || conv.Peer == 0 {
			return OpResult{}, imgate.Errorf(imgate.CodeInvalidParameter, "operation %d needs a conversation", op.Type)
		}
		seq := target.Seq
		switch {
		case op.Type == imgate.OpReadCancel && seq > 0:
			seq--
		case op.Type == imgate.OpReadCancel:
			last, err := c.lastSeq(ctx, from, conv)
			if err != nil {
				return OpResult{}, err
			}
			seq = max(last-1, 0)
		case seq == 0:
			seq = 1 << 62 // clamped to the last message
		}
		if err := c.readUpTo(ctx, from, conv, seq, op.Type == imgate.OpReadAll); err != nil {
			return OpResult{}, err
		}
		c.publishOp(ctx, from, op, conv, now)
	case imgate.OpDeliverAck, imgate.OpPlayAck:
		c.publishOp(ctx, from, op, conv, now, target.From)
	case imgate.OpDelete:
		if err := c.store.HideMessage(ctx, from.App, from.User, conv, op.MID); err != nil {
			return OpResult{}, err
		}
		c.publishOp(ctx, from, op, conv, now)
	case imgate.OpRecall, imgate.OpAppend, imgate.OpReplace:
		return c.edit(ctx, from, op, target, now)
	default:
		return OpResult{}, imgate.Errorf(imgate.CodeInvalidParameter, "unknown operation %d", op.Type)
	}
	return live, nil
}

// visible checks that from may see the message: a side of its chat, or a
// member of its group (admins see all).
func (c *Core) visible(ctx context.Context, from Sender, m imgate.Message) error {
	if from.Admin {
		return nil
	}
	if m.Kind == imgate.ConvChat {
		if m.From != from.User && m.To != from.User {
			return imgate.Errorf(imgate.CodeInvalidParameter, "no message %d", m.ID)
		}
		return nil
	}
	_, ok, err := c.store.Member(ctx, from.App, m.To, from.User)
	if err != nil {
		return fmt.Errorf("delivery: membership of %d in %d: %w", from.User, m.To, err)
	}
	if !ok {
		return imgate.Errorf(imgate.CodeNotGroupMember, "user %d is not a member of group %d", from.User, m.To)
	}
	return nil
}

func (c *Core) lastSeq(ctx context.Context, from Sender, conv imgate.Conv) (int64, error) {
	ms, err := c.store.History(ctx, from.App, from.User, conv, 0, 1)
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	return ms[0].Seq, nil
}

// readUpTo moves from's read position in conv to seq. With forwardOnly it
// never moves it back, so that a late receipt does not undo a later one.
func (c *Core) readUpTo(ctx context.Context, from Sender, conv imgate.Conv, seq int64, forwardOnly bool) error {
	if forwardOnly {
		cur, err := c.store.ReadSeq(ctx, from.App, from.User, conv)
		if err != nil {
			return err
		}
		if seq <= cur {
			return nil
		}
	}
	return c.store.MarkRead(ctx, from.App, from.User, conv, seq)
}

// publishOp pushes a state-changing operation live to from's other devices
// and to the users in to (the sender of the message acknowledged).
func (c *Core) publishOp(ctx context.Context, from Sender, op Op, conv imgate.Conv, at time.Time, to ...int64) {
	users := []int64{from.User}
	for _, u := range to {
		if u != from.User && u != 0 {
			users = append(users, u)
		}
	}
	body := &xsync.MessageBody{
		Type: xsync.MessageBody_OPER, Ctype: xsync.MessageBody_COMMAND,
		Operation: &xsync.MessageOperation{Type: xsync.MessageOperation_Type(op.Type), Mid: uint64(op.MID), Xid: &xsync.XID{Uid: uint64(conv.Peer)}},
	}
	meta := &xsync.Meta{
		Id: uint64(op.ClientMID), From: &xsync.XID{Uid: uint64(from.User), DeviceSN: from.Device},
		To: &xsync.XID{Uid: uint64(conv.Peer)}, Timestamp: uint64(at.UnixMilli()), Ns: xsync.Meta_MESSAGE, Payload: marshal(body),
	}
	c.publish(ctx, &Event{Kind: Live, App: from.App, Conv: conv, From: from.User, FromDevice: from.Device, Metas: []*xsync.Meta{meta}, Users: users, Accepted: at.UnixNano()})
}

// edit recalls or edits a message: it stores an OPER message in its
// conversation, so that every device, online or not, learns of it in
// order, and changes the stored message. The OPER message comes first:
// its client_mid dedupes a resend, which must not append twice.
func (c *Core) edit(ctx context.Context, from Sender, op Op, target imgate.Message, now time.Time) (OpResult, error) {
	if err := c.mayEdit(ctx, from, op.Type, target, now); err != nil {
		return OpResult{}, err
	}
	if op.Type != imgate.OpRecall {
		// An edit keeps the message within the limits of a send.
		edited := target
		if op.Type == imgate.OpAppend {
			edited.Content += op.Content
		} else {
			edited.Content, edited.Config, edited.Ext = op.Content, op.Config, op.Ext
		}
		if err := c.validate(edited); err != nil {
			return OpResult{}, err
		}
	}
	oper := imgate.Message{
		Kind: target.Kind, To: target.To, Type: imgate.TypeOper, CType: imgate.CTypeCommand,
		Op: op.Type, OpMID: target.ID, ClientMID: op.ClientMID, At: now,
	}
	if target.Kind == imgate.ConvChat && target.To == from.User {
		oper.To = target.From // the conversation, from the operator's side
	}
	if op.Type != imgate.OpRecall {
		oper.Content, oper.Config, oper.Ext, oper.EditedAt = op.Content, op.Config, op.Ext, now
	}
	out, dup, err := c.enqueue(ctx, []imgate.Message{withSender(oper, from)}, c.now())
	if err != nil {
		return OpResult{}, err
	}
	stored := out[0]
	_, err = c.store.UpdateMessage(ctx, from.App, target.ID, func(m *imgate.Message) error {
		// A resend applies the change only if the first attempt failed
		// to: the message was not edited since the OPER was stored.
		if dup[0] && op.Type != imgate.OpRecall && !m.EditedAt.Before(stored.EditedAt) {
			return nil
		}
		switch op.Type {
		case imgate.OpRecall:
			m.Recalled = true
		case imgate.OpAppend:
			m.Content += op.Content
			m.EditedAt = stored.EditedAt
		case imgate.OpReplace:
			m.Content, m.Config, m.Ext, m.EditedAt = op.Content, op.Config, op.Ext, stored.EditedAt
		}
		return nil
	})
	if err != nil {
		return OpResult{}, err
	}
	if op.Type == imgate.OpRecall {
		c.recalled(ctx, target)
	}
	return OpResult{ID: stored.ID, At: stored.At, EditedAt: stored.EditedAt}, nil
}

func withSender(m imgate.Message, from Sender) imgate.Message {
	m.AppID, m.From, m.FromDevice = from.App, from.User, from.Device
	return m
}

// mayEdit applies the rules of recall and edit: the sender edits and
// recalls, recall within the window; group owners and admins recall any
// member's message; admin tokens may do all.
func (c *Core) mayEdit(ctx context.Context, from Sender, typ int, m imgate.Message, now time.Time) error {
	if m.Type == imgate.TypeOper {
		return imgate.Errorf(imgate.CodeInvalidParameter, "message %d is an operation", m.ID)
	}
	if m.Recalled {
		return imgate.Errorf(imgate.CodeInvalidParameter, "message %d was recalled", m.ID)
	}
	if from.Admin {
		return nil
	}
	if typ == imgate.OpRecall && m.Kind == imgate.ConvGroup && m.From != from.User {
		mem, ok, err := c.store.Member(ctx, from.App, m.To, from.User)
		if err != nil {
			return fmt.Errorf("delivery: membership of %d in %d: %w", from.User, m.To, err)
		}
		if ok && mem.Role >= imgate.RoleAdmin {
			return nil
		}
	}
	if m.From != from.User {
		return imgate.Errorf(imgate.CodeForbidden, "only the sender may change message %d", m.ID)
	}
	if typ == imgate.OpRecall && now.Sub(m.At) > c.cfg.RecallWindow {
		return imgate.Errorf(imgate.CodeForbidden, "message %d is older than the recall window of %s", m.ID, c.cfg.RecallWindow)
	}
	return nil
}
