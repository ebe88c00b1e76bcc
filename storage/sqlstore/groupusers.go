package sqlstore

import (
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// UserGroups locks the users' rows (FOR NO KEY UPDATE, which leaves the
// foreign key checks of other inserts free; on SQLite writers are
// serialised anyway) in id order, then counts their groups in a
// statement of its own: under READ COMMITTED it sees what the
// transactions it waited for committed.
func (t *groupTx) UserGroups(userIDs ...int64) (map[int64]imgate.UserGroupCount, error) {
	out := map[int64]imgate.UserGroupCount{}
	if len(userIDs) == 0 {
		return out, nil
	}
	ids := slices.Sorted(slices.Values(userIDs))
	ids = slices.Compact(ids)
	if err := t.lockUsers(ids); err != nil {
		return nil, t.fail(err, "lock users")
	}
	q, args, err := sqlx.In(`SELECT u.id,
		(SELECT COUNT(*) FROM groups g WHERE g.app_id = u.app_id AND g.owner_id = u.id) AS owned,
		(SELECT COUNT(*) FROM group_members m JOIN groups g ON g.id = m.group_id
			WHERE m.user_id = u.id AND g.app_id = u.app_id) AS joined
		FROM users u WHERE u.app_id = ? AND u.id IN (?)`, t.g.AppID, ids)
	if err != nil {
		return nil, t.fail(err, "count groups of users")
	}
	var rows []struct {
		ID     int64 `db:"id"`
		Owned  int   `db:"owned"`
		Joined int   `db:"joined"`
	}
	if err := t.tx.SelectContext(t.ctx, &rows, t.tx.Rebind(q), args...); err != nil {
		return nil, t.fail(err, "count groups of users")
	}
	for _, r := range rows {
		out[r.ID] = imgate.UserGroupCount{Owned: r.Owned, Joined: r.Joined}
	}
	return out, nil
}

// lockUsers locks the rows of the users of the group's app, in id order.
func (t *groupTx) lockUsers(ids []int64) error {
	if t.lockClause == "" {
		return nil
	}
	q, args, err := sqlx.In("SELECT id FROM users WHERE app_id = ? AND id IN (?) ORDER BY id"+t.lockClause, t.g.AppID, ids)
	if err != nil {
		return err
	}
	var locked []int64
	return t.tx.SelectContext(t.ctx, &locked, t.tx.Rebind(q), args...)
}
