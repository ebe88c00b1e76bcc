package sqlstore

import (
	"fmt"
	"strings"

	"github.com/imgate/imgate"
)

// Batch sizes of the message writes, in rows per statement: a message row
// takes 23 parameters, a conversation row 7, a read row 3 and a dedupe
// key at most 4, all well under SQLite's limit of 32766 parameters.
const (
	messageBatch = 1_000
	convBatch    = 2_000
	readBatch    = 5_000
	dedupeBatch  = 2_000
)

// messageRow is the SQL form of imgate.Message.
type messageRow struct {
	ConvID        int64  `db:"conv_id"`
	Seq           int64  `db:"seq"`
	ID            int64  `db:"id"`
	AppID         string `db:"app_id"`
	Kind          int    `db:"kind"`
	FromID        int64  `db:"from_id"`
	FromDevice    int64  `db:"from_device"`
	ToID          int64  `db:"to_id"`
	Type          int    `db:"type"`
	CType         int    `db:"ctype"`
	Content       string `db:"content"`
	Config        string `db:"config"`
	Attachment    string `db:"attachment"`
	Ext           string `db:"ext"`
	System        bool   `db:"system"`
	ClientMID     int64  `db:"client_mid"`
	TransactionID string `db:"transaction_id"`
	At            int64  `db:"at"`
	EditedAt      int64  `db:"edited_at"`
	Recalled      bool   `db:"recalled"`
	Op            int    `db:"op"`
	OpMID         int64  `db:"op_mid"`
	// N is the number of the conversation's messages up to and including
	// this one that count as unread: see counts. Only the append writes
	// it; reads leave it out.
	N int64 `db:"n"`
	// ClientHash tells a resend of a client_mid from another message
	// (clientHash); only the append writes and reads it.
	ClientHash int64 `db:"client_hash"`
}

const messageColumns = "conv_id, seq, id, app_id, kind, from_id, from_device, to_id, type, ctype, content," +
	" config, attachment, ext, system, client_mid, transaction_id, at, edited_at, recalled, op, op_mid"

// insertColumns are the columns the append writes: messageColumns, n
// and client_hash.
const insertColumns = messageColumns + ", n, client_hash"

// counts tells whether m counts as unread: OPER messages, which carry an
// operation on another message for the devices to apply, do not.
func counts(m imgate.Message) bool {
	return m.Type != imgate.TypeOper
}

// messageColumnsOf is messageColumns qualified by a table alias.
func messageColumnsOf(alias string) string {
	names := columnNames(messageColumns)
	for i, n := range names {
		names[i] = alias + "." + n
	}
	return strings.Join(names, ", ")
}

// newMessageRow is the row of m in the conversation convID, with N 0: the
// append sets it.
func newMessageRow(convID int64, m imgate.Message) messageRow {
	return messageRow{
		ConvID: convID, Seq: m.Seq, ID: m.ID, AppID: m.AppID, Kind: int(m.Kind),
		FromID: m.From, FromDevice: int64(m.FromDevice), ToID: m.To, Type: m.Type, CType: m.CType,
		Content: m.Content, Config: m.Config, Attachment: m.Attachment, Ext: m.Ext, System: m.System,
		ClientMID: m.ClientMID, TransactionID: m.TransactionID, ClientHash: clientHash(m),
		At: millis(m.At), EditedAt: millis(m.EditedAt), Recalled: m.Recalled, Op: m.Op, OpMID: m.OpMID,
	}
}

func (r messageRow) message() imgate.Message {
	return imgate.Message{
		ID: r.ID, AppID: r.AppID, Kind: imgate.ConvKind(r.Kind), Seq: r.Seq,
		From: r.FromID, FromDevice: uint32(r.FromDevice), To: r.ToID, Type: r.Type, CType: r.CType,
		Content: r.Content, Config: r.Config, Attachment: r.Attachment, Ext: r.Ext, System: r.System,
		ClientMID: r.ClientMID, TransactionID: r.TransactionID,
		At: fromMillis(r.At), EditedAt: fromMillis(r.EditedAt), Recalled: r.Recalled, Op: r.Op, OpMID: r.OpMID,
	}
}

func messagesOf(rows []messageRow) []imgate.Message {
	out := make([]imgate.Message, len(rows))
	for i, r := range rows {
		out[i] = r.message()
	}
	return out
}

// convKey is the unique key of a conversation row: a chat between the
// users a <= b, or the group a with b 0.
type convKey struct {
	app  string
	kind imgate.ConvKind
	a, b int64
}

func (k convKey) compare(o convKey) int {
	switch {
	case k.app != o.app:
		return strings.Compare(k.app, o.app)
	case k.kind != o.kind:
		return int(k.kind) - int(o.kind)
	case k.a != o.a:
		return cmpInt(k.a, o.a)
	}
	return cmpInt(k.b, o.b)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// peer is the other side of the conversation as user sees it.
func (k convKey) peer(user int64) int64 {
	if k.kind == imgate.ConvChat && k.a == user {
		return k.b
	}
	return k.a
}

// keyFor is the key of user's conversation conv in the app.
func keyFor(appID string, user int64, conv imgate.Conv) (convKey, error) {
	switch conv.Kind {
	case imgate.ConvChat:
		return convKey{app: appID, kind: imgate.ConvChat, a: min(user, conv.Peer), b: max(user, conv.Peer)}, nil
	case imgate.ConvGroup:
		return convKey{app: appID, kind: imgate.ConvGroup, a: conv.Peer}, nil
	}
	return convKey{}, imgate.Errorf(imgate.CodeInvalidParameter, "unknown conversation kind %d", conv.Kind)
}

// keyOf is the key of the conversation a message goes to.
func keyOf(m imgate.Message) (convKey, error) {
	if m.AppID == "" || m.To <= 0 || m.From < 0 || (m.Kind == imgate.ConvChat && m.From == 0) {
		return convKey{}, imgate.Errorf(imgate.CodeInvalidParameter,
			"message of app %q from %d to %d: no app, sender or recipient", m.AppID, m.From, m.To)
	}
	k, err := keyFor(m.AppID, m.From, imgate.Conv{Kind: m.Kind, Peer: m.To})
	if err != nil {
		return convKey{}, fmt.Errorf("message from %d to %d: %w", m.From, m.To, err)
	}
	return k, nil
}
