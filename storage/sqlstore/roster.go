package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// rosterItemRow is the SQL form of imgate.RosterItem.
type rosterItemRow struct {
	AppID     string `db:"app_id"`
	OwnerID   int64  `db:"owner_id"`
	UserID    int64  `db:"user_id"`
	Friend    bool   `db:"friend"`
	WasFriend bool   `db:"was_friend"`
	Blocked   bool   `db:"blocked"`
	Alias     string `db:"alias"`
	Ext       string `db:"ext"`
	Muted     bool   `db:"muted"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

const rosterItemColumns = "app_id, owner_id, user_id, friend, was_friend, blocked, alias, ext, muted, created_at, updated_at"

// rosterItemSet is what an upsert of an item overwrites: all but the key.
const rosterItemSet = "friend, was_friend, blocked, alias, ext, muted, created_at, updated_at"

func newRosterItemRow(it imgate.RosterItem) rosterItemRow {
	return rosterItemRow{
		AppID: it.AppID, OwnerID: it.OwnerID, UserID: it.UserID,
		Friend: it.Friend, WasFriend: it.WasFriend, Blocked: it.Blocked,
		Alias: it.Alias, Ext: it.Ext, Muted: it.Muted,
		CreatedAt: millis(it.CreatedAt), UpdatedAt: millis(it.UpdatedAt),
	}
}

func (r rosterItemRow) item() imgate.RosterItem {
	return imgate.RosterItem{
		AppID: r.AppID, OwnerID: r.OwnerID, UserID: r.UserID,
		Friend: r.Friend, WasFriend: r.WasFriend, Blocked: r.Blocked,
		Alias: r.Alias, Ext: r.Ext, Muted: r.Muted,
		CreatedAt: fromMillis(r.CreatedAt), UpdatedAt: fromMillis(r.UpdatedAt),
	}
}

// rosterAppRow is the SQL form of imgate.RosterApplication.
type rosterAppRow struct {
	AppID       string `db:"app_id"`
	ApplicantID int64  `db:"applicant_id"`
	TargetID    int64  `db:"target_id"`
	Alias       string `db:"alias"`
	Reason      string `db:"reason"`
	Status      int    `db:"status"`
	ExpiresAt   int64  `db:"expires_at"`
	CreatedAt   int64  `db:"created_at"`
	UpdatedAt   int64  `db:"updated_at"`
}

const rosterAppColumns = "app_id, applicant_id, target_id, alias, reason, status, expires_at, created_at, updated_at"

const rosterAppSet = "alias, reason, status, expires_at, created_at, updated_at"

func newRosterAppRow(a imgate.RosterApplication) rosterAppRow {
	return rosterAppRow{
		AppID: a.AppID, ApplicantID: a.ApplicantID, TargetID: a.TargetID,
		Alias: a.Alias, Reason: a.Reason, Status: int(a.Status),
		ExpiresAt: millis(a.ExpiresAt), CreatedAt: millis(a.CreatedAt), UpdatedAt: millis(a.UpdatedAt),
	}
}

func (r rosterAppRow) application() imgate.RosterApplication {
	return imgate.RosterApplication{
		AppID: r.AppID, ApplicantID: r.ApplicantID, TargetID: r.TargetID,
		Alias: r.Alias, Reason: r.Reason, Status: imgate.ApplicationStatus(r.Status),
		ExpiresAt: fromMillis(r.ExpiresAt), CreatedAt: fromMillis(r.CreatedAt), UpdatedAt: fromMillis(r.UpdatedAt),
	}
}

// Roster runs fn in a write transaction holding the rows of users a and
// b, locked in id order. An error from fn is returned as is.
func (s *Store) Roster(ctx context.Context, appID string, a, b int64, fn func(imgate.RosterTx) error) error {
	var fnErr error
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockPair(ctx, tx, appID, a, b); err != nil {
			return err
		}
		rt := &rosterTx{ctx: ctx, tx: tx, translate: s.d.Translate, appID: appID, a: a, b: b, out: outbox{appID: appID}}
		if fnErr = fn(rt); fnErr != nil {
			return fnErr
		}
		return rt.out.flush(ctx, tx)
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("sqlstore: roster of users %d and %d: %w", a, b, err)
	}
	return nil
}

// lockPair locks the rows of users a and b, the lower id first:
// CodeUserNotFound if either is not a user of the app. The lock lets
// other transactions reference the users (a group adding one as a
// member), while roster changes and deletions of either take turns.
func (s *Store) lockPair(ctx context.Context, tx *sqlx.Tx, appID string, a, b int64) error {
	ids := distinct([]int64{a, b})
	for _, id := range ids {
		var got int64
		err := tx.GetContext(ctx, &got, tx.Rebind("SELECT id FROM users WHERE app_id = ? AND id = ?"+s.d.ForNoKeyUpdate), appID, id)
		if err != nil {
			return notFound(err, errUserNotFound(appID, id))
		}
	}
	return nil
}

// RosterItem returns owner's item for user, the zero item with the ids
// filled in when there is none.
func (s *Store) RosterItem(ctx context.Context, appID string, owner, user int64) (imgate.RosterItem, error) {
	it, err := getRosterItem(ctx, s.r, appID, owner, user)
	if err != nil {
		return imgate.RosterItem{}, fmt.Errorf("sqlstore: roster item of %d for %d: %w", owner, user, err)
	}
	return it, nil
}

// RosterItems lists owner's items that match the filter, by UserID, from
// the one after the user id after, at most limit.
func (s *Store) RosterItems(ctx context.Context, appID string, owner int64, filter imgate.RosterFilter, after int64, limit int) ([]imgate.RosterItem, error) {
	var cond string
	switch filter {
	case imgate.FriendsOnly:
		cond = "friend = TRUE"
	case imgate.BlockedOnly:
		cond = "blocked = TRUE"
	default:
		return nil, imgate.Errorf(imgate.CodeInvalidParameter, "unknown roster filter %d", filter)
	}
	if limit <= 0 {
		return []imgate.RosterItem{}, nil
	}
	var rows []rosterItemRow
	err := s.r.SelectContext(ctx, &rows, s.r.Rebind("SELECT "+rosterItemColumns+
		" FROM roster_items WHERE app_id = ? AND owner_id = ? AND user_id > ? AND "+cond+
		" ORDER BY user_id LIMIT ?"), appID, owner, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: roster items of %d: %w", owner, err)
	}
	items := make([]imgate.RosterItem, 0, len(rows))
	for _, r := range rows {
		items = append(items, r.item())
	}
	return items, nil
}

// RosterApplications lists the applications to target, newest first
// (ties by applicant id, descending), from the position after
// (roster_applications_target_idx serves the order and the position).
func (s *Store) RosterApplications(ctx context.Context, appID string, target int64, after imgate.RosterApplicationPos, limit int) ([]imgate.RosterApplication, error) {
	if limit <= 0 {
		return []imgate.RosterApplication{}, nil
	}
	q := "SELECT " + rosterAppColumns + " FROM roster_applications WHERE app_id = ? AND target_id = ?"
	args := []any{appID, target}
	if after != (imgate.RosterApplicationPos{}) {
		at := after.CreatedAt.UnixMilli()
		q += " AND (created_at < ? OR (created_at = ? AND applicant_id < ?))"
		args = append(args, at, at, after.ApplicantID)
	}
	q += " ORDER BY created_at DESC, applicant_id DESC LIMIT ?"
	var rows []rosterAppRow
	if err := s.r.SelectContext(ctx, &rows, s.r.Rebind(q), append(args, limit)...); err != nil {
		return nil, fmt.Errorf("sqlstore: roster applications to %d: %w", target, err)
	}
	apps := make([]imgate.RosterApplication, 0, len(rows))
	for _, r := range rows {
		apps = append(apps, r.application())
	}
	return apps, nil
}

// rosterTx is the RosterTx of a Roster call: it may write the items and
// applications between the two locked users only.
type rosterTx struct {
	ctx       context.Context
	tx        *sqlx.Tx
	translate func(error) error
	appID     string
	a, b      int64
	out       outbox
}

// Item returns owner's item for user, the zero item when there is none.
func (r *rosterTx) Item(owner, user int64) (imgate.RosterItem, error) {
	it, err := getRosterItem(r.ctx, r.tx, r.appID, owner, user)
	if err != nil {
		return imgate.RosterItem{}, r.fail(err, "item of %d for %d", owner, user)
	}
	return it, nil
}

// PutItem creates or replaces the item.
func (r *rosterTx) PutItem(it imgate.RosterItem) error {
	if err := r.check(&it.AppID, it.OwnerID, it.UserID); err != nil {
		return r.fail(err, "put item of %d for %d", it.OwnerID, it.UserID)
	}
	_, err := r.tx.NamedExecContext(r.ctx, "INSERT INTO roster_items ("+rosterItemColumns+") VALUES ("+values(rosterItemColumns)+
		") ON CONFLICT (app_id, owner_id, user_id) DO UPDATE SET "+excludedSet(rosterItemSet), newRosterItemRow(it))
	if err != nil {
		return r.fail(err, "put item of %d for %d", it.OwnerID, it.UserID)
	}
	return nil
}

// Application returns applicant's application to target, if any.
func (r *rosterTx) Application(applicant, target int64) (imgate.RosterApplication, bool, error) {
	var row rosterAppRow
	err := r.tx.GetContext(r.ctx, &row, r.tx.Rebind("SELECT "+rosterAppColumns+
		" FROM roster_applications WHERE app_id = ? AND applicant_id = ? AND target_id = ?"), r.appID, applicant, target)
	if errors.Is(err, sql.ErrNoRows) {
		return imgate.RosterApplication{}, false, nil
	}
	if err != nil {
		return imgate.RosterApplication{}, false, r.fail(err, "application of %d to %d", applicant, target)
	}
	return row.application(), true, nil
}

// PutApplication writes the application, replacing any of the pair.
func (r *rosterTx) PutApplication(a imgate.RosterApplication) error {
	if err := r.check(&a.AppID, a.ApplicantID, a.TargetID); err != nil {
		return r.fail(err, "put application of %d to %d", a.ApplicantID, a.TargetID)
	}
	_, err := r.tx.NamedExecContext(r.ctx, "INSERT INTO roster_applications ("+rosterAppColumns+") VALUES ("+values(rosterAppColumns)+
		") ON CONFLICT (app_id, applicant_id, target_id) DO UPDATE SET "+excludedSet(rosterAppSet), newRosterAppRow(a))
	if err != nil {
		return r.fail(err, "put application of %d to %d", a.ApplicantID, a.TargetID)
	}
	return nil
}

// Notify queues notices, written with Seqs when fn has returned.
func (r *rosterTx) Notify(notices ...imgate.Notice) error {
	return r.out.add(notices)
}

// check fills in an empty app id and refuses a record of another app or
// of a user whose row the transaction does not hold.
func (r *rosterTx) check(appID *string, x, y int64) error {
	if *appID == "" {
		*appID = r.appID
	}
	if *appID != r.appID {
		return fmt.Errorf("record of app %q in a roster transaction of app %q", *appID, r.appID)
	}
	for _, id := range []int64{x, y} {
		if id != r.a && id != r.b {
			return fmt.Errorf("user %d is neither of the locked users %d and %d", id, r.a, r.b)
		}
	}
	return nil
}

// fail wraps an error of a transaction method with its context.
func (r *rosterTx) fail(err error, format string, args ...any) error {
	return fmt.Errorf("sqlstore: roster of users %d and %d: %s: %w", r.a, r.b, fmt.Sprintf(format, args...), r.translate(err))
}

// getRosterItem reads owner's item for user, the zero item with the ids
// filled in when there is none.
func getRosterItem(ctx context.Context, q sqlx.ExtContext, appID string, owner, user int64) (imgate.RosterItem, error) {
	var row rosterItemRow
	err := sqlx.GetContext(ctx, q, &row, q.Rebind("SELECT "+rosterItemColumns+
		" FROM roster_items WHERE app_id = ? AND owner_id = ? AND user_id = ?"), appID, owner, user)
	if errors.Is(err, sql.ErrNoRows) {
		return imgate.RosterItem{AppID: appID, OwnerID: owner, UserID: user}, nil
	}
	if err != nil {
		return imgate.RosterItem{}, err
	}
	return row.item(), nil
}
