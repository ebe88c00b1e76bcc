package sqlstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// errGroupNotFound is what the group methods answer for an unknown group.
func errGroupNotFound(appID string, id int64) *imgate.Error {
	return imgate.Errorf(imgate.CodeGroupNotFound, "group %d not found in app %s", id, appID)
}

// CreateGroup stores g under the next id of the sequence users share and
// runs fn on it in the same transaction. The group starts with no
// members; an error from fn is returned as is and nothing is stored.
func (s *Store) CreateGroup(ctx context.Context, g imgate.Group, fn func(imgate.GroupTx) error) (imgate.Group, error) {
	var out imgate.Group
	var fnErr error
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		id, err := s.d.NextID(ctx, tx)
		if err != nil {
			return fmt.Errorf("next id: %w", err)
		}
		g.ID = id
		if _, err := tx.NamedExecContext(ctx, "INSERT INTO groups ("+groupColumns+") VALUES ("+values(groupColumns)+")", newGroupRow(g)); err != nil {
			return err
		}
		gt, err := s.beginGroup(ctx, tx, g.AppID, id)
		if err != nil {
			return err
		}
		gt.created = true
		if fnErr = fn(gt); fnErr != nil {
			return fnErr
		}
		out = gt.g
		return gt.out.flush(ctx, tx)
	})
	if fnErr != nil {
		return imgate.Group{}, fnErr
	}
	if err != nil {
		return imgate.Group{}, fmt.Errorf("sqlstore: create group %q: %w", g.Name, err)
	}
	return out, nil
}

// UpdateGroup runs fn in a write transaction holding the group's row:
// CodeGroupNotFound. An error from fn is returned as is.
func (s *Store) UpdateGroup(ctx context.Context, appID string, groupID int64, fn func(imgate.GroupTx) error) error {
	var fnErr error
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		gt, err := s.beginGroup(ctx, tx, appID, groupID)
		if err != nil {
			return err
		}
		if fnErr = fn(gt); fnErr != nil {
			return fnErr
		}
		return gt.out.flush(ctx, tx)
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("sqlstore: update group %d: %w", groupID, err)
	}
	return nil
}

// beginGroup locks the group's row and returns the GroupTx over it. Every
// writer of the group's members takes this lock first, so the count read
// under it stays true until the transaction ends; only the deletion of a
// member's user can change it meanwhile, and that only lowers it.
func (s *Store) beginGroup(ctx context.Context, tx *sqlx.Tx, appID string, groupID int64) (*groupTx, error) {
	var id int64
	err := tx.GetContext(ctx, &id, tx.Rebind("SELECT id FROM groups WHERE app_id = ? AND id = ?"+s.d.ForUpdate), appID, groupID)
	if err != nil {
		return nil, notFound(err, errGroupNotFound(appID, groupID))
	}
	g, err := getGroup(ctx, tx, appID, groupID)
	if err != nil {
		return nil, err
	}
	return &groupTx{ctx: ctx, tx: tx, translate: s.d.Translate, g: g, out: outbox{appID: appID}, lockClause: s.d.ForNoKeyUpdate}, nil
}

// Group returns a group: CodeGroupNotFound.
func (s *Store) Group(ctx context.Context, appID string, groupID int64) (imgate.Group, error) {
	g, err := getGroup(ctx, s.r, appID, groupID)
	if err != nil {
		return imgate.Group{}, fmt.Errorf("sqlstore: group %d: %w", groupID, err)
	}
	return g, nil
}

// Groups returns the groups with the ids that exist, in the ids' order,
// each once.
func (s *Store) Groups(ctx context.Context, appID string, ids []int64) ([]imgate.Group, error) {
	var groups []imgate.Group
	err := inChunks(distinct(ids), maxIn, func(chunk []int64) error {
		q, args, err := sqlx.In(groupSelect+" WHERE app_id = ? AND id IN (?)", appID, chunk)
		if err != nil {
			return err
		}
		var rows []groupRow
		if err := s.r.SelectContext(ctx, &rows, s.r.Rebind(q), args...); err != nil {
			return err
		}
		for _, r := range rows {
			groups = append(groups, r.group())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: groups %v: %w", ids, err)
	}
	return inOrder(ids, groups, func(g imgate.Group) int64 { return g.ID }), nil
}

// GroupCounts returns how many groups the app has, and how many of them
// the user owns and belongs to, from one snapshot.
func (s *Store) GroupCounts(ctx context.Context, appID string, userID int64) (app, owned, joined int, err error) {
	var c struct {
		App    int `db:"app"`
		Owned  int `db:"owned"`
		Joined int `db:"joined"`
	}
	err = s.r.GetContext(ctx, &c, s.r.Rebind(`SELECT
		(SELECT COUNT(*) FROM groups WHERE app_id = ?) AS app,
		(SELECT COUNT(*) FROM groups WHERE app_id = ? AND owner_id = ?) AS owned,
		(SELECT COUNT(*) FROM group_members WHERE user_id = ?`+inApp+`) AS joined`),
		appID, appID, userID, userID, appID)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("sqlstore: group counts of user %d: %w", userID, err)
	}
	return c.App, c.Owned, c.Joined, nil
}

// inApp limits a query of a table with a group_id column to the groups
// of the app given as the next parameter.
const inApp = " AND group_id IN (SELECT id FROM groups WHERE app_id = ?)"

// getGroup reads one group of the app with its member count.
func getGroup(ctx context.Context, q sqlx.ExtContext, appID string, id int64) (imgate.Group, error) {
	var row groupRow
	err := sqlx.GetContext(ctx, q, &row, q.Rebind(groupSelect+" WHERE app_id = ? AND id = ?"), appID, id)
	if err != nil {
		return imgate.Group{}, notFound(err, errGroupNotFound(appID, id))
	}
	return row.group(), nil
}
