package admin

import (
	"net/http"
	"time"

	"github.com/imgate/imgate"
)

// Page sizes of the group lists: the defaults are MaxIM's; the maxima
// bound one answer, a little above the default group capacity.
const (
	memberPageDefault  = 1000
	requestPageDefault = 100 // applications and invitations
	maxPage            = 5000
)

func (s *Server) groupListRoutes() {
	s.handle("/group/member_list", anyToken, s.memberList(imgate.AllMembers), get)
	s.handle("/group/banned_list", anyToken, s.memberList(imgate.BannedMembers), get)
	s.handle("/group/admin_list", anyToken, s.adminList, get)
	s.handle("/group/blocked_list", anyToken, s.blockedList, get)
	s.handle("/group/application_list", anyToken, s.applicationList, post)
	s.handle("/group/invitation_list", asUser, s.invitationList, get)
	s.handle("/group/user_joined", asUser, s.userJoined, get)
	s.handle("/group/public_list", anyToken, s.publicList, get)
}

// GET /group/member_list and /group/banned_list ?group_id, cursor, limit:
// members see the group's members in joining order. version is the time
// of the group's last change (ms); total counts the whole list of
// member_list.
func (s *Server) memberList(filter imgate.MemberFilter) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		gid, err := groupIDParam(r, c)
		if err != nil {
			return nil, err
		}
		pos, limit, err := pageQuery(query{r}, 1, memberPageDefault, maxPage)
		if err != nil {
			return nil, err
		}
		g, _, _, err := s.readGroup(r.Context(), c, gid, imgate.RoleMember)
		if err != nil {
			return nil, err
		}
		ms, err := s.store.Members(r.Context(), c.app.ID, gid, filter, pos[0], limit+1)
		if err != nil {
			return nil, err
		}
		page := membersPage(ms, limit, g.UpdatedAt)
		if filter == imgate.AllMembers {
			page.Total = &g.Count
		}
		return page, nil
	}
}

func membersPage(ms []imgate.Member, limit int, version time.Time) list {
	more := len(ms)
	ms = ms[:min(len(ms), limit)]
	now := time.Now()
	out := make([]groupMember, len(ms))
	var last int64
	for i, m := range ms {
		out[i], last = groupMemberOf(m, now), m.Seq
	}
	return list{Data: out, Cursor: nextCursor(more, limit, last), Version: version.UnixMilli()}
}

// GET /group/admin_list?group_id: the owner and the admins, to members.
func (s *Server) adminList(r *http.Request, c *call) (any, error) {
	gid, err := groupIDParam(r, c)
	if err != nil {
		return nil, err
	}
	if _, _, _, err := s.readGroup(r.Context(), c, gid, imgate.RoleMember); err != nil {
		return nil, err
	}
	ms, err := s.store.Members(r.Context(), c.app.ID, gid, imgate.AdminMembers, 0, maxPage)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]groupMember, len(ms))
	for i, m := range ms {
		out[i] = groupMemberOf(m, now)
	}
	return out, nil
}

// stamp is a date-time field of a Swagger DTO (GroupBlockedListItem,
// GroupInvitation), which the Swagger types as a string, not ms.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// blockedItem is GroupBlockedListItem.
type blockedItem struct {
	GroupID   int64  `json:"group_id"`
	UserID    int64  `json:"user_id"`
	CreatedAt string `json:"created_at"`
}

// GET /group/blocked_list?group_id, cursor, limit: the blacklist, to
// admins, by user id.
func (s *Server) blockedList(r *http.Request, c *call) (any, error) {
	gid, err := groupIDParam(r, c)
	if err != nil {
		return nil, err
	}
	pos, limit, err := pageQuery(query{r}, 1, memberPageDefault, maxPage)
	if err != nil {
		return nil, err
	}
	g, _, _, err := s.readGroup(r.Context(), c, gid, imgate.RoleAdmin)
	if err != nil {
		return nil, err
	}
	bs, err := s.store.GroupBlocks(r.Context(), c.app.ID, gid, pos[0], limit+1)
	if err != nil {
		return nil, err
	}
	more := len(bs)
	bs = bs[:min(len(bs), limit)]
	out := make([]blockedItem, len(bs))
	var last int64
	for i, b := range bs {
		out[i], last = blockedItem{GroupID: b.GroupID, UserID: b.UserID, CreatedAt: stamp(b.CreatedAt)}, b.UserID
	}
	return list{Data: out, Cursor: nextCursor(more, limit, last), Version: g.UpdatedAt.UnixMilli()}, nil
}

// applicationItem is GroupApplication.
type applicationItem struct {
	GroupID     int64  `json:"group_id"`
	ApplicantID int64  `json:"applicant_id"`
	Reason      string `json:"reason"`
	Status      int    `json:"status"`
	ExpiredTime int64  `json:"expired_time"`
}

// POST /group/application_list?cursor, limit {group_list}: the
// applications, in every state, to groups the caller administers (20012
// for any other), by group and applicant.
func (s *Server) applicationList(r *http.Request, c *call) (any, error) {
	groupList, err := s.decodeIDs(r, "group_list")
	if err != nil {
		return nil, err
	}
	pos, limit, err := pageQuery(query{r}, 2, requestPageDefault, maxPage)
	if err != nil {
		return nil, err
	}
	gids := uniqueIDs(groupList)
	for _, gid := range gids {
		if _, _, _, err := s.readGroup(r.Context(), c, gid, imgate.RoleAdmin); err != nil {
			return nil, err
		}
	}
	aps, err := s.store.GroupApplications(r.Context(), c.app.ID, gids, [2]int64{pos[0], pos[1]}, limit+1)
	if err != nil {
		return nil, err
	}
	more := len(aps)
	aps = aps[:min(len(aps), limit)]
	out := make([]applicationItem, len(aps))
	var last [2]int64
	for i, ap := range aps {
		out[i] = applicationItem{GroupID: ap.GroupID, ApplicantID: ap.ApplicantID, Reason: ap.Reason,
			Status: int(ap.Status), ExpiredTime: ap.ExpiresAt.UnixMilli()}
		last = [2]int64{ap.GroupID, ap.ApplicantID}
	}
	return list{Data: out, Cursor: nextCursor(more, limit, last[0], last[1])}, nil
}

// invitationItem is GroupInvitation.
type invitationItem struct {
	GroupID     int64  `json:"group_id"`
	InviterID   int64  `json:"inviter_id"`
	InviteeID   int64  `json:"invitee_id"`
	Reason      string `json:"reason"`
	Status      int    `json:"status"`
	ExpiredTime int64  `json:"expired_time"`
	UpdatedAt   string `json:"updated_at"`
}

// GET /group/invitation_list?cursor, limit: the invitations to the acting
// user, in every state, by group.
func (s *Server) invitationList(r *http.Request, c *call) (any, error) {
	pos, limit, err := pageQuery(query{r}, 1, requestPageDefault, maxPage)
	if err != nil {
		return nil, err
	}
	invs, err := s.store.GroupInvitations(r.Context(), c.app.ID, c.userID, pos[0], limit+1)
	if err != nil {
		return nil, err
	}
	more := len(invs)
	invs = invs[:min(len(invs), limit)]
	out := make([]invitationItem, len(invs))
	var last int64
	for i, inv := range invs {
		out[i] = invitationItem{GroupID: inv.GroupID, InviterID: inv.InviterID, InviteeID: inv.InviteeID, Reason: inv.Reason,
			Status: int(inv.Status), ExpiredTime: inv.ExpiresAt.UnixMilli(), UpdatedAt: stamp(inv.UpdatedAt)}
		last = inv.GroupID
	}
	return list{Data: out, Cursor: nextCursor(more, limit, last)}, nil
}

// GET /group/user_joined: the ids of the acting user's groups; [] when
// none, as MaxIM's SDK will not connect after a failure here.
func (s *Server) userJoined(r *http.Request, c *call) (any, error) {
	gids, err := s.store.UserGroups(r.Context(), c.app.ID, c.userID)
	if err != nil {
		return nil, err
	}
	return nonNil(gids), nil
}

// GET /group/public_list: the ids of the app's public groups.
func (s *Server) publicList(r *http.Request, c *call) (any, error) {
	gids, err := s.store.PublicGroups(r.Context(), c.app.ID)
	if err != nil {
		return nil, err
	}
	return nonNil(gids), nil
}
