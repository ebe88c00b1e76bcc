package sqlstore

import (
	"context"
	"fmt"
	"math"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// convWhere selects the conversation c of a key.
const convWhere = "c.app_id = ? AND c.kind = ? AND c.a = ? AND c.b = ?"

// withConv names k the id of the conversation of a key, for queries of
// messages that refer to it more than once. A query that reads messages
// by "m.conv_id = (SELECT id FROM k)" rather than by a join runs as an
// index range scan of that one conversation in the order asked, which a
// LIMIT stops early, on both databases.
const withConv = "WITH k AS (SELECT c.id FROM conversations c WHERE " + convWhere + ") "

// notHidden leaves out the messages m that the user given as the
// parameters (app, user) hid, by the primary key of message_hides.
const notHidden = " AND NOT EXISTS (SELECT 1 FROM message_hides h" +
	" WHERE h.app_id = ? AND h.user_id = ? AND h.message_id = m.id)"

// afterCleared keeps the messages m of conversation k after the user's
// cleared position, given as the parameters (app, user). It bounds m.id
// by the id of the message at cleared_seq rather than m.seq by
// cleared_seq, which is the same within a conversation, so that lists by
// id scan no cleared message.
const afterCleared = " AND m.id > COALESCE((SELECT cm.id FROM conv_reads r" +
	" JOIN messages cm ON cm.conv_id = r.conv_id AND cm.seq = r.cleared_seq" +
	" WHERE r.app_id = ? AND r.user_id = ? AND r.conv_id = (SELECT id FROM k)), 0)"

// Messages lists user's conversation conv after the message id after,
// oldest first, at most limit; a limit of 0 or less returns none. A
// conversation's ids increase in commit order, so a cursor over them
// never skips a message committed later. Messages the user hid or
// cleared are left out.
func (s *Store) Messages(ctx context.Context, appID string, user int64, conv imgate.Conv, after int64, limit int) ([]imgate.Message, error) {
	return s.page(ctx, appID, user, conv, "m.id > ? ORDER BY m.id", after, limit)
}

// History lists user's conversation conv before the message id before (0:
// from the newest), newest first, at most limit, without the messages the
// user hid or cleared.
func (s *Store) History(ctx context.Context, appID string, user int64, conv imgate.Conv, before int64, limit int) ([]imgate.Message, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	return s.page(ctx, appID, user, conv, "m.id < ? ORDER BY m.id DESC", before, limit)
}

// page lists the messages of a conversation that match the id bound
// cond and that user sees, in cond's order, at most limit.
func (s *Store) page(ctx context.Context, appID string, user int64, conv imgate.Conv, cond string, bound int64, limit int) ([]imgate.Message, error) {
	k, err := keyFor(appID, user, conv)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: messages of user %d: %w", user, err)
	}
	if limit <= 0 {
		return []imgate.Message{}, nil
	}
	var rows []messageRow
	err = s.r.SelectContext(ctx, &rows, s.r.Rebind(withConv+"SELECT "+messageColumnsOf("m")+
		" FROM messages m WHERE m.conv_id = (SELECT id FROM k)"+afterCleared+notHidden+" AND "+cond+" LIMIT ?"),
		k.app, int(k.kind), k.a, k.b, appID, user, appID, user, bound, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: messages of user %d with %d: %w", user, conv.Peer, err)
	}
	return messagesOf(rows), nil
}

// MessagesSinceRead lists user's conversation conv after the user's read
// position and cleared position, oldest first, at most limit, without the
// messages the user hid, in one statement.
func (s *Store) MessagesSinceRead(ctx context.Context, appID string, user int64, conv imgate.Conv, limit int) ([]imgate.Message, error) {
	k, err := keyFor(appID, user, conv)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: unread messages of user %d: %w", user, err)
	}
	if limit <= 0 {
		return []imgate.Message{}, nil
	}
	var rows []messageRow
	err = s.r.SelectContext(ctx, &rows, s.r.Rebind(withConv+"SELECT "+messageColumnsOf("m")+
		" FROM messages m WHERE m.conv_id = (SELECT id FROM k)"+
		" AND m.seq > COALESCE((SELECT CASE WHEN r.read_seq > r.cleared_seq THEN r.read_seq ELSE r.cleared_seq END"+
		" FROM conv_reads r WHERE r.app_id = ? AND r.user_id = ? AND r.conv_id = (SELECT id FROM k)), 0)"+
		notHidden+" ORDER BY m.seq LIMIT ?"),
		k.app, int(k.kind), k.a, k.b, appID, user, appID, user, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: unread messages of user %d with %d: %w", user, conv.Peer, err)
	}
	return messagesOf(rows), nil
}

// Message returns one message: CodeInvalidParameter if the app has none
// with the id.
func (s *Store) Message(ctx context.Context, appID string, id int64) (imgate.Message, error) {
	var r messageRow
	err := s.r.GetContext(ctx, &r, s.r.Rebind("SELECT "+messageColumns+" FROM messages WHERE id = ? AND app_id = ?"), id, appID)
	if err != nil {
		return imgate.Message{}, fmt.Errorf("sqlstore: message %d: %w", id, notFound(err, noMessage(id)))
	}
	return r.message(), nil
}

func noMessage(id int64) *imgate.Error {
	return imgate.Errorf(imgate.CodeInvalidParameter, "no message %d", id)
}

// UpdateMessage applies fn to a message under its row lock and writes
// back the fields fn may change; changes to the others are ignored.
func (s *Store) UpdateMessage(ctx context.Context, appID string, id int64, fn func(*imgate.Message) error) (imgate.Message, error) {
	var m imgate.Message
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		var r messageRow
		err := tx.GetContext(ctx, &r, tx.Rebind("SELECT "+messageColumns+
			" FROM messages WHERE id = ? AND app_id = ?"+s.d.ForNoKeyUpdate), id, appID)
		if err != nil {
			return notFound(err, noMessage(id))
		}
		m = r.message()
		changed := m
		if err := fn(&changed); err != nil {
			return err
		}
		m.Content, m.Config, m.Attachment, m.Ext = changed.Content, changed.Config, changed.Attachment, changed.Ext
		m.EditedAt, m.Recalled = changed.EditedAt, changed.Recalled
		w := newMessageRow(r.ConvID, m)
		_, err = tx.NamedExecContext(ctx, "UPDATE messages SET "+
			namedSet("content, config, attachment, ext, edited_at, recalled")+" WHERE conv_id = :conv_id AND seq = :seq", w)
		return err
	})
	if err != nil {
		return imgate.Message{}, fmt.Errorf("sqlstore: update message %d: %w", id, err)
	}
	return m, nil
}

// MarkRead sets user's read position in conv to seq, clamped to
// [0, last_seq]. A conversation without messages has no row, and nothing
// to read: the call does nothing.
func (s *Store) MarkRead(ctx context.Context, appID string, user int64, conv imgate.Conv, seq int64) error {
	k, err := keyFor(appID, user, conv)
	if err != nil {
		return fmt.Errorf("sqlstore: mark read by user %d: %w", user, err)
	}
	seq = max(seq, 0)
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO conv_reads (app_id, user_id, conv_id, read_seq)"+
			" SELECT c.app_id, CAST(? AS BIGINT), c.id,"+
			" CASE WHEN c.last_seq < CAST(? AS BIGINT) THEN c.last_seq ELSE CAST(? AS BIGINT) END"+
			" FROM conversations c WHERE "+convWhere+
			" ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET read_seq = excluded.read_seq"),
			user, seq, seq, k.app, int(k.kind), k.a, k.b)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: mark read by user %d in %d: %w", user, conv.Peer, err)
	}
	return nil
}

// ReadSeq returns user's read position in conv: 0 when the user has
// none, or the conversation does not exist.
func (s *Store) ReadSeq(ctx context.Context, appID string, user int64, conv imgate.Conv) (int64, error) {
	k, err := keyFor(appID, user, conv)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: read position of user %d: %w", user, err)
	}
	var seq int64
	err = s.r.GetContext(ctx, &seq, s.r.Rebind("SELECT COALESCE((SELECT r.read_seq"+
		" FROM conversations c JOIN conv_reads r ON r.app_id = c.app_id AND r.conv_id = c.id"+
		" WHERE "+convWhere+" AND r.user_id = ?), 0)"),
		k.app, int(k.kind), k.a, k.b, user)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: read position of user %d in %d: %w", user, conv.Peer, err)
	}
	return seq, nil
}

// convStateRow is a conversation of a user with its latest message, the
// user's read position and the count of unread messages after it.
type convStateRow struct {
	Kind    int   `db:"kind"`
	A       int64 `db:"a"`
	B       int64 `db:"b"`
	LastSeq int64 `db:"last_seq"`
	LastID  int64 `db:"last_id"`
	ReadSeq int64 `db:"read_seq"`
	ReadID  int64 `db:"read_id"`
	Unread  int64 `db:"unread"`
}

// Unreads lists user's chats and the conversations of the groups the
// user is a member of that have messages after the user's read position
// that count as unread, newest message first, in one query.
func (s *Store) Unreads(ctx context.Context, appID string, user int64) ([]imgate.Unread, error) {
	states, err := s.convStates(ctx, appID, user, " AND x.last_n - x.read_n > 0")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: unreads of user %d: %w", user, err)
	}
	out := make([]imgate.Unread, len(states))
	for i, c := range states {
		out[i] = imgate.Unread{Conv: c.Conv, Count: c.Unread, LastID: c.LastID}
	}
	return out, nil
}

// Conversations lists user's chats and the conversations of the groups
// the user is a member of that have messages, read or not, newest message
// first, in one query.
func (s *Store) Conversations(ctx context.Context, appID string, user int64) ([]imgate.ConvState, error) {
	states, err := s.convStates(ctx, appID, user, "")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: conversations of user %d: %w", user, err)
	}
	return states, nil
}

// convStatesQuery selects the rows of convStateRow, in no order; its
// parameters are convStatesArgs. and is as in convStates.
//
// Each message and read position is read by a lookup correlated with its
// conversation (a subquery per row, by primary key), never by a join
// the planner may choose to make by hash: a generic plan cached while
// the tables were empty (a database a minute old, its prepared
// statements planned before any statistics) read every message of the
// app per login with a hash join on a sequential scan.
//
// The unread count is the count of messages after the user's read
// position that count as unread (no OPER message does): the running
// count last_n of the conversation less that n of the message at the
// read position, 0 without one. It scans no message.
func convStatesQuery(and string) string {
	return "SELECT x.kind, x.a, x.b, x.last_seq, x.last_id, x.read_seq, x.read_id," +
		" x.last_n - x.read_n AS unread FROM (SELECT y.kind, y.a, y.b, y.last_seq, y.last_n, y.last_id, y.read_seq," +
		" COALESCE((SELECT rm.id FROM messages rm WHERE rm.conv_id = y.id AND rm.seq = y.read_seq), 0) AS read_id," +
		" COALESCE((SELECT rm.n FROM messages rm WHERE rm.conv_id = y.id AND rm.seq = y.read_seq), 0) AS read_n" +
		" FROM (SELECT c.id, c.kind, c.a, c.b, c.last_seq, c.last_n," +
		" (SELECT m.id FROM messages m WHERE m.conv_id = c.id AND m.seq = c.last_seq) AS last_id," +
		" COALESCE((SELECT r.read_seq FROM conv_reads r WHERE r.app_id = c.app_id AND r.user_id = ? AND r.conv_id = c.id), 0) AS read_seq" +
		" FROM conversations c" +
		// Each arm is an index search: the chats the user is a of, those
		// the user is b of (a self-chat is in both; IN ignores the
		// duplicate), and the group conversations of the user's groups
		// (group ids are unique across apps; the app is the
		// conversation's). A condition beside b = ? on the second arm
		// made SQLite scan all the app's chats instead, and a join from
		// the groups made it scan all the app's group conversations: per
		// login, a cost that grew with the app. On Postgres the indexes
		// that fit each arm are led by the user (migration 8), and the
		// groups arm starts from the user's memberships and looks up each
		// group's conversation by its key (a group without messages has
		// none: NULL, which IN ignores); a generic plan made on empty
		// tables scanned the app's group conversations by (kind, app_id)
		// instead.
		" WHERE c.id IN (" +
		"SELECT id FROM conversations WHERE app_id = ? AND kind = 1 AND a = ?" +
		" UNION ALL SELECT id FROM conversations WHERE app_id = ? AND kind = 1 AND b = ?" +
		" UNION ALL SELECT (SELECT g.id FROM conversations g WHERE g.a = gm.group_id AND g.b = 0 AND g.kind = 2 AND g.app_id = ?)" +
		" FROM group_members gm WHERE gm.user_id = ?)) y) x" +
		// A conversation has messages, the latest at last_seq.
		" WHERE x.last_id IS NOT NULL" + and
}

// convStatesArgs are the parameters of convStatesQuery.
func convStatesArgs(appID string, user int64) []any {
	return []any{user, appID, user, appID, user, appID, user}
}

// convStates lists user's conversations that have messages, newest
// message first: the chats the user is a or b of, and the conversations
// of the groups the user is a member of. and is "" or a further condition
// on the conversation c, the user's read position r and the message rm
// at it.
func (s *Store) convStates(ctx context.Context, appID string, user int64, and string) ([]imgate.ConvState, error) {
	var rows []convStateRow
	err := s.r.SelectContext(ctx, &rows, s.r.Rebind(convStatesQuery(and)+" ORDER BY x.last_id DESC"), convStatesArgs(appID, user)...)
	if err != nil {
		return nil, err
	}
	out := make([]imgate.ConvState, 0, len(rows))
	for _, r := range rows {
		k := convKey{app: appID, kind: imgate.ConvKind(r.Kind), a: r.A, b: r.B}
		out = append(out, imgate.ConvState{
			Conv:    imgate.Conv{Kind: k.kind, Peer: k.peer(user)},
			LastSeq: r.LastSeq, LastID: r.LastID, ReadSeq: r.ReadSeq, ReadID: r.ReadID, Unread: r.Unread,
		})
	}
	return out, nil
}
