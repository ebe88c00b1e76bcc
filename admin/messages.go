package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
)

// Target types of MessageRequest.type.
const (
	targetUsers  = 1
	targetGroups = 2
)

// The content types of MessageRequest beyond the message's own (0-8):
// operations on the message related_mid.
const (
	ctypeReadAck = 9
	ctypeRecall  = 10
	ctypeAppend  = 11
	ctypeReplace = 12
)

// opOfCType maps the REST operation content types to XSYNC operations.
var opOfCType = map[int]int{
	ctypeReadAck: imgate.OpReadAck,
	ctypeRecall:  imgate.OpRecall,
	ctypeAppend:  imgate.OpAppend,
	ctypeReplace: imgate.OpReplace,
}

// maxTransactionIDLen bounds transaction_id, in bytes.
const maxTransactionIDLen = 64

func (s *Server) messageRoutes() {
	s.handle("/message/send", anyToken, s.sendMessage, post, put)
	s.handle("/message/notify", adminOnly, s.notify, post, put)
	s.handle("/message/recall", anyToken, s.recall, post, put)
	s.handle("/message/broadcast", adminOnly, s.broadcast, post)
	s.handle("/message/conversation", asUser, s.history, get)
	s.handle("/message/conversation", asUser, s.deleteConversation, del)
	s.handle("/message/unread", asUser, s.unread, get)
	s.handle("/message/ack", asUser, s.ack, get)
}

// optionalID is an optional id in a body: as id, and null is 0.
type optionalID int64

// UnmarshalJSON accepts null, a JSON number or a string of digits.
func (o *optionalID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = 0
		return nil
	}
	var v id
	if err := v.UnmarshalJSON(b); err != nil {
		return err
	}
	*o = optionalID(v)
	return nil
}

// transactionID is a transaction_id: an int64 in MaxIM's Swagger; strings
// are taken as well. null and "" are none.
type transactionID string

// UnmarshalJSON accepts null, an integer or a string.
func (t *transactionID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*t = transactionID(v)
		return nil
	}
	if _, err := strconv.ParseInt(string(b), 10, 64); err != nil {
		return fmt.Errorf("bad transaction_id %s", b)
	}
	*t = transactionID(b)
	return nil
}

// messageRequest is MessageRequest, the body of /message/send and
// /message/notify.
type messageRequest struct {
	Type          *int          `json:"type"`
	Targets       []id          `json:"targets"`
	ContentType   *int          `json:"content_type"`
	Content       string        `json:"content"`
	Attachment    string        `json:"attachment"`
	Config        string        `json:"config"`
	Ext           string        `json:"ext"`
	FromUserID    optionalID    `json:"from_user_id"`
	RelatedMID    optionalID    `json:"related_mid"`
	TransactionID transactionID `json:"transaction_id"`
	// OnlineOnly asks that only online devices get the message. imgate has
	// no live-only delivery yet: such messages are stored and delivered
	// like any other, online devices at once and the others when they sync.
	OnlineOnly *bool `json:"online_only"`
}

// decodeMessage reads and checks a MessageRequest whose content_type is
// at most maxCType.
func (s *Server) decodeMessage(r *http.Request, maxCType int) (messageRequest, error) {
	var req messageRequest
	if err := s.decode(r, &req); err != nil {
		return req, err
	}
	switch {
	case req.Type == nil:
		return req, badParam("type is required")
	case *req.Type != targetUsers && *req.Type != targetGroups:
		return req, badParam("type must be 1 (users) or 2 (groups)")
	case req.ContentType == nil:
		return req, badParam("content_type is required")
	case *req.ContentType < 0 || *req.ContentType > maxCType:
		return req, badParam("content_type must be from 0 to %d", maxCType)
	case len(req.TransactionID) > maxTransactionIDLen:
		return req, badParam("transaction_id is longer than %d bytes", maxTransactionIDLen)
	}
	// The list as sent is bounded before anything is done per entry:
	// duplicates count, as they cost their share of the work.
	if err := s.checkList("targets", len(req.Targets)); err != nil {
		return req, err
	}
	for _, t := range req.Targets {
		if t <= 0 {
			return req, badParam("targets must be positive ids")
		}
	}
	req.Targets = idsOf(uniqueIDs(ids(req.Targets)))
	return req, nil
}

func idsOf(in []int64) []id {
	out := make([]id, len(in))
	for i, v := range in {
		out[i] = id(v)
	}
	return out
}

// messages are the request's messages, one to each target. A transaction
// id dedupes per target, so that a resent request stores nothing again
// while one request still reaches every target.
func (req messageRequest) messages(system bool) []imgate.Message {
	kind, typ, tag := imgate.ConvChat, imgate.TypeChat, "u"
	if *req.Type == targetGroups {
		kind, typ, tag = imgate.ConvGroup, imgate.TypeGroupChat, "g"
	}
	out := make([]imgate.Message, len(req.Targets))
	for i, t := range req.Targets {
		out[i] = imgate.Message{
			Kind: kind, To: int64(t), Type: typ, CType: *req.ContentType, Content: req.Content,
			Config: req.Config, Attachment: req.Attachment, Ext: req.Ext, System: system,
		}
		if req.TransactionID != "" {
			out[i].TransactionID = fmt.Sprintf("%s/%s%d", req.TransactionID, tag, t)
		}
	}
	return out
}

// sender is who sends for the call: a user token's user (from_user_id, if
// given, must be that user); for an admin token, with its rights, the user
// from_user_id, else the user of the user_id header, else the system.
func (s *Server) sender(ctx context.Context, c *call, from int64) (delivery.Sender, error) {
	snd := delivery.Sender{App: c.app.ID, User: c.userID, Admin: c.admin()}
	switch {
	case !c.admin() && from != 0 && from != c.userID:
		return snd, imgate.Errorf(imgate.CodeForbidden, "from_user_id other than the token's user needs an admin token")
	case !c.admin():
	case from != 0:
		if _, err := s.userStatus(ctx, c.app.ID, from); err != nil {
			return snd, err
		}
		snd.User = from
	case snd.User == 0:
		snd.User = imgate.SystemUser
	}
	return snd, nil
}

// POST|PUT /message/send MessageRequest: one message to each target, all
// users (type 1) or all groups (type 2); content_type 9-12 instead apply
// READ_ACK, RECALL, APPEND or REPLACE to the message related_mid. The
// answer is data true with msg_ids, the ids of the messages in the order
// of the targets (MaxIM gives them only for one target; imgate always
// does). Nothing is stored unless every target may be sent to.
func (s *Server) sendMessage(r *http.Request, c *call) (any, error) {
	req, err := s.decodeMessage(r, ctypeReplace)
	if err != nil {
		return nil, err
	}
	from, err := s.sender(r.Context(), c, int64(req.FromUserID))
	if err != nil {
		return nil, err
	}
	if op, ok := opOfCType[*req.ContentType]; ok {
		return s.sendOperation(r.Context(), from, op, req)
	}
	return s.send(r.Context(), from, req.messages(from.User == imgate.SystemUser))
}

// POST|PUT /message/notify MessageRequest: as /message/send, but every
// message is a system notification (is_system), and no operations.
func (s *Server) notify(r *http.Request, c *call) (any, error) {
	req, err := s.decodeMessage(r, ctypeReadAck-1)
	if err != nil {
		return nil, err
	}
	from, err := s.sender(r.Context(), c, int64(req.FromUserID))
	if err != nil {
		return nil, err
	}
	return s.send(r.Context(), from, req.messages(true))
}

func (s *Server) send(ctx context.Context, from delivery.Sender, msgs []imgate.Message) (any, error) {
	out, _, err := s.core.Send(ctx, from, msgs)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(out))
	for i, m := range out {
		ids[i] = m.ID
	}
	return sent{MsgIDs: ids}, nil
}

// sendOperation applies an operation content type of /message/send. The
// targets are required by the schema but play no part: the operation
// applies in the conversation of related_mid. A transaction_id does not
// dedupe operations.
func (s *Server) sendOperation(ctx context.Context, from delivery.Sender, op int, req messageRequest) (any, error) {
	mid := int64(req.RelatedMID)
	if mid <= 0 {
		return nil, badParam("related_mid is required for content_type %d", *req.ContentType)
	}
	o := delivery.Op{Type: op, MID: mid, Content: req.Content, Config: req.Config, Ext: req.Ext}
	if err := s.operate(ctx, from, o); err != nil {
		return nil, err
	}
	return true, nil
}

// operate applies an operation on a message. A read receipt is a user's
// own, with no admin rights: it needs a user, who must see the message.
// Recall and edits by an admin token act as the message's sender when
// the token acts for a user outside the message's chat (or as the
// system), so that the operation lands in the chat itself; in a group
// they come from whom the token acts as.
func (s *Server) operate(ctx context.Context, from delivery.Sender, op delivery.Op) error {
	if op.Type == imgate.OpReadAck {
		if from.User == imgate.SystemUser {
			return badParam("a read receipt by an admin token needs from_user_id or the user_id header")
		}
		from.Admin = false
		_, err := s.core.Operate(ctx, from, op)
		return err
	}
	if from.Admin {
		m, err := s.store.Message(ctx, from.App, op.MID)
		if err != nil {
			return err
		}
		if m.Kind == imgate.ConvChat && from.User != m.From && from.User != m.To {
			from.User = m.From
		}
	}
	_, err := s.core.Operate(ctx, from, op)
	return err
}

// POST|PUT /message/recall {conversation_id, msg_id}: the sender recalls
// a message within the core's recall window, a group's owner or admins a
// member's message, an admin token any message. conversation_id, when
// given, must be the message's: its group, or either side of its chat.
func (s *Server) recall(r *http.Request, c *call) (any, error) {
	var req struct {
		ConversationID optionalID `json:"conversation_id"`
		MsgID          optionalID `json:"msg_id"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	mid, cid := int64(req.MsgID), int64(req.ConversationID)
	if err := firstErr(positive("msg_id", mid), notNegative("conversation_id", cid)); err != nil {
		return nil, err
	}
	if err := s.checkConversation(r.Context(), c.app.ID, mid, cid); err != nil {
		return nil, err
	}
	from, err := s.sender(r.Context(), c, 0)
	if err != nil {
		return nil, err
	}
	if err := s.operate(r.Context(), from, delivery.Op{Type: imgate.OpRecall, MID: mid}); err != nil {
		return nil, err
	}
	return true, nil
}

func notNegative(field string, v int64) error {
	if v < 0 {
		return badParam("%s must not be negative", field)
	}
	return nil
}

// checkConversation checks that the message mid is in the conversation
// cid (0: any), named from either side.
func (s *Server) checkConversation(ctx context.Context, app string, mid, cid int64) error {
	if cid == 0 {
		return nil
	}
	m, err := s.store.Message(ctx, app, mid)
	if err != nil {
		return err
	}
	if cid != m.To && (m.Kind == imgate.ConvGroup || cid != m.From) {
		return badParam("no message %d in conversation %d", mid, cid)
	}
	return nil
}
