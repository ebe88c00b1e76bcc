package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/imgate/imgate"
)

func (s *Server) groupMemberRoutes() {
	s.handle("/group/leave", asUser, s.leaveGroup, post, del)
	s.handle("/group/kick", anyToken, s.perUser(imgate.RoleAdmin, imgate.GroupKicked, true, kickLocked), post, del)
	s.handle("/group/block", anyToken, s.blockUsers, post)
	s.handle("/group/unblock", anyToken, s.perUser(imgate.RoleAdmin, imgate.GroupUnblocked, true, unblockLocked), post, del)
	s.handle("/group/ban", anyToken, s.banUsers, post)
	s.handle("/group/unban", anyToken, s.perUser(imgate.RoleAdmin, imgate.GroupUnbanned, false, unbanLocked), post)
	s.handle("/group/admin/add", anyToken, s.perUser(imgate.RoleOwner, imgate.GroupAdminGranted, false, grantAdminLocked), post)
	s.handle("/group/admin/remove", anyToken, s.perUser(imgate.RoleOwner, imgate.GroupAdminRevoked, false, revokeAdminLocked), post, del)
}

// memberRequest is GroupMemberRequest, with the duration of
// GroupBannedMemberRequest.
type memberRequest struct {
	GroupID  id     `json:"group_id"`
	UserList []id   `json:"user_list"`
	Duration *int64 `json:"duration"`
}

func (s *Server) decodeMembers(r *http.Request, c *call) (memberRequest, error) {
	var req memberRequest
	if err := s.decode(r, &req); err != nil {
		return req, err
	}
	return req, firstErr(fillGroupID(c, &req.GroupID), s.checkList("user_list", len(req.UserList)))
}

// memberOp changes one listed user under the group's lock. It reports
// whether anything changed; a business error fails that user alone, so
// it must come before any write.
type memberOp func(tx imgate.GroupTx, a actor, userID int64, at time.Time) (changed bool, err error)

// perUser serves the paths that apply an op to each user of a
// memberRequest under one lock of the group, for a caller ranked at least
// need. It answers a result per user, and tells the members (and, with
// toChanged, the changed users too) with one notice of typ naming every
// user that changed.
func (s *Server) perUser(need imgate.Role, typ int, toChanged bool, op memberOp) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		req, err := s.decodeMembers(r, c)
		if err != nil {
			return nil, err
		}
		return s.applyEach(r.Context(), c, req, need, typ, toChanged, op)
	}
}

func (s *Server) applyEach(ctx context.Context, c *call, req memberRequest, need imgate.Role, typ int, toChanged bool, op memberOp) ([]relationResult, error) {
	users := uniqueIDs(ids(req.UserList))
	var out []relationResult
	err := s.inGroup(ctx, c, int64(req.GroupID), need, func(tx imgate.GroupTx, a actor) error {
		out = make([]relationResult, 0, len(users))
		at := groupTime()
		var changed []int64
		for _, uid := range users {
			ch, err := op(tx, a, uid, at)
			if imgate.ErrorCode(err) == imgate.CodeStore {
				return err
			}
			out = append(out, relationOf(uid, err))
			if ch {
				changed = append(changed, uid)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		var extra []int64
		if toChanged {
			extra = changed
		}
		if err := touchLocked(tx, at); err != nil {
			return err
		}
		return notifyMembers(tx, newGroupNotice(typ, a.userID, at, changed...), extra...)
	})
	return out, err
}

// memberOf returns a member the actor may act on: 20002 if the user is
// not a member; 20013 for the owner, and for an admin unless the actor
// is the owner.
func memberOf(tx imgate.GroupTx, a actor, userID int64) (imgate.Member, error) {
	m, ok, err := tx.Member(userID)
	switch {
	case err != nil:
		return m, err
	case !ok:
		return m, imgate.Errorf(imgate.CodeNotGroupMember, "user %d is not a member of the group", userID)
	}
	return m, mayManage(a, m)
}

func mayManage(a actor, m imgate.Member) error {
	switch {
	case m.Role == imgate.RoleOwner:
		return imgate.Errorf(imgate.CodeNeedOwner, "nobody may do this to the group's owner")
	case m.Role == imgate.RoleAdmin && a.role < imgate.RoleOwner:
		return imgate.Errorf(imgate.CodeNeedOwner, "only the owner may do this to an admin")
	}
	return nil
}

// POST|DELETE /group/leave?group_id: the acting user leaves; the owner
// must transfer the group or destroy it instead (20004).
func (s *Server) leaveGroup(r *http.Request, c *call) (any, error) {
	gid, err := groupIDParam(r, c)
	if err != nil {
		return nil, err
	}
	err = s.inGroup(r.Context(), c, gid, noRole, func(tx imgate.GroupTx, a actor) error {
		switch a.role {
		case noRole:
			return imgate.Errorf(imgate.CodeNotGroupMember, "user %d is not a member of group %d", c.userID, gid)
		case imgate.RoleOwner:
			return imgate.Errorf(imgate.CodeOwnerCannotLeave, "the owner cannot leave the group; transfer or destroy it")
		}
		at := groupTime()
		if err := tx.RemoveMember(c.userID); err != nil {
			return err
		}
		if err := touchLocked(tx, at); err != nil {
			return err
		}
		return notifyMembers(tx, newGroupNotice(imgate.GroupLeaved, c.userID, at, c.userID), c.userID)
	})
	if err != nil {
		return nil, err
	}
	return true, nil
}

// kickLocked removes a member and counts the kick: after
// AppLimits.KicksBeforeBar kicks the user cannot rejoin (20016).
func kickLocked(tx imgate.GroupTx, a actor, userID int64, _ time.Time) (bool, error) {
	if _, err := memberOf(tx, a, userID); err != nil {
		return false, err
	}
	if err := tx.RemoveMember(userID); err != nil {
		return false, err
	}
	return true, tx.AddKick(userID)
}

// POST /group/block {group_id, user_list}: an admin puts users on the
// group's blacklist; members among them are removed from the group.
func (s *Server) blockUsers(r *http.Request, c *call) (any, error) {
	req, err := s.decodeMembers(r, c)
	if err != nil {
		return nil, err
	}
	known := map[int64]bool{}
	for _, uid := range ids(req.UserList) {
		_, err := s.store.User(r.Context(), c.app.ID, uid)
		if imgate.ErrorCode(err) == imgate.CodeStore {
			return nil, err
		}
		known[uid] = err == nil
	}
	return s.applyEach(r.Context(), c, req, imgate.RoleAdmin, imgate.GroupBlocked, true,
		func(tx imgate.GroupTx, a actor, userID int64, at time.Time) (bool, error) {
			if !known[userID] {
				return false, imgate.Errorf(imgate.CodeUserNotFound, "user %d not found", userID)
			}
			return blockLocked(tx, a, userID, at)
		})
}

func blockLocked(tx imgate.GroupTx, a actor, userID int64, at time.Time) (bool, error) {
	m, member, err := tx.Member(userID)
	if err != nil {
		return false, err
	}
	if member {
		if err := mayManage(a, m); err != nil {
			return false, err
		}
		if err := tx.RemoveMember(userID); err != nil {
			return false, err
		}
	}
	blocked, err := tx.Blocked(userID)
	if err != nil || blocked {
		return member, err
	}
	return true, tx.Block(userID, at)
}

func unblockLocked(tx imgate.GroupTx, _ actor, userID int64, _ time.Time) (bool, error) {
	blocked, err := tx.Blocked(userID)
	if err != nil || !blocked {
		return false, err
	}
	return true, tx.Unblock(userID)
}

// POST /group/ban {duration, group_id, user_list}: an admin stops members
// sending for duration minutes (-1: until unbanned).
func (s *Server) banUsers(r *http.Request, c *call) (any, error) {
	req, err := s.decodeMembers(r, c)
	if err != nil {
		return nil, err
	}
	d, err := banMinutes(req.Duration)
	if err != nil {
		return nil, err
	}
	return s.applyEach(r.Context(), c, req, imgate.RoleAdmin, imgate.GroupBanned, false,
		func(tx imgate.GroupTx, a actor, userID int64, at time.Time) (bool, error) {
			m, err := memberOf(tx, a, userID)
			if err != nil {
				return false, err
			}
			m.BanExpire = -1
			if d > 0 {
				m.BanExpire = at.Add(time.Duration(d) * time.Minute).UnixMilli()
			}
			return true, tx.SaveMember(m)
		})
}

func unbanLocked(tx imgate.GroupTx, a actor, userID int64, at time.Time) (bool, error) {
	m, err := memberOf(tx, a, userID)
	if err != nil || !m.Banned(at) {
		return false, err
	}
	m.BanExpire = 0
	return true, tx.SaveMember(m)
}

func grantAdminLocked(tx imgate.GroupTx, a actor, userID int64, _ time.Time) (bool, error) {
	m, err := memberOf(tx, a, userID)
	if err != nil || m.Role == imgate.RoleAdmin {
		return false, err
	}
	m.Role = imgate.RoleAdmin
	return true, tx.SaveMember(m)
}

func revokeAdminLocked(tx imgate.GroupTx, a actor, userID int64, _ time.Time) (bool, error) {
	m, err := memberOf(tx, a, userID)
	if err != nil || m.Role != imgate.RoleAdmin {
		return false, err
	}
	m.Role = imgate.RoleMember
	return true, tx.SaveMember(m)
}
