package sqlstore

import (
	"time"

	"github.com/imgate/imgate"
)

// The GroupTx methods of what hangs off a group: its blacklist, kick
// counts, applications, invitations, announcements and files. Each record
// that names a user refuses a user of another app (CodeUserNotFound).

// Blocked reports whether the user is on the group's blacklist.
func (t *groupTx) Blocked(userID int64) (bool, error) {
	var blocked bool
	err := t.tx.GetContext(t.ctx, &blocked, t.tx.Rebind(
		"SELECT EXISTS (SELECT 1 FROM group_blocks WHERE group_id = ? AND user_id = ?)"), t.g.ID, userID)
	if err != nil {
		return false, t.fail(err, "blocked %d", userID)
	}
	return blocked, nil
}

// Block puts the user on the blacklist; a user already on it keeps the
// time it was put there.
func (t *groupTx) Block(userID int64, at time.Time) error {
	err := t.writeForUser(userID, "INSERT INTO group_blocks ("+blockColumns+") VALUES (?, ?, ?)"+
		" ON CONFLICT (group_id, user_id) DO NOTHING", t.g.ID, userID, millis(at))
	if err != nil {
		return t.fail(err, "block %d", userID)
	}
	return nil
}

// Unblock takes the user off the blacklist, if on it.
func (t *groupTx) Unblock(userID int64) error {
	_, err := t.tx.ExecContext(t.ctx, t.tx.Rebind("DELETE FROM group_blocks WHERE group_id = ? AND user_id = ?"), t.g.ID, userID)
	if err != nil {
		return t.fail(err, "unblock %d", userID)
	}
	return nil
}

// Kicks returns how often the user was kicked from the group.
func (t *groupTx) Kicks(userID int64) (int, error) {
	var n int
	_, err := t.find(&n, "SELECT count FROM group_kicks WHERE group_id = ? AND user_id = ?", t.g.ID, userID)
	if err != nil {
		return 0, t.fail(err, "kicks of %d", userID)
	}
	return n, nil
}

// AddKick counts one more kick of the user.
func (t *groupTx) AddKick(userID int64) error {
	err := t.writeForUser(userID, "INSERT INTO group_kicks (group_id, user_id, count) VALUES (?, ?, 1)"+
		" ON CONFLICT (group_id, user_id) DO UPDATE SET count = group_kicks.count + 1", t.g.ID, userID)
	if err != nil {
		return t.fail(err, "add kick of %d", userID)
	}
	return nil
}

// Application returns the user's application to the group, if any.
func (t *groupTx) Application(applicantID int64) (imgate.GroupApplication, bool, error) {
	var row groupAppRow
	ok, err := t.find(&row, "SELECT "+groupAppColumns+" FROM group_applications WHERE group_id = ? AND applicant_id = ?", t.g.ID, applicantID)
	if err != nil {
		return imgate.GroupApplication{}, false, t.fail(err, "application of %d", applicantID)
	}
	return row.application(), ok, nil
}

// PutApplication writes the application, replacing the user's earlier
// one.
func (t *groupTx) PutApplication(a imgate.GroupApplication) error {
	err := t.own(&a.GroupID)
	if err == nil {
		err = t.namedForUser(a.ApplicantID, "INSERT INTO group_applications ("+groupAppColumns+") VALUES ("+values(groupAppColumns)+
			") ON CONFLICT (group_id, applicant_id) DO UPDATE SET "+excludedSet(groupAppSet), newGroupAppRow(a))
	}
	if err != nil {
		return t.fail(err, "put application of %d", a.ApplicantID)
	}
	return nil
}

// Invitation returns the invitation of the invitee, if any.
func (t *groupTx) Invitation(inviteeID int64) (imgate.GroupInvitation, bool, error) {
	var row invitationRow
	ok, err := t.find(&row, "SELECT "+invitationColumns+" FROM group_invitations WHERE group_id = ? AND invitee_id = ?", t.g.ID, inviteeID)
	if err != nil {
		return imgate.GroupInvitation{}, false, t.fail(err, "invitation of %d", inviteeID)
	}
	return row.invitation(), ok, nil
}

// PutInvitation writes the invitation, replacing the invitee's earlier
// one.
func (t *groupTx) PutInvitation(inv imgate.GroupInvitation) error {
	err := t.own(&inv.GroupID)
	if err == nil {
		err = t.namedForUser(inv.InviteeID, "INSERT INTO group_invitations ("+invitationColumns+") VALUES ("+values(invitationColumns)+
			") ON CONFLICT (group_id, invitee_id) DO UPDATE SET "+excludedSet(invitationSet), newInvitationRow(inv))
	}
	if err != nil {
		return t.fail(err, "put invitation of %d", inv.InviteeID)
	}
	return nil
}

// Announcement returns one announcement of the group, if any.
func (t *groupTx) Announcement(id int64) (imgate.Announcement, bool, error) {
	var row announcementRow
	ok, err := t.find(&row, "SELECT id, "+announcementColumns+" FROM group_announcements WHERE id = ? AND group_id = ?", id, t.g.ID)
	if err != nil {
		return imgate.Announcement{}, false, t.fail(err, "announcement %d", id)
	}
	return row.announcement(), ok, nil
}

// AddAnnouncement stores a new announcement and returns it with its id.
func (t *groupTx) AddAnnouncement(a imgate.Announcement) (imgate.Announcement, error) {
	err := t.own(&a.GroupID)
	if err == nil {
		a.ID, err = t.insertReturningID("INSERT INTO group_announcements ("+announcementColumns+") VALUES ("+values(announcementColumns)+
			") RETURNING id", newAnnouncementRow(a))
	}
	if err != nil {
		return imgate.Announcement{}, t.fail(err, "add announcement")
	}
	return a, nil
}

// DeleteAnnouncement removes an announcement: CodeAnnouncementNotFound if
// the group has none with the id.
func (t *groupTx) DeleteAnnouncement(id int64) error {
	n, err := execCount(t.ctx, t.tx, t.tx.Rebind("DELETE FROM group_announcements WHERE id = ? AND group_id = ?"), id, t.g.ID)
	if err == nil && n == 0 {
		err = imgate.Errorf(imgate.CodeAnnouncementNotFound, "group %d has no announcement %d", t.g.ID, id)
	}
	if err != nil {
		return t.fail(err, "delete announcement %d", id)
	}
	return nil
}

// SharedFile returns one file of the group, if any.
func (t *groupTx) SharedFile(id int64) (imgate.SharedFile, bool, error) {
	var row fileRow
	ok, err := t.find(&row, "SELECT id, "+fileColumns+" FROM group_files WHERE id = ? AND group_id = ?", id, t.g.ID)
	if err != nil {
		return imgate.SharedFile{}, false, t.fail(err, "file %d", id)
	}
	return row.file(), ok, nil
}

// AddSharedFile stores a new file and returns it with its id.
func (t *groupTx) AddSharedFile(f imgate.SharedFile) (imgate.SharedFile, error) {
	err := t.own(&f.GroupID)
	if err == nil {
		f.ID, err = t.insertReturningID("INSERT INTO group_files ("+fileColumns+") VALUES ("+values(fileColumns)+
			") RETURNING id", newFileRow(f))
	}
	if err != nil {
		return imgate.SharedFile{}, t.fail(err, "add file")
	}
	return f, nil
}

// SaveSharedFile updates all of a file but its id and group:
// CodeFileNotFound if the group has no file with the id.
func (t *groupTx) SaveSharedFile(f imgate.SharedFile) error {
	err := t.own(&f.GroupID)
	if err == nil {
		var n int64
		n, err = namedExecCount(t.ctx, t.tx, "UPDATE group_files SET "+namedSet(fileSet)+" WHERE id = :id AND group_id = :group_id", newFileRow(f))
		if err == nil && n == 0 {
			err = errFileNotFound(t.g.ID, f.ID)
		}
	}
	if err != nil {
		return t.fail(err, "save file %d", f.ID)
	}
	return nil
}

// DeleteSharedFile removes a file: CodeFileNotFound if the group has no
// file with the id.
func (t *groupTx) DeleteSharedFile(id int64) error {
	n, err := execCount(t.ctx, t.tx, t.tx.Rebind("DELETE FROM group_files WHERE id = ? AND group_id = ?"), id, t.g.ID)
	if err == nil && n == 0 {
		err = errFileNotFound(t.g.ID, id)
	}
	if err != nil {
		return t.fail(err, "delete file %d", id)
	}
	return nil
}

func errFileNotFound(groupID, id int64) *imgate.Error {
	return imgate.Errorf(imgate.CodeFileNotFound, "group %d has no file %d", groupID, id)
}

// writeForUser runs a write of a record naming the user, once the user
// is known to be one of the app's.
func (t *groupTx) writeForUser(userID int64, query string, args ...any) error {
	if err := t.live(); err != nil {
		return err
	}
	if err := t.requireUser(userID); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(t.ctx, t.tx.Rebind(query), args...)
	return err
}

// namedForUser is writeForUser with named parameters.
func (t *groupTx) namedForUser(userID int64, query string, arg any) error {
	if err := t.requireUser(userID); err != nil {
		return err
	}
	_, err := t.tx.NamedExecContext(t.ctx, query, arg)
	return err
}

// insertReturningID runs a named insert that returns the new row's id.
func (t *groupTx) insertReturningID(query string, arg any) (int64, error) {
	q, args, err := t.tx.BindNamed(query, arg)
	if err != nil {
		return 0, err
	}
	var id int64
	err = t.tx.GetContext(t.ctx, &id, q, args...)
	return id, err
}
