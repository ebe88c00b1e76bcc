package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// groupTx is the GroupTx of CreateGroup and UpdateGroup. It keeps the
// group as the transaction left it, Count included: AddMember and
// RemoveMember move Count as they go, so that fn may check a capacity
// without counting again.
type groupTx struct {
	ctx       context.Context
	tx        *sqlx.Tx
	translate func(error) error
	g         imgate.Group
	destroyed bool
	// created is true in CreateGroup: a group created in the transaction
	// has no conversation yet, so a new member has no history to skip.
	created bool
	out     outbox
	// lockClause ends a SELECT of user rows the transaction serialises
	// on (Dialect.ForNoKeyUpdate).
	lockClause string
}

// Group returns the group as it stands in the transaction.
func (t *groupTx) Group() imgate.Group { return t.g }

// SaveGroup writes g's info and settings and reads the group back.
func (t *groupTx) SaveGroup(g imgate.Group) error {
	if err := t.live(); err != nil {
		return t.fail(err, "save")
	}
	if g.ID != t.g.ID || g.AppID != t.g.AppID {
		return t.fail(fmt.Errorf("the key changed to group %d of app %q", g.ID, g.AppID), "save")
	}
	_, err := t.tx.NamedExecContext(t.ctx, "UPDATE groups SET "+namedSet(groupSet)+" WHERE id = :id", newGroupRow(g))
	if err != nil {
		return t.fail(err, "save")
	}
	saved, err := getGroup(t.ctx, t.tx, t.g.AppID, t.g.ID)
	if err != nil {
		return t.fail(err, "read back")
	}
	t.g = saved
	return nil
}

// Member returns a membership: ok false if the user is not a member.
func (t *groupTx) Member(userID int64) (imgate.Member, bool, error) {
	m, ok, err := getMember(t.ctx, t.tx, t.g.ID, userID)
	if err != nil {
		return imgate.Member{}, false, t.fail(err, "member %d", userID)
	}
	return m, ok, nil
}

// MemberIDs lists every member's user id, by Seq.
func (t *groupTx) MemberIDs() ([]int64, error) {
	ids := []int64{}
	err := t.tx.SelectContext(t.ctx, &ids, t.tx.Rebind("SELECT user_id FROM group_members WHERE group_id = ? ORDER BY seq"), t.g.ID)
	if err != nil {
		return nil, t.fail(err, "member ids")
	}
	return ids, nil
}

// AddMember adds m under the group's next Seq: CodeAlreadyMember if the
// user is a member, CodeUserNotFound if not a user of the group's app.
// The insert skips both cases rather than failing, so that a caller that
// goes on after the error finds the transaction still usable.
func (t *groupTx) AddMember(m imgate.Member) error {
	if err := t.own(&m.GroupID); err != nil {
		return t.fail(err, "add member %d", m.UserID)
	}
	r := newMemberRow(m)
	n, err := execCount(t.ctx, t.tx, t.tx.Rebind("INSERT INTO group_members ("+memberColumns+")"+
		" SELECT ?, u.id, (SELECT member_seq + 1 FROM groups WHERE id = ?), ?, ?, ?, ?, ?, ?"+
		" FROM users u WHERE u.app_id = ? AND u.id = ?"+
		" ON CONFLICT (group_id, user_id) DO NOTHING"),
		r.GroupID, r.GroupID, r.Role, r.DisplayName, r.JoinedAt, r.BanExpire, r.MuteMode, r.PushMode,
		t.g.AppID, r.UserID)
	if err == nil && n == 0 {
		err = t.whyNotAdded(m.UserID)
	}
	if err == nil {
		_, err = t.tx.ExecContext(t.ctx, t.tx.Rebind("UPDATE groups SET member_seq = member_seq + 1 WHERE id = ?"), t.g.ID)
	}
	if err == nil {
		err = t.skipHistory(m.UserID)
	}
	if err != nil {
		return t.fail(err, "add member %d", m.UserID)
	}
	t.g.Count++
	return nil
}

// skipHistory starts new members at the end of the group's conversation,
// if it has one: what was sent before they joined is read, and when the
// group's history is not visible, cleared, so that their lists start
// after it. A member who comes back keeps a later cleared position of
// their own. The members are given as a list so that a batch of them
// takes one statement.
func (t *groupTx) skipHistory(users ...int64) error {
	if t.created || len(users) == 0 {
		return nil
	}
	args := make([]any, 0, len(users)+2)
	for _, u := range users {
		args = append(args, u)
	}
	args = append(args, t.g.AppID, t.g.ID)
	_, err := t.tx.ExecContext(t.ctx, t.tx.Rebind("INSERT INTO conv_reads (app_id, user_id, conv_id, read_seq, cleared_seq)"+
		" SELECT c.app_id, v.column1, c.id, c.last_seq, CASE WHEN g.history_visible THEN 0 ELSE c.last_seq END"+
		" FROM (VALUES "+bigintRows(len(users), 1)+") AS v"+
		" CROSS JOIN conversations c JOIN groups g ON g.id = c.group_id"+
		" WHERE c.app_id = ? AND c.kind = 2 AND c.a = ? AND c.b = 0 ORDER BY v.column1"+
		" ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET read_seq = excluded.read_seq,"+
		" cleared_seq = CASE WHEN excluded.cleared_seq > conv_reads.cleared_seq"+
		" THEN excluded.cleared_seq ELSE conv_reads.cleared_seq END"), args...)
	if err != nil {
		return fmt.Errorf("skip history: %w", err)
	}
	return nil
}

// whyNotAdded names why the insert of a member added no row.
func (t *groupTx) whyNotAdded(userID int64) error {
	_, ok, err := getMember(t.ctx, t.tx, t.g.ID, userID)
	switch {
	case err != nil:
		return err
	case ok:
		return imgate.Errorf(imgate.CodeAlreadyMember, "user %d is already a member of group %d", userID, t.g.ID)
	}
	return errUserNotFound(t.g.AppID, userID)
}

// SaveMember writes an existing member's role, display name, ban and
// settings: CodeNotGroupMember if the user is not a member.
func (t *groupTx) SaveMember(m imgate.Member) error {
	if err := t.own(&m.GroupID); err != nil {
		return t.fail(err, "save member %d", m.UserID)
	}
	n, err := namedExecCount(t.ctx, t.tx, "UPDATE group_members SET "+namedSet(memberSet)+
		" WHERE group_id = :group_id AND user_id = :user_id", newMemberRow(m))
	if err == nil && n == 0 {
		err = imgate.Errorf(imgate.CodeNotGroupMember, "user %d is not a member of group %d", m.UserID, t.g.ID)
	}
	if err != nil {
		return t.fail(err, "save member %d", m.UserID)
	}
	return nil
}

// RemoveMember removes a member; removing a non-member does nothing.
func (t *groupTx) RemoveMember(userID int64) error {
	n, err := execCount(t.ctx, t.tx, t.tx.Rebind("DELETE FROM group_members WHERE group_id = ? AND user_id = ?"), t.g.ID, userID)
	if err != nil {
		return t.fail(err, "remove member %d", userID)
	}
	t.g.Count -= int(n)
	return nil
}

// Destroy deletes the group; its members, blacklist, kicks,
// applications, invitations, announcements and files go with it by the
// foreign keys' cascades. Notices are not tied to the group and stay.
func (t *groupTx) Destroy() error {
	if _, err := t.tx.ExecContext(t.ctx, t.tx.Rebind("DELETE FROM groups WHERE id = ?"), t.g.ID); err != nil {
		return t.fail(err, "destroy")
	}
	t.destroyed = true
	t.g.Count = 0
	return nil
}

// Notify queues notices, written with Seqs when fn has returned.
func (t *groupTx) Notify(notices ...imgate.Notice) error {
	return t.out.add(notices)
}

// live refuses writes to a group destroyed earlier in the transaction.
func (t *groupTx) live() error {
	if t.destroyed {
		return errors.New("the group was destroyed in this transaction")
	}
	return nil
}

// own fills in a record's empty group id and refuses a record of another
// group or a write after Destroy.
func (t *groupTx) own(groupID *int64) error {
	if *groupID == 0 {
		*groupID = t.g.ID
	}
	if *groupID != t.g.ID {
		return fmt.Errorf("record of group %d in a transaction of group %d", *groupID, t.g.ID)
	}
	return t.live()
}

// requireUser answers CodeUserNotFound unless the user is one of the
// group's app.
func (t *groupTx) requireUser(userID int64) error {
	var ok bool
	err := t.tx.GetContext(t.ctx, &ok, t.tx.Rebind("SELECT EXISTS (SELECT 1 FROM users WHERE app_id = ? AND id = ?)"), t.g.AppID, userID)
	if err == nil && !ok {
		err = errUserNotFound(t.g.AppID, userID)
	}
	return err
}

// find reads one row into dest: false when there is none.
func (t *groupTx) find(dest any, query string, args ...any) (bool, error) {
	err := t.tx.GetContext(t.ctx, dest, t.tx.Rebind(query), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// fail wraps an error of a transaction method with its context.
func (t *groupTx) fail(err error, format string, args ...any) error {
	return fmt.Errorf("sqlstore: group %d: %s: %w", t.g.ID, fmt.Sprintf(format, args...), t.translate(err))
}

// getMember reads one membership: false when the user is not a member.
func getMember(ctx context.Context, q sqlx.ExtContext, groupID, userID int64) (imgate.Member, bool, error) {
	var row memberRow
	err := sqlx.GetContext(ctx, q, &row, q.Rebind("SELECT "+memberColumns+" FROM group_members WHERE group_id = ? AND user_id = ?"), groupID, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return imgate.Member{}, false, nil
	}
	if err != nil {
		return imgate.Member{}, false, err
	}
	return row.member(), true, nil
}

// namedExecCount runs a named statement and returns how many rows it
// touched.
func namedExecCount(ctx context.Context, tx *sqlx.Tx, query string, arg any) (int64, error) {
	res, err := tx.NamedExecContext(ctx, query, arg)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
