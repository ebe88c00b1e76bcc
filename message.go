package imgate

import "time"

// ConvKind tells a one-to-one conversation from a group's; the values are
// XSYNC's ConversationUnread.type.
type ConvKind int

// Conversation kinds.
const (
	ConvChat  ConvKind = 1
	ConvGroup ConvKind = 2
)

// Conv names a conversation as one of its users sees it: Peer is the
// other user of a chat or the group's id.
type Conv struct {
	Kind ConvKind
	Peer int64
}

// Message is one message in a conversation, stored once per conversation
// (not once per recipient).
type Message struct {
	// ID is the server_mid: unique in the deployment and strictly
	// increasing within the conversation in commit order, so that a sync
	// cursor over it never skips a message committed concurrently.
	ID    int64
	AppID string
	Kind  ConvKind
	// Seq is the message's position in its conversation: 1, 2, 3… with no
	// gap, in the order of ID, OPER messages included. Read positions use
	// it; unread counts count the messages after one that are not OPER
	// messages.
	Seq        int64
	From       int64
	FromDevice uint32 // 0 for messages sent over REST
	To         int64  // the peer user (chat) or the group
	// Type and CType are XSYNC's MessageBody.type and ctype.
	Type       int
	CType      int
	Content    string
	Config     string
	Attachment string
	Ext        string
	System     bool // sent by an admin as a system notification
	// ClientMID is the client's id of a message sent over WebSocket; with
	// From and FromDevice it dedupes resends. 0 for REST.
	ClientMID int64
	// TransactionID dedupes REST sends within the app; "" for none.
	TransactionID string
	At            time.Time
	EditedAt      time.Time // zero unless edited (APPEND, REPLACE)
	Recalled      bool
	// Op and OpMID are the operation of an OPER message stored in the
	// conversation (RECALL, APPEND, REPLACE: XSYNC's
	// MessageOperation.type) and the message it applies to; 0 otherwise.
	Op    int
	OpMID int64
}

// SystemUser is the sender of messages an admin token sends as nobody
// (REST /message/send and /message/notify without from_user_id, and
// /message/broadcast). It is no user's id (user ids start at 100000000)
// and not 0, which no conversation may have as a side: a user sees the
// system's messages in a chat with this id, with unread counts and
// history like any other, flagged is_system.
const SystemUser int64 = 1

// Message types, XSYNC's MessageBody.type.
const (
	TypeNormal    = 0
	TypeOper      = 1
	TypeChat      = 2
	TypeGroupChat = 3
)

// Operations, XSYNC's MessageOperation.type.
const (
	OpReadAck    = 1
	OpReadAll    = 2
	OpReadCancel = 3
	OpDeliverAck = 4
	OpRecall     = 5
	OpDelete     = 6
	OpPlayAck    = 7
	OpAppend     = 8
	OpReplace    = 9
)

// CTypeCommand is the content type of OPER messages (and of custom
// commands), XSYNC's MessageBody.ctype COMMAND.
const CTypeCommand = 6

// ConvOf is the conversation of the message as user sees it.
func (m Message) ConvOf(user int64) Conv {
	switch {
	case m.Kind == ConvGroup:
		return Conv{Kind: ConvGroup, Peer: m.To}
	case m.From == user:
		return Conv{Kind: ConvChat, Peer: m.To}
	}
	return Conv{Kind: ConvChat, Peer: m.From}
}

// Unread is a conversation with messages a user has not read.
type Unread struct {
	Conv   Conv
	Count  int64 // messages after the user's read position, OPER messages (TypeOper) left out
	LastID int64 // the id of the conversation's latest message
}

// ConvState is a conversation with its latest message and one user's read
// position in it.
type ConvState struct {
	Conv    Conv
	LastSeq int64 // the Seq of the latest message
	LastID  int64 // the id of the latest message
	ReadSeq int64 // the user's read position: the Seq of the last message read
	ReadID  int64 // the id of the message at ReadSeq; 0 when ReadSeq is 0
	Unread  int64 // messages after ReadSeq, OPER messages left out, as Unread.Count
}
