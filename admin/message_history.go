package admin

import (
	"context"
	"math"
	"net/http"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
)

// History pages: limit defaults to defaultHistory and may not exceed
// maxHistory.
const (
	defaultHistory = 20
	maxHistory     = 100
)

// ctypeNames are the REST names of the content types (会话消息.ctype).
var ctypeNames = [...]string{"TEXT", "IMAGE", "AUDIO", "VIDEO", "FILE", "LOCATION", "COMMAND", "FORWARD", "RTC"}

func ctypeName(t int) string {
	if t < 0 || t >= len(ctypeNames) {
		return "UNKNOWN"
	}
	return ctypeNames[t]
}

// xid is 用户和设备: a user (or group) and a device.
type xid struct {
	UID      int64  `json:"uid"`
	DeviceSN uint32 `json:"device_sn"`
}

// historyItem is 会话消息.
type historyItem struct {
	MsgID      int64  `json:"msg_id"`
	FromXID    xid    `json:"from_xid"`
	ToXID      xid    `json:"to_xid"`
	CType      string `json:"ctype"`
	Content    string `json:"content"`
	Attachment string `json:"attachment"`
	Config     string `json:"config"`
	Ext        string `json:"ext"`
	Status     string `json:"status"`
	Timestamp  int64  `json:"timestamp"`
}

// convMessages is 会话消息列表.
type convMessages struct {
	Messages  []historyItem `json:"messages"`
	NextMsgID int64         `json:"next_msg_id"`
	IsLast    bool          `json:"is_last"`
}

// convWith is the acting user's conversation with id: the group id, of
// which the user must be a member (20002), or else the chat with the user
// id. A chat outlives its users, so the peer need not be one any more.
func (s *Server) convWith(ctx context.Context, c *call, id int64) (imgate.Conv, error) {
	if _, ok, err := s.store.Member(ctx, c.app.ID, id, c.userID); err != nil || ok {
		return imgate.Conv{Kind: imgate.ConvGroup, Peer: id}, err
	}
	_, err := s.store.Group(ctx, c.app.ID, id)
	switch imgate.ErrorCode(err) {
	case imgate.CodeOK:
		return imgate.Conv{}, imgate.Errorf(imgate.CodeNotGroupMember, "user %d is not a member of group %d", c.userID, id)
	case imgate.CodeGroupNotFound:
		return imgate.Conv{Kind: imgate.ConvChat, Peer: id}, nil
	}
	return imgate.Conv{}, err
}

// GET /message/conversation?opposite_id&msg_id_start&limit: the acting
// user's conversation with opposite_id (a user or a group), newest first,
// from the message msg_id_start included (0: the newest), at most limit.
// next_msg_id is the next message to ask for as msg_id_start, 0 when
// is_last. Operations and recalled messages are not listed; edited ones
// show their edited content; messages the user deleted or cleared are
// left out. status is the recipient's read state: in a chat the other
// side's for the user's own messages, in a group the user's own.
func (s *Server) history(r *http.Request, c *call) (any, error) {
	q := query{r}
	peer, err := q.int64("opposite_id", true, 0)
	if err != nil {
		return nil, err
	}
	start, err := q.int64("msg_id_start", false, 0)
	if err != nil {
		return nil, err
	}
	limit, err := q.int64("limit", false, defaultHistory)
	if err != nil {
		return nil, err
	}
	if err := firstErr(positive("opposite_id", peer), notNegative("msg_id_start", start)); err != nil {
		return nil, err
	}
	if limit < 1 || limit > maxHistory {
		return nil, badParam("limit must be from 1 to %d", maxHistory)
	}
	conv, err := s.convWith(r.Context(), c, peer)
	if err != nil {
		return nil, err
	}
	msgs, next, err := s.historyPage(r.Context(), c, conv, start, int(limit))
	if err != nil {
		return nil, err
	}
	items, err := s.historyItems(r.Context(), c, conv, msgs)
	if err != nil {
		return nil, err
	}
	return convMessages{Messages: items, NextMsgID: next, IsLast: next == 0}, nil
}

// listed tells whether REST history shows a message.
func listed(m imgate.Message) bool { return m.Type != imgate.TypeOper && !m.Recalled }

// historyPage reads up to limit listed messages from start (included)
// back, and the id of the next listed one (0: none). It reads limit+1 at
// a time and goes on past what it does not list.
func (s *Server) historyPage(ctx context.Context, c *call, conv imgate.Conv, start int64, limit int) ([]imgate.Message, int64, error) {
	before := int64(0)
	if start > 0 && start < math.MaxInt64 {
		before = start + 1
	}
	out := make([]imgate.Message, 0, limit)
	for {
		ms, err := s.store.History(ctx, c.app.ID, c.userID, conv, before, limit+1)
		if err != nil {
			return nil, 0, err
		}
		for _, m := range ms {
			if !listed(m) {
				continue
			}
			if len(out) == limit {
				return out, m.ID, nil
			}
			out = append(out, m)
		}
		if len(ms) < limit+1 {
			return out, 0, nil
		}
		before = ms[len(ms)-1].ID
	}
}

// historyItems renders messages with their read state.
func (s *Server) historyItems(ctx context.Context, c *call, conv imgate.Conv, msgs []imgate.Message) ([]historyItem, error) {
	own, err := s.store.ReadSeq(ctx, c.app.ID, c.userID, conv)
	if err != nil {
		return nil, err
	}
	peer := own
	if conv.Kind == imgate.ConvChat && conv.Peer != c.userID {
		back := imgate.Conv{Kind: imgate.ConvChat, Peer: c.userID}
		if peer, err = s.store.ReadSeq(ctx, c.app.ID, conv.Peer, back); err != nil {
			return nil, err
		}
	}
	items := make([]historyItem, len(msgs))
	for i, m := range msgs {
		read := own
		if conv.Kind == imgate.ConvChat && m.To != c.userID {
			read = peer
		}
		status := "UNREAD"
		if m.Seq <= read {
			status = "READ"
		}
		items[i] = historyItem{
			MsgID: m.ID, FromXID: xid{UID: m.From, DeviceSN: m.FromDevice}, ToXID: xid{UID: m.To},
			CType: ctypeName(m.CType), Content: m.Content, Attachment: m.Attachment, Config: m.Config, Ext: m.Ext,
			Status: status, Timestamp: m.At.UnixMilli(),
		}
	}
	return items, nil
}

// DELETE /message/conversation?conversation_id: the acting user's
// conversation with a user or group is cleared for that user alone: its
// messages so far leave the user's history and count as read; the other
// side keeps them, and later messages show as usual.
func (s *Server) deleteConversation(r *http.Request, c *call) (any, error) {
	cid, err := query{r}.int64("conversation_id", true, 0)
	if err == nil {
		err = positive("conversation_id", cid)
	}
	if err != nil {
		return nil, err
	}
	conv, err := s.convWith(r.Context(), c, cid)
	if err != nil {
		return nil, err
	}
	if err := s.store.ClearConversation(r.Context(), c.app.ID, c.userID, conv); err != nil {
		return nil, err
	}
	return true, nil
}

// unreadItem is UnreadDto.
type unreadItem struct {
	ConversationID struct {
		UID int64 `json:"uid"`
	} `json:"conversation_id"`
	Num int64 `json:"num"`
}

// GET /message/unread: the acting user's conversations with unread
// messages, the most recent first, with their counts.
func (s *Server) unread(r *http.Request, c *call) (any, error) {
	us, err := s.store.Unreads(r.Context(), c.app.ID, c.userID)
	if err != nil {
		return nil, err
	}
	out := make([]unreadItem, len(us))
	for i, u := range us {
		out[i].ConversationID.UID, out[i].Num = u.Conv.Peer, u.Count
	}
	return out, nil
}

// GET /message/ack?conversation_id&msg_id&device_sn: the acting user
// reads: with msg_id, a read receipt of that message (READ_ACK: it and
// all before it are read, and its sender is told); with conversation_id
// alone, the whole conversation is read (READ_ALL). device_sn is the
// user's device that read, which is not told again.
func (s *Server) ack(r *http.Request, c *call) (any, error) {
	q := query{r}
	cid, err := q.int64("conversation_id", false, 0)
	if err != nil {
		return nil, err
	}
	mid, err := q.int64("msg_id", false, 0)
	if err != nil {
		return nil, err
	}
	sn, err := q.int64("device_sn", false, 0)
	if err != nil {
		return nil, err
	}
	if err := firstErr(notNegative("conversation_id", cid), notNegative("msg_id", mid), s.checkDevice(r, c, sn)); err != nil {
		return nil, err
	}
	from := delivery.Sender{App: c.app.ID, User: c.userID, Device: uint32(sn)}
	switch {
	case mid != 0:
		if err := s.checkConversation(r.Context(), c.app.ID, mid, cid); err != nil {
			return nil, err
		}
		_, err = s.core.Operate(r.Context(), from, delivery.Op{Type: imgate.OpReadAck, MID: mid})
	case cid != 0:
		var conv imgate.Conv
		if conv, err = s.convWith(r.Context(), c, cid); err == nil {
			_, err = s.core.Operate(r.Context(), from, delivery.Op{Type: imgate.OpReadAll, Conv: conv})
		}
	default:
		err = badParam("msg_id or conversation_id is required")
	}
	if err != nil {
		return nil, err
	}
	return true, nil
}

// checkDevice checks that sn (0: none) is a device of the acting user.
func (s *Server) checkDevice(r *http.Request, c *call, sn int64) error {
	if sn == 0 {
		return nil
	}
	if sn < 0 || sn > math.MaxUint32 {
		return badParam("device_sn must be from 0 to %d", uint32(math.MaxUint32))
	}
	_, err := s.store.Device(r.Context(), c.app.ID, c.userID, uint32(sn))
	return err
}
