package imgate

import "context"

// MessageStore keeps messages, one row per message per conversation, and
// each user's read position in each conversation.
type MessageStore interface {
	// AppendMessages stores messages, each in its conversation (a chat
	// between From and To, or the group To), assigning Seq and ID, and
	// returns them in the order given. Messages of one conversation keep
	// their order. A message whose (From, FromDevice, ClientMID), with
	// ClientMID not 0, or whose (AppID, TransactionID), with TransactionID
	// not "", was stored before is not stored again: the earlier message
	// takes its place in the result, with dup true at its index. Storing a
	// message also moves its sender's read position past it. The whole
	// batch commits or none of it does.
	AppendMessages(ctx context.Context, msgs []Message) (out []Message, dup []bool, err error)
	// Messages lists user's conversation conv after the message id after
	// (0: from the start), oldest first, at most limit.
	Messages(ctx context.Context, appID string, user int64, conv Conv, after int64, limit int) ([]Message, error)
	// History lists user's conversation conv before the message id before
	// (0: from the newest), newest first, at most limit.
	History(ctx context.Context, appID string, user int64, conv Conv, before int64, limit int) ([]Message, error)
	// Message returns one message: CodeInvalidParameter if the app has none
	// with the id.
	Message(ctx context.Context, appID string, id int64) (Message, error)
	// UpdateMessage applies fn to a message in a write transaction (recall,
	// edit): CodeInvalidParameter if there is none. fn may change only
	// Content, Config, Attachment, Ext, EditedAt and Recalled.
	UpdateMessage(ctx context.Context, appID string, id int64, fn func(*Message) error) (Message, error)
	// MarkRead sets user's read position in conv to the message seq (it
	// may move back, for READ_CANCEL); positions past the conversation's
	// last message are clamped to it.
	MarkRead(ctx context.Context, appID string, user int64, conv Conv, seq int64) error
	// Unreads lists user's conversations with unread messages: a chat with
	// any user, and the groups the user is a member of. OPER messages
	// (Type TypeOper) are not counted: Count is the number of the others
	// after the user's read position, and a conversation with nothing but
	// OPER messages after it is not listed.
	Unreads(ctx context.Context, appID string, user int64) ([]Unread, error)

	// MessagesSinceRead lists user's conversation conv after the user's
	// read position, oldest first, at most limit: what a device that
	// knows nothing of the conversation yet must be sent.
	MessagesSinceRead(ctx context.Context, appID string, user int64, conv Conv, limit int) ([]Message, error)
	// Conversations lists every conversation of user that has messages
	// (chats with any user, and those of the groups the user is a member
	// of) with its latest message and the user's read position.
	Conversations(ctx context.Context, appID string, user int64) ([]ConvState, error)
	// ReadSeq returns user's read position in conv: 0 when none.
	ReadSeq(ctx context.Context, appID string, user int64, conv Conv) (int64, error)
	// HideMessage hides one message of conv from user alone (the DELETE
	// operation): Messages, History and MessagesSinceRead stop listing it
	// to that user. CodeInvalidParameter if conv has no such message.
	HideMessage(ctx context.Context, appID string, user int64, conv Conv, id int64) error
	// ClearConversation hides every message of conv so far from user and
	// marks them read (DELETE /message/conversation); later messages show
	// as usual.
	ClearConversation(ctx context.Context, appID string, user int64, conv Conv) error
}
