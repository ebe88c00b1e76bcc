package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

var _ imgate.MessageStore = (*Store)(nil)

// midKey and txKey are the two dedupe keys of a message. A client_mid
// dedupes only a message of the same hash (clientHash).
type midKey struct {
	app       string
	from      int64
	device    uint32
	clientMID int64
	hash      int64
}

func midKeyOf(m imgate.Message, hash int64) midKey {
	return midKey{m.AppID, m.From, m.FromDevice, m.ClientMID, hash}
}

type txKey struct {
	app, id string
}

// conv is a conversation row locked by the append: its id and, once
// bumped, its last seq and last n.
type conv struct {
	id, last, lastN int64
}

// appender is one AppendMessages call in its transaction.
type appender struct {
	ctx  context.Context
	tx   *sqlx.Tx
	d    Dialect
	msgs []imgate.Message
	keys []convKey
	// same is the index of the earlier message of the batch that message
	// i repeats, or -1.
	same []int
	// stored is the stored message that message i repeats, if any.
	stored map[int]imgate.Message
	// count is the number of new messages of each conversation, and
	// counted the number of those that count as unread.
	count   map[convKey]int64
	counted map[convKey]int64
	convs   map[convKey]conv
	out     []imgate.Message
	dup     []bool
}

// AppendMessages stores a batch of messages in one transaction. Each
// conversation's row is upserted and its last_seq bumped by the batch's
// new messages, and its last_n by those of them that count as unread, in
// one statement, which locks the row until commit; rows
// are taken in ascending key order, so batches that share conversations
// cannot deadlock. Only then are the batch's ids drawn, so ids and seqs
// of a conversation increase in commit order. Dedupe runs under those
// locks, so a resend racing its original finds it.
func (s *Store) AppendMessages(ctx context.Context, msgs []imgate.Message) ([]imgate.Message, []bool, error) {
	if len(msgs) == 0 {
		return []imgate.Message{}, []bool{}, nil
	}
	keys := make([]convKey, len(msgs))
	for i, m := range msgs {
		k, err := keyOf(m)
		if err != nil {
			return nil, nil, fmt.Errorf("sqlstore: append messages: %w", err)
		}
		keys[i] = k
	}
	var a *appender
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		a = &appender{ctx: ctx, tx: tx, d: s.d, msgs: msgs, keys: keys}
		if err := a.run(); err != nil {
			return err
		}
		return s.writeMessageEvents(ctx, tx, a.out, a.dup, a.keys)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: append %d messages: %w", len(msgs), err)
	}
	return a.out, a.dup, nil
}

func (a *appender) run() error {
	a.dedupeBatch()
	if err := a.bump(); err != nil {
		return err
	}
	if err := a.dedupeStored(); err != nil {
		return err
	}
	rows, err := a.assign()
	if err != nil {
		return err
	}
	err = inChunks(rows, messageBatch, func(batch []messageRow) error {
		_, err := a.tx.NamedExecContext(a.ctx, "INSERT INTO messages ("+insertColumns+") VALUES ("+values(insertColumns)+")", batch)
		if err != nil {
			return fmt.Errorf("insert messages: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return a.markSenders()
}

// dedupeBatch finds the messages that repeat an earlier one of the batch
// and counts the others by conversation.
func (a *appender) dedupeBatch() {
	a.same = make([]int, len(a.msgs))
	a.count = make(map[convKey]int64)
	a.counted = make(map[convKey]int64)
	mids := make(map[midKey]int)
	txs := make(map[txKey]int)
	for i, m := range a.msgs {
		a.same[i] = -1
		if m.ClientMID != 0 {
			k := midKeyOf(m, clientHash(m))
			if j, ok := mids[k]; ok {
				a.same[i] = j
				continue
			}
			mids[k] = i
		}
		if m.TransactionID != "" {
			k := txKey{m.AppID, m.TransactionID}
			if j, ok := txs[k]; ok {
				a.same[i] = j
				continue
			}
			txs[k] = i
		}
		a.count[a.keys[i]]++
		if counts(m) {
			a.counted[a.keys[i]]++
		}
	}
}

// bump upserts the batch's conversations in ascending key order, raising
// each last_seq by its count of new messages and each last_n by its count
// of those that count as unread.
func (a *appender) bump() error {
	keys := slices.SortedFunc(maps.Keys(a.count), convKey.compare)
	a.convs = make(map[convKey]conv, len(keys))
	return inChunks(keys, convBatch, func(batch []convKey) error {
		var q strings.Builder
		q.WriteString("INSERT INTO conversations (app_id, kind, a, b, group_id, last_seq, last_n) VALUES ")
		args := make([]any, 0, 7*len(batch))
		for i, k := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			group := sql.NullInt64{Int64: k.a, Valid: k.kind == imgate.ConvGroup}
			args = append(args, k.app, int(k.kind), k.a, k.b, group, a.count[k], a.counted[k])
		}
		q.WriteString(" ON CONFLICT (app_id, kind, a, b) DO UPDATE SET last_seq = conversations.last_seq + excluded.last_seq," +
			" last_n = conversations.last_n + excluded.last_n RETURNING id, app_id, kind, a, b, last_seq, last_n")
		rows, err := a.tx.QueryxContext(a.ctx, a.tx.Rebind(q.String()), args...)
		if err != nil {
			return fmt.Errorf("bump conversations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k convKey
			var c conv
			if err := rows.Scan(&c.id, &k.app, &k.kind, &k.a, &k.b, &c.last, &c.lastN); err != nil {
				return fmt.Errorf("bump conversations: %w", err)
			}
			a.convs[k] = c
		}
		return rows.Err()
	})
}

// dedupeStored finds the messages that repeat a stored one and takes
// them off their conversations' last_seq and last_n again. Resends are
// rare, so the bump counts them first and is undone here, under the lock
// it took.
func (a *appender) dedupeStored() error {
	a.stored = make(map[int]imgate.Message)
	var fresh []int
	for i, m := range a.msgs {
		if a.same[i] < 0 && (m.ClientMID != 0 || m.TransactionID != "") {
			fresh = append(fresh, i)
		}
	}
	err := inChunks(fresh, dedupeBatch, a.findStored)
	if err != nil || len(a.stored) == 0 {
		return err
	}
	undo := make(map[convKey]int64)
	undoN := make(map[convKey]int64)
	for i := range a.stored {
		k := a.keys[i]
		undo[k]++
		a.count[k]--
		if counts(a.msgs[i]) {
			undoN[k]++
			a.counted[k]--
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(undo), convKey.compare) {
		c := a.convs[k]
		c.last -= undo[k]
		c.lastN -= undoN[k]
		a.convs[k] = c
		_, err := a.tx.ExecContext(a.ctx, a.tx.Rebind("UPDATE conversations SET last_seq = ?, last_n = ? WHERE id = ?"),
			c.last, c.lastN, c.id)
		if err != nil {
			return fmt.Errorf("undo bump of conversation %d: %w", c.id, err)
		}
	}
	return nil
}

// findStored looks the dedupe keys of the messages idx up.
func (a *appender) findStored(idx []int) error {
	var mids, txs []string
	var midArgs, txArgs []any
	for _, i := range idx {
		m := a.msgs[i]
		if m.ClientMID != 0 {
			mids = append(mids, "(?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))")
			midArgs = append(midArgs, m.AppID, m.From, int64(m.FromDevice), m.ClientMID)
		}
		if m.TransactionID != "" {
			txs = append(txs, "(?, ?)")
			txArgs = append(txArgs, m.AppID, m.TransactionID)
		}
	}
	var parts []string
	if len(mids) > 0 {
		parts = append(parts, "SELECT "+messageColumns+", client_hash FROM messages WHERE client_mid <> 0"+
			" AND (app_id, from_id, from_device, client_mid) IN (VALUES "+strings.Join(mids, ", ")+")")
	}
	if len(txs) > 0 {
		parts = append(parts, "SELECT "+messageColumns+", client_hash FROM messages WHERE transaction_id <> ''"+
			" AND (app_id, transaction_id) IN (VALUES "+strings.Join(txs, ", ")+")")
	}
	var rows []messageRow
	err := a.tx.SelectContext(a.ctx, &rows, a.tx.Rebind(strings.Join(parts, " UNION ALL ")), append(midArgs, txArgs...)...)
	if err != nil {
		return fmt.Errorf("find resent messages: %w", err)
	}
	byMID := make(map[midKey]imgate.Message, len(rows))
	byTx := make(map[txKey]imgate.Message, len(rows))
	for _, r := range rows {
		m := r.message()
		if m.ClientMID != 0 {
			byMID[midKeyOf(m, r.ClientHash)] = m
		}
		if m.TransactionID != "" {
			byTx[txKey{m.AppID, m.TransactionID}] = m
		}
	}
	for _, i := range idx {
		m := a.msgs[i]
		if old, ok := storedResend(byMID, m); ok {
			a.stored[i] = old
		} else if old, ok := byTx[txKey{m.AppID, m.TransactionID}]; ok && m.TransactionID != "" {
			a.stored[i] = old
		}
	}
	return nil
}

// storedResend finds the stored message that m, with a client_mid, is a
// resend of: one of its client_mid and hash, or one stored before hashes
// were (hash 0), which the client_mid alone dedupes.
func storedResend(byMID map[midKey]imgate.Message, m imgate.Message) (imgate.Message, bool) {
	if m.ClientMID == 0 {
		return imgate.Message{}, false
	}
	if old, ok := byMID[midKeyOf(m, clientHash(m))]; ok {
		return old, true
	}
	old, ok := byMID[midKeyOf(m, 0)]
	return old, ok
}

// assign gives the new messages their seqs and ids, in the order of the
// batch, and their rows the running count n of the messages that count
// as unread, and fills in the result.
func (a *appender) assign() ([]messageRow, error) {
	next := make(map[convKey]int64, len(a.convs))
	counted := make(map[convKey]int64, len(a.convs))
	n := 0
	for k, c := range a.convs {
		next[k] = c.last - a.count[k] + 1
		counted[k] = c.lastN - a.counted[k]
		n += int(a.count[k])
	}
	var ids []int64
	if n > 0 {
		var err error
		if ids, err = a.d.NextIDs(a.ctx, a.tx, n); err != nil {
			return nil, fmt.Errorf("message ids: %w", err)
		}
	}
	a.out = make([]imgate.Message, len(a.msgs))
	a.dup = make([]bool, len(a.msgs))
	rows := make([]messageRow, 0, n)
	for i, m := range a.msgs {
		if j := a.same[i]; j >= 0 {
			a.out[i], a.dup[i] = a.out[j], true
			continue
		}
		if old, ok := a.stored[i]; ok {
			a.out[i], a.dup[i] = old, true
			continue
		}
		k := a.keys[i]
		m.Seq, m.ID = next[k], ids[len(rows)]
		next[k]++
		if counts(m) {
			counted[k]++
		}
		a.out[i] = m
		r := newMessageRow(a.convs[k].id, m)
		r.N = counted[k]
		rows = append(rows, r)
	}
	return rows, nil
}

// readPos is a sender's read position to move forward.
type readPos struct {
	user, conv int64
}

// markSenders moves each sender's read position in each conversation to
// its last new message there, never back. Senders who are no users of the
// app (a system sender) are left out by the join.
func (a *appender) markSenders() error {
	byApp := make(map[string]map[readPos]int64)
	for i, m := range a.out {
		if a.dup[i] || m.From <= 0 {
			continue
		}
		if byApp[m.AppID] == nil {
			byApp[m.AppID] = make(map[readPos]int64)
		}
		p := readPos{user: m.From, conv: a.convs[a.keys[i]].id}
		byApp[m.AppID][p] = max(byApp[m.AppID][p], m.Seq)
	}
	for _, app := range slices.Sorted(maps.Keys(byApp)) {
		seqs := byApp[app]
		pos := slices.SortedFunc(maps.Keys(seqs), func(x, y readPos) int {
			if c := cmpInt(x.user, y.user); c != 0 {
				return c
			}
			return cmpInt(x.conv, y.conv)
		})
		err := inChunks(pos, readBatch, func(batch []readPos) error {
			return a.markBatch(app, batch, seqs)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *appender) markBatch(app string, batch []readPos, seqs map[readPos]int64) error {
	q := "INSERT INTO conv_reads (app_id, user_id, conv_id, read_seq)" +
		" SELECT u.app_id, u.id, v.column2, v.column3 FROM (VALUES " + bigintRows(len(batch), 3) + ")" +
		" AS v CROSS JOIN users u WHERE u.id = v.column1 AND u.app_id = ? ORDER BY u.id, v.column2" +
		" ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET read_seq = excluded.read_seq" +
		" WHERE excluded.read_seq > conv_reads.read_seq"
	args := make([]any, 0, 3*len(batch)+1)
	for _, p := range batch {
		args = append(args, p.user, p.conv, seqs[p])
	}
	args = append(args, app)
	if _, err := a.tx.ExecContext(a.ctx, a.tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("move senders' read positions: %w", err)
	}
	return nil
}
