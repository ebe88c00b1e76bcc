package admin

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/imgate/imgate"
)

// The lifetimes of pending group applications and invitations, and of
// signed QR-code invitations. MaxIM documents none; a week is what
// WeChat gives group QR codes.
const (
	groupRequestTTL = 7 * 24 * time.Hour
	groupQRCodeTTL  = 7 * 24 * time.Hour
)

func (s *Server) groupRoutes() {
	s.handle("/group/create", asUser, s.createGroup, post)
	s.handle("/group/destroy", anyToken, s.destroyGroup, post, del)
	s.handle("/group/info", anyToken, s.groupInfo, get)
	s.handle("/group/settings", anyToken, s.groupInfo, get)
	s.handle("/group/info/batch", anyToken, s.groupInfoBatch, post)
	s.handle("/group/transfer", anyToken, s.transferGroup, post, put)
	s.handle("/group/settings/ban_all", anyToken, s.banAll, post)
	s.handle("/group/settings/unban_all", anyToken, s.unbanAll, post)
	s.groupMemberRoutes()
	s.groupJoinRoutes()
	s.groupListRoutes()
}

// groupTime is the time of a change, in the milliseconds stores keep.
func groupTime() time.Time { return time.UnixMilli(time.Now().UnixMilli()) }

// groupIDParam reads the group_id query parameter: required, but for an
// admin token acting for a group (the group_id header), which it names
// when the parameter is left out.
func groupIDParam(r *http.Request, c *call) (int64, error) {
	gid, err := query{r}.int64("group_id", false, 0)
	if err != nil {
		return 0, err
	}
	v := id(gid)
	err = fillGroupID(c, &v)
	return int64(v), err
}

// fillGroupID checks a body's group_id, filling it in from the group_id
// header when it is left out, as groupIDParam does.
func fillGroupID(c *call, v *id) error {
	if *v == 0 && c.groupID != 0 {
		*v = id(c.groupID)
	}
	return positive("group_id", int64(*v))
}

func positive(field string, v int64) error {
	if v <= 0 {
		return badParam("%s must be a positive integer", field)
	}
	return nil
}

// inGroup runs fn under the group's lock, once the caller's rank in the
// group is at least need (noRole: anyone).
func (s *Server) inGroup(ctx context.Context, c *call, groupID int64, need imgate.Role, fn func(tx imgate.GroupTx, a actor) error) error {
	return s.store.UpdateGroup(ctx, c.app.ID, groupID, func(tx imgate.GroupTx) error {
		a, err := actorIn(c, tx.Group(), tx.Member)
		if err != nil {
			return err
		}
		if err := a.need(need); err != nil {
			return err
		}
		return fn(tx, a)
	})
}

// readGroup returns a group, the caller's rank in it, which must be at
// least need, and the caller's membership (zero if none).
func (s *Server) readGroup(ctx context.Context, c *call, groupID int64, need imgate.Role) (imgate.Group, actor, imgate.Member, error) {
	g, err := s.store.Group(ctx, c.app.ID, groupID)
	if err != nil {
		return imgate.Group{}, actor{}, imgate.Member{}, err
	}
	var own imgate.Member
	a, err := actorIn(c, g, func(uid int64) (imgate.Member, bool, error) {
		m, ok, err := s.store.Member(ctx, c.app.ID, groupID, uid)
		own = m
		return m, ok, err
	})
	if err == nil {
		err = a.need(need)
	}
	return g, a, own, err
}

// touchLocked marks the group changed at the time: its updated_at, which
// member_list reports as its version, follows every change.
func touchLocked(tx imgate.GroupTx, at time.Time) error {
	g := tx.Group()
	g.UpdatedAt = at
	return tx.SaveGroup(g)
}

// newGroupNotice is a group notice of the type from the user (0: an admin
// token) about the users to.
func newGroupNotice(typ int, from int64, at time.Time, to ...int64) imgate.Notice {
	return imgate.Notice{Kind: imgate.NoticeGroup, Type: typ, From: from, To: to, At: at}
}

// notifyUsers writes a group notice to each of the users once.
func notifyUsers(tx imgate.GroupTx, n imgate.Notice, users ...int64) error {
	g := tx.Group()
	n.Kind, n.GroupID, n.AppID = imgate.NoticeGroup, g.ID, g.AppID
	return tx.Notify(imgate.Notify(uniqueIDs(users), n)...)
}

// uniqueIDs returns the ids without duplicates, zeros and the skipped
// ones, in their first order. It is linear in len(in) (a set, not a scan
// of what it kept per id), so that no list a request can send costs more
// than its length; callers still check a list's length before calling it.
func uniqueIDs(in []int64, skip ...int64) []int64 {
	out := make([]int64, 0, len(in))
	seen := make(map[int64]struct{}, len(in)+len(skip))
	seen[0] = struct{}{}
	for _, v := range skip {
		seen[v] = struct{}{}
	}
	for _, v := range in {
		if _, dup := seen[v]; !dup {
			seen[v] = struct{}{}
			out = append(out, v)
		}
	}
	return out
}

// createRequest is GroupInfoRequest.
type createRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Avatar      string `json:"avatar"`
	Type        int    `json:"type"`
	UserList    []id   `json:"user_list"`
}

func (s *Server) checkCreate(req createRequest) error {
	if req.Name == "" {
		return badParam("name is required")
	}
	if req.Type < int(imgate.GroupPrivate) || req.Type > int(imgate.GroupTemporary) {
		return badParam("type must be from 0 to 3")
	}
	if len(req.UserList) > s.cfg.MaxListLen {
		return badParam("user_list has %d entries; the limit is %d", len(req.UserList), s.cfg.MaxListLen)
	}
	return firstErr(checkLen("name", req.Name, maxNameLen), checkLen("description", req.Description, maxTextLen),
		checkLen("avatar", req.Avatar, maxURLLen))
}

// POST /group/create {name, description, avatar, type, user_list}: the
// acting user owns the new group; the users listed join it at once, and
// if any of them cannot, no group is made. Defaults follow the seed's
// example: members may invite, applications need an admin.
func (s *Server) createGroup(r *http.Request, c *call) (any, error) {
	var req createRequest
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.checkCreate(req); err != nil {
		return nil, err
	}
	if err := s.checkAppGroupLimit(r.Context(), c); err != nil {
		return nil, err
	}
	members := uniqueIDs(ids(req.UserList), c.userID)
	ad, err := s.admission(r.Context(), c, members...)
	if err != nil {
		return nil, err
	}
	ad.owner = c.userID
	at := ad.at
	g := imgate.Group{
		AppID: c.app.ID, Name: req.Name, Avatar: req.Avatar, Description: req.Description, OwnerID: c.userID,
		Type: imgate.GroupType(req.Type), Capacity: ad.limits.GroupCapacity, ApplyApproval: imgate.ApplyByAdmin,
		MemberInvite: true, CreatedAt: at, UpdatedAt: at,
	}
	g, err = s.store.CreateGroup(r.Context(), g, func(tx imgate.GroupTx) error {
		if err := ad.checkOwner(tx); err != nil {
			return err
		}
		owner := imgate.Member{GroupID: tx.Group().ID, UserID: c.userID, Role: imgate.RoleOwner, JoinedAt: at}
		if err := tx.AddMember(owner); err != nil {
			return err
		}
		for _, uid := range members {
			if err := ad.join(tx, uid); err != nil {
				return err
			}
		}
		return notifyMembers(tx, newGroupNotice(imgate.GroupCreated, c.userID, at, members...))
	})
	if err != nil {
		return nil, err
	}
	return groupInfoOf(g, imgate.Member{}), nil
}

// checkAppGroupLimit checks the app's limit on groups before one is
// created. It is read before the group is made, so concurrent creations
// may overshoot it a little; the creator's own limits are checked in the
// creation's transaction (admission.checkOwner) and hold.
func (s *Server) checkAppGroupLimit(ctx context.Context, c *call) error {
	lim := c.app.Limits.WithDefaults()
	app, _, _, err := s.store.GroupCounts(ctx, c.app.ID, c.userID)
	switch {
	case err != nil:
		return err
	case app >= lim.GroupsPerApp:
		return imgate.Errorf(imgate.CodeAppGroupLimit, "the app has %d groups, its limit", app)
	}
	return nil
}

// POST|DELETE /group/destroy?group_id: the owner disbands the group;
// every member is told.
func (s *Server) destroyGroup(r *http.Request, c *call) (any, error) {
	gid, err := groupIDParam(r, c)
	if err != nil {
		return nil, err
	}
	err = s.inGroup(r.Context(), c, gid, imgate.RoleOwner, func(tx imgate.GroupTx, a actor) error {
		if err := notifyMembers(tx, newGroupNotice(imgate.GroupDestroyed, a.userID, groupTime())); err != nil {
			return err
		}
		return tx.Destroy()
	})
	if err != nil {
		return nil, err
	}
	return true, nil
}

// GET /group/info?group_id and GET /group/settings?group_id: anyone of
// the app may read a group's info and settings (to find one to apply to);
// a member's own message settings come with them.
func (s *Server) groupInfo(r *http.Request, c *call) (any, error) {
	gid, err := groupIDParam(r, c)
	if err != nil {
		return nil, err
	}
	g, _, m, err := s.readGroup(r.Context(), c, gid, noRole)
	if err != nil {
		return nil, err
	}
	return groupInfoOf(g, m), nil
}

// POST /group/info/batch {group_list}: the groups that exist, in the
// list's order; unknown ids are left out.
func (s *Server) groupInfoBatch(r *http.Request, c *call) (any, error) {
	groupList, err := s.decodeIDs(r, "group_list")
	if err != nil {
		return nil, err
	}
	groups, err := s.store.Groups(r.Context(), c.app.ID, uniqueIDs(groupList))
	if err != nil {
		return nil, err
	}
	out := make([]groupBrief, 0, len(groups))
	for _, g := range groups {
		var m imgate.Member
		if c.userID != 0 {
			if m, _, err = s.store.Member(r.Context(), c.app.ID, g.ID, c.userID); err != nil {
				return nil, err
			}
		}
		out = append(out, groupBriefOf(g, m))
	}
	return out, nil
}

// POST|PUT /group/transfer {group_id, new_owner}: the owner hands the
// group to a member (20005 otherwise) and becomes a plain member.
func (s *Server) transferGroup(r *http.Request, c *call) (any, error) {
	var req struct {
		GroupID  id `json:"group_id"`
		NewOwner id `json:"new_owner"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	next := int64(req.NewOwner)
	if err := firstErr(fillGroupID(c, &req.GroupID), positive("new_owner", next)); err != nil {
		return nil, err
	}
	lim := c.app.Limits.WithDefaults()
	err := s.inGroup(r.Context(), c, int64(req.GroupID), imgate.RoleOwner, func(tx imgate.GroupTx, a actor) error {
		if tx.Group().OwnerID == next {
			return nil
		}
		counts, err := tx.UserGroups(next)
		if err != nil {
			return err
		}
		if owned := counts[next].Owned; owned >= lim.GroupsOwnedPerUser {
			return imgate.Errorf(imgate.CodeOwnedGroupLimit, "user %d owns %d groups, the limit", next, owned)
		}
		return transferLocked(tx, a, next)
	})
	if err != nil {
		return nil, err
	}
	return relationOf(next, nil), nil
}

func transferLocked(tx imgate.GroupTx, a actor, next int64) error {
	g := tx.Group()
	if g.OwnerID == next {
		return nil
	}
	nm, ok, err := tx.Member(next)
	if err != nil {
		return err
	}
	if !ok {
		return imgate.Errorf(imgate.CodeTransferNotMember, "user %d is not a member of group %d", next, g.ID)
	}
	old, ok, err := tx.Member(g.OwnerID)
	if err != nil {
		return err
	}
	if ok {
		old.Role = imgate.RoleMember
		if err := tx.SaveMember(old); err != nil {
			return err
		}
	}
	nm.Role = imgate.RoleOwner
	if err := tx.SaveMember(nm); err != nil {
		return err
	}
	at := groupTime()
	g.OwnerID, g.UpdatedAt = next, at
	if err := tx.SaveGroup(g); err != nil {
		return err
	}
	return notifyMembers(tx, newGroupNotice(imgate.GroupOwnerAssigned, a.userID, at, next))
}

// maxBanMinutes bounds ban durations (100 years) so that expiry times
// cannot overflow.
const maxBanMinutes = 100 * 365 * 24 * 60

// banMinutes checks a ban's duration in minutes: positive, or -1 for a
// ban without end. MaxIM's Swagger names only the unit; -1 follows its
// ban_expire_time, where -1 is permanent.
func banMinutes(d *int64) (int64, error) {
	switch {
	case d == nil:
		return 0, badParam("duration is required")
	case *d == -1 || (*d > 0 && *d <= maxBanMinutes):
		return *d, nil
	}
	return 0, badParam("duration must be from 1 to %d minutes, or -1 for no end", maxBanMinutes)
}

// banAllResult is GroupBanAllResponse.
type banAllResult struct {
	BanExpireTime int64 `json:"ban_expire_time"`
}

// POST /group/settings/ban_all {duration, group_id}: an admin lets only
// the owner and admins send, for duration minutes (-1: until unban_all).
// ban_expire_time is in seconds, as MaxIM gives it.
func (s *Server) banAll(r *http.Request, c *call) (any, error) {
	var req struct {
		Duration *int64 `json:"duration"`
		GroupID  id     `json:"group_id"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	d, err := banMinutes(req.Duration)
	if err == nil {
		err = fillGroupID(c, &req.GroupID)
	}
	if err != nil {
		return nil, err
	}
	at := groupTime()
	expire := int64(-1)
	if d > 0 {
		expire = at.Unix() + d*60
	}
	err = s.inGroup(r.Context(), c, int64(req.GroupID), imgate.RoleAdmin, func(tx imgate.GroupTx, a actor) error {
		return setBanAllLocked(tx, a, expire, at)
	})
	if err != nil {
		return nil, err
	}
	return banAllResult{BanExpireTime: expire}, nil
}

// POST /group/settings/unban_all {group_id}
func (s *Server) unbanAll(r *http.Request, c *call) (any, error) {
	var req struct {
		GroupID id `json:"group_id"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := fillGroupID(c, &req.GroupID); err != nil {
		return nil, err
	}
	at := groupTime()
	err := s.inGroup(r.Context(), c, int64(req.GroupID), imgate.RoleAdmin, func(tx imgate.GroupTx, a actor) error {
		if e := tx.Group().BanAllExpire; e != -1 && e <= at.Unix() {
			return nil // not banned: nothing to announce
		}
		return setBanAllLocked(tx, a, 0, at)
	})
	if err != nil {
		return nil, err
	}
	return true, nil
}

func setBanAllLocked(tx imgate.GroupTx, a actor, expire int64, at time.Time) error {
	g := tx.Group()
	g.BanAllExpire, g.UpdatedAt = expire, at
	if err := tx.SaveGroup(g); err != nil {
		return err
	}
	typ, n := imgate.GroupMuted, newGroupNotice(imgate.GroupMuted, a.userID, at)
	if expire == 0 {
		typ = imgate.GroupUnmuted
	} else {
		n.Content = strconv.FormatInt(expire, 10)
	}
	n.Type = typ
	return notifyMembers(tx, n)
}
