package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// Batch sizes of the notice writes, in rows per statement: a notice row
// takes ten parameters and a counter row two, which keeps a statement well
// under SQLite's limit of 32766 parameters while a notice to a group of
// the default capacity (3000) still takes one statement of each.
const (
	noticeBatch  = 3_000
	counterBatch = 10_000
)

// noticeRow is the SQL form of imgate.Notice; To is a JSON array.
type noticeRow struct {
	AppID   string `db:"app_id"`
	UserID  int64  `db:"user_id"`
	Seq     int64  `db:"seq"`
	Kind    int    `db:"kind"`
	Type    int    `db:"type"`
	FromID  int64  `db:"from_id"`
	GroupID int64  `db:"group_id"`
	ToIDs   string `db:"to_ids"`
	Content string `db:"content"`
	At      int64  `db:"at"`
}

const noticeColumns = "app_id, user_id, seq, kind, type, from_id, group_id, to_ids, content, at"

func newNoticeRow(n imgate.Notice) (noticeRow, error) {
	to, err := jsonArray(n.To)
	if err != nil {
		return noticeRow{}, fmt.Errorf("encode to of a notice to %d: %w", n.UserID, err)
	}
	return noticeRow{
		AppID: n.AppID, UserID: n.UserID, Seq: n.Seq, Kind: int(n.Kind), Type: n.Type,
		FromID: n.From, GroupID: n.GroupID, ToIDs: to, Content: n.Content, At: millis(n.At),
	}, nil
}

func (r noticeRow) notice() (imgate.Notice, error) {
	var to []int64
	if err := json.Unmarshal([]byte(r.ToIDs), &to); err != nil {
		return imgate.Notice{}, fmt.Errorf("decode to of notice %d of user %d: %w", r.Seq, r.UserID, err)
	}
	return imgate.Notice{
		AppID: r.AppID, UserID: r.UserID, Seq: r.Seq, Kind: imgate.NoticeKind(r.Kind), Type: r.Type,
		From: r.FromID, GroupID: r.GroupID, To: nilIfEmpty(to), Content: r.Content, At: fromMillis(r.At),
	}, nil
}

// Notices lists the user's notices with Seq above after, by Seq, at most
// limit; a limit of 0 or less returns none.
func (s *Store) Notices(ctx context.Context, appID string, userID int64, after int64, limit int) ([]imgate.Notice, error) {
	if limit <= 0 {
		return []imgate.Notice{}, nil
	}
	var rows []noticeRow
	err := s.r.SelectContext(ctx, &rows, s.r.Rebind("SELECT "+noticeColumns+
		" FROM notices WHERE app_id = ? AND user_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
		appID, userID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: notices of user %d: %w", userID, err)
	}
	notices := make([]imgate.Notice, 0, len(rows))
	for _, r := range rows {
		n, err := r.notice()
		if err != nil {
			return nil, fmt.Errorf("sqlstore: notices of user %d: %w", userID, err)
		}
		notices = append(notices, n)
	}
	return notices, nil
}

// outbox collects the notices of a roster or group transaction. They are
// written by flush once the callback has succeeded, so that the
// transaction bumps every recipient's counter in one pass, in ascending
// user id order, whatever order the callback notified in: two
// transactions with recipients in common then lock their counters in
// the same order and cannot deadlock on them.
type outbox struct {
	appID   string
	notices []imgate.Notice
}

// add queues notices, filling in an empty AppID. A notice of another
// app or without a recipient fails the whole call.
func (o *outbox) add(notices []imgate.Notice) error {
	queued := make([]imgate.Notice, 0, len(notices))
	for _, n := range notices {
		if n.AppID == "" {
			n.AppID = o.appID
		}
		if n.AppID != o.appID {
			return fmt.Errorf("sqlstore: notify: notice of app %q in a transaction of app %q", n.AppID, o.appID)
		}
		if n.UserID <= 0 {
			return fmt.Errorf("sqlstore: notify: notice without a recipient (user %d)", n.UserID)
		}
		queued = append(queued, n)
	}
	o.notices = append(o.notices, queued...)
	return nil
}

// flush writes the queued notices, each recipient's in the order they
// were queued, under Seqs drawn from the recipient's counter:
// CodeUserNotFound if a recipient is not a user of the app.
func (o *outbox) flush(ctx context.Context, tx *sqlx.Tx) error {
	if len(o.notices) == 0 {
		return nil
	}
	counts := make(map[int64]int64)
	for _, n := range o.notices {
		counts[n.UserID]++
	}
	last, err := bumpCounters(ctx, tx, o.appID, counts)
	if err != nil {
		return fmt.Errorf("notice seqs: %w", err)
	}
	next := make(map[int64]int64, len(last))
	for id, l := range last {
		next[id] = l - counts[id] + 1
	}
	// A recipient who is no user of the app (deleted meanwhile, say) has no
	// counter: its notices are dropped, and the change they announce goes
	// ahead, as nobody is left to tell.
	rows := make([]noticeRow, 0, len(o.notices))
	for _, n := range o.notices {
		seq, ok := next[n.UserID]
		if !ok {
			continue
		}
		n.Seq = seq
		next[n.UserID]++
		row, err := newNoticeRow(n)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	o.notices = nil
	return inChunks(rows, noticeBatch, func(batch []noticeRow) error {
		_, err := tx.NamedExecContext(ctx, "INSERT INTO notices ("+noticeColumns+") VALUES ("+values(noticeColumns)+")", batch)
		if err != nil {
			return fmt.Errorf("insert notices: %w", err)
		}
		return nil
	})
}

// bumpCounters raises each recipient's counter by its count of new
// notices, creating the counters that do not exist yet, and returns the
// counters' new values. The upsert takes the users in ascending id order,
// and it joins users so that a recipient who is not a user of the app is
// left out rather than failing the statement. The join is a CROSS JOIN
// with the list first because SQLite then looks each listed id up by key,
// where it would otherwise scan the list once per user of the app.
func bumpCounters(ctx context.Context, tx *sqlx.Tx, appID string, counts map[int64]int64) (map[int64]int64, error) {
	ids := slices.Sorted(maps.Keys(counts))
	last := make(map[int64]int64, len(ids))
	err := inChunks(ids, counterBatch, func(batch []int64) error {
		return bumpBatch(ctx, tx, appID, batch, counts, last)
	})
	if err != nil {
		return nil, err
	}
	return last, nil
}

// bumpBatch bumps the counters of one batch of ascending ids into last.
func bumpBatch(ctx context.Context, tx *sqlx.Tx, appID string, ids []int64, counts, last map[int64]int64) error {
	q := "INSERT INTO notice_seqs (app_id, user_id, last)" +
		" SELECT u.app_id, u.id, v.column2 FROM (VALUES " + bigintRows(len(ids), 2) + ")" +
		" AS v CROSS JOIN users u WHERE u.id = v.column1 AND u.app_id = ? ORDER BY u.id" +
		" ON CONFLICT (app_id, user_id) DO UPDATE SET last = notice_seqs.last + excluded.last" +
		" RETURNING user_id, last"
	args := make([]any, 0, 2*len(ids)+1)
	for _, id := range ids {
		args = append(args, id, counts[id])
	}
	args = append(args, appID)
	rows, err := tx.QueryxContext(ctx, tx.Rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, l int64
		if err := rows.Scan(&id, &l); err != nil {
			return err
		}
		last[id] = l
	}
	return rows.Err()
}
