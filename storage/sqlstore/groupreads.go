package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// The GroupStore reads. Each runs on the reader and sees only the groups
// of the app it is given: asked about another app's group, the lists come
// back empty.

// Member returns a user's membership: ok false if not a member.
func (s *Store) Member(ctx context.Context, appID string, groupID, userID int64) (imgate.Member, bool, error) {
	var row memberRow
	ok, err := s.find(ctx, &row, "SELECT "+memberColumns+" FROM group_members WHERE group_id = ? AND user_id = ?"+inApp,
		groupID, userID, appID)
	if err != nil {
		return imgate.Member{}, false, fmt.Errorf("sqlstore: member %d of group %d: %w", userID, groupID, err)
	}
	return row.member(), ok, nil
}

// Members lists a group's members that match the filter by Seq, from the
// one after the seq after, at most limit. BannedMembers are those banned
// at the time of the call.
func (s *Store) Members(ctx context.Context, appID string, groupID int64, filter imgate.MemberFilter, after int64, limit int) ([]imgate.Member, error) {
	q := "SELECT " + memberColumns + " FROM group_members WHERE group_id = ? AND seq > ?" + inApp
	args := []any{groupID, after, appID}
	switch filter {
	case imgate.AllMembers:
	case imgate.AdminMembers:
		q += " AND role >= ?"
		args = append(args, int(imgate.RoleAdmin))
	case imgate.BannedMembers:
		q += " AND (ban_expire = -1 OR ban_expire > ?)"
		args = append(args, time.Now().UnixMilli())
	default:
		return nil, imgate.Errorf(imgate.CodeInvalidParameter, "unknown member filter %d", filter)
	}
	if limit <= 0 {
		return []imgate.Member{}, nil
	}
	var rows []memberRow
	if err := s.r.SelectContext(ctx, &rows, s.r.Rebind(q+" ORDER BY seq LIMIT ?"), append(args, limit)...); err != nil {
		return nil, fmt.Errorf("sqlstore: members of group %d: %w", groupID, err)
	}
	return members(rows), nil
}

// MembersOf returns the memberships of the listed users that exist, in
// the order of the list, each once.
func (s *Store) MembersOf(ctx context.Context, appID string, groupID int64, userIDs []int64) ([]imgate.Member, error) {
	var all []memberRow
	err := inChunks(distinct(userIDs), maxIn, func(chunk []int64) error {
		q, args, err := sqlx.In("SELECT "+memberColumns+" FROM group_members WHERE group_id = ? AND user_id IN (?)"+inApp,
			groupID, chunk, appID)
		if err != nil {
			return err
		}
		var rows []memberRow
		err = s.r.SelectContext(ctx, &rows, s.r.Rebind(q), args...)
		all = append(all, rows...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: members %v of group %d: %w", userIDs, groupID, err)
	}
	return inOrder(userIDs, members(all), func(m imgate.Member) int64 { return m.UserID }), nil
}

// UserGroups lists the ids of the groups the user belongs to, by id.
func (s *Store) UserGroups(ctx context.Context, appID string, userID int64) ([]int64, error) {
	ids := []int64{}
	err := s.r.SelectContext(ctx, &ids, s.r.Rebind(
		"SELECT group_id FROM group_members WHERE user_id = ?"+inApp+" ORDER BY group_id"), userID, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: groups of user %d: %w", userID, err)
	}
	return ids, nil
}

// PublicGroups lists the ids of the app's public groups, by id.
func (s *Store) PublicGroups(ctx context.Context, appID string) ([]int64, error) {
	ids := []int64{}
	err := s.r.SelectContext(ctx, &ids, s.r.Rebind(
		"SELECT id FROM groups WHERE app_id = ? AND type = ? ORDER BY id"), appID, int(imgate.GroupPublic))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: public groups of app %q: %w", appID, err)
	}
	return ids, nil
}

// GroupBlocks lists a group's blacklist by user id, from the user after
// the user id after, at most limit.
func (s *Store) GroupBlocks(ctx context.Context, appID string, groupID int64, after int64, limit int) ([]imgate.GroupBlock, error) {
	if limit <= 0 {
		return []imgate.GroupBlock{}, nil
	}
	var rows []blockRow
	err := s.r.SelectContext(ctx, &rows, s.r.Rebind("SELECT "+blockColumns+
		" FROM group_blocks WHERE group_id = ? AND user_id > ?"+inApp+" ORDER BY user_id LIMIT ?"),
		groupID, after, appID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: blacklist of group %d: %w", groupID, err)
	}
	blocks := make([]imgate.GroupBlock, 0, len(rows))
	for _, r := range rows {
		blocks = append(blocks, r.block())
	}
	return blocks, nil
}

// GroupApplications lists the applications to the groups by group id
// then applicant id, from the one after the (group, applicant) pair
// after, at most limit. The groups are read in ascending chunks, so the
// pages keep their order however many groups are listed.
func (s *Store) GroupApplications(ctx context.Context, appID string, groupIDs []int64, after [2]int64, limit int) ([]imgate.GroupApplication, error) {
	apps := []imgate.GroupApplication{}
	err := inChunks(distinct(groupIDs), maxIn, func(chunk []int64) error {
		if len(apps) >= limit {
			return nil
		}
		q, args, err := sqlx.In("SELECT "+groupAppColumns+" FROM group_applications WHERE group_id IN (?)"+
			" AND (group_id > ? OR (group_id = ? AND applicant_id > ?))"+inApp+
			" ORDER BY group_id, applicant_id LIMIT ?", chunk, after[0], after[0], after[1], appID, limit-len(apps))
		if err != nil {
			return err
		}
		var rows []groupAppRow
		err = s.r.SelectContext(ctx, &rows, s.r.Rebind(q), args...)
		for _, r := range rows {
			apps = append(apps, r.application())
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: applications to groups %v: %w", groupIDs, err)
	}
	return apps, nil
}

// GroupInvitations lists the invitations addressed to the user by group
// id, from the group after the group id after, at most limit.
func (s *Store) GroupInvitations(ctx context.Context, appID string, userID int64, after int64, limit int) ([]imgate.GroupInvitation, error) {
	if limit <= 0 {
		return []imgate.GroupInvitation{}, nil
	}
	var rows []invitationRow
	err := s.r.SelectContext(ctx, &rows, s.r.Rebind("SELECT "+invitationColumns+
		" FROM group_invitations WHERE invitee_id = ? AND group_id > ?"+inApp+" ORDER BY group_id LIMIT ?"),
		userID, after, appID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: invitations of user %d: %w", userID, err)
	}
	invs := make([]imgate.GroupInvitation, 0, len(rows))
	for _, r := range rows {
		invs = append(invs, r.invitation())
	}
	return invs, nil
}

// Announcements lists a group's announcements, newest first: by
// CreatedAt, then by id, descending.
func (s *Store) Announcements(ctx context.Context, appID string, groupID int64) ([]imgate.Announcement, error) {
	var rows []announcementRow
	err := s.r.SelectContext(ctx, &rows, s.r.Rebind("SELECT id, "+announcementColumns+
		" FROM group_announcements WHERE group_id = ?"+inApp+" ORDER BY created_at DESC, id DESC"), groupID, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: announcements of group %d: %w", groupID, err)
	}
	out := make([]imgate.Announcement, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.announcement())
	}
	return out, nil
}

// SharedFiles lists a group's files, newest first: by CreatedAt, then by
// id, descending.
func (s *Store) SharedFiles(ctx context.Context, appID string, groupID int64) ([]imgate.SharedFile, error) {
	var rows []fileRow
	err := s.r.SelectContext(ctx, &rows, s.r.Rebind("SELECT id, "+fileColumns+
		" FROM group_files WHERE group_id = ?"+inApp+" ORDER BY created_at DESC, id DESC"), groupID, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: files of group %d: %w", groupID, err)
	}
	out := make([]imgate.SharedFile, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.file())
	}
	return out, nil
}

// find reads one row into dest on the reader: false when there is none.
func (s *Store) find(ctx context.Context, dest any, query string, args ...any) (bool, error) {
	err := s.r.GetContext(ctx, dest, s.r.Rebind(query), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
