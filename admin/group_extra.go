package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/imgate/imgate"
)

// groupExtraRoutes registers a group's info and settings setters, the
// members' own settings, announcements and shared files.
func (s *Server) groupExtraRoutes() {
	s.groupInfoRoutes()
	s.groupMemberSettingRoutes()
	s.announcementRoutes()
	s.sharedFileRoutes()
}

func (s *Server) groupInfoRoutes() {
	for _, f := range []groupField[string]{
		{name: "name", key: "value", byMembers: true, check: checkGroupName, set: func(g *imgate.Group, v string) { g.Name = v }},
		{name: "description", key: "value", byMembers: true, check: limitChars("description", maxTextLen),
			set: func(g *imgate.Group, v string) { g.Description = v }},
		{name: "avatar", key: "value", byMembers: true, check: limitChars("avatar", maxURLLen),
			set: func(g *imgate.Group, v string) { g.Avatar = v }},
		{name: "ext", key: "value", byMembers: true, check: limitBytes("ext", maxInfoBytes),
			set: func(g *imgate.Group, v string) { g.Ext = v }},
	} {
		s.handle("/group/info/"+f.name, anyToken, f.handler(s), post, put)
	}
	for path, f := range map[string]groupField[bool]{
		"allow_member_invitation": {name: "member_invite", set: func(g *imgate.Group, v bool) { g.MemberInvite = v }},
		"allow_member_modify":     {name: "member_modify", set: func(g *imgate.Group, v bool) { g.MemberModify = v }},
		"enable_read_ack":         {name: "read_ack", set: func(g *imgate.Group, v bool) { g.ReadAck = v }},
		"hide_member_info":        {name: "hide_member_info", set: func(g *imgate.Group, v bool) { g.HideMemberInfo = v }},
		"history_visible":         {name: "history_visible", set: func(g *imgate.Group, v bool) { g.HistoryVisible = v }},
	} {
		f.key = "value"
		s.handle("/group/settings/"+path, anyToken, f.handler(s), post, put)
	}
	approval := groupField[int]{name: "apply_approval", key: "apply_approval",
		check: intIn("apply_approval", imgate.ApplyAcceptAll, imgate.ApplyRejectAll, imgate.CodeInvalidParameter),
		set:   func(g *imgate.Group, v int) { g.ApplyApproval = v }}
	s.handle("/group/settings/require_admin_approval", anyToken, approval.handler(s), post, put)
}

func (s *Server) groupMemberSettingRoutes() {
	mute := memberField[int]{key: "msg_mute_mode", check: intIn("msg_mute_mode", 0, 2, imgate.CodeInvalidParameter),
		set: func(m *imgate.Member, v int) { m.MuteMode = v }}
	push := memberField[int]{key: "msg_push_mode", check: intIn("msg_push_mode", 0, 4, imgate.CodeIllegalPushMode),
		set: func(m *imgate.Member, v int) { m.PushMode = v }}
	// The web SDK's do-not-disturb switch is mute mode 1 (no local
	// notification) or 0.
	notDisturb := memberField[bool]{key: "value", set: func(m *imgate.Member, v bool) {
		m.MuteMode = 0
		if v {
			m.MuteMode = 1
		}
	}}
	s.handle("/group/msg/mute_mode", asUser, mute.handler(s), post, put)
	s.handle("/group/msg/push_mode", asUser, push.handler(s), post, put)
	s.handle("/group/msg/not_disturb", asUser, notDisturb.handler(s), post, put)
	s.handle("/group/display_name", asUser, s.setDisplayName, post, put)
	s.handle("/group/members/display_name", anyToken, s.displayNames, post)
}

// groupField is a setter of one of a group's info or settings fields from
// a body {group_id, <key>: value}. Admins may always set it; plain members
// only if byMembers and the group's MemberModify is on.
type groupField[T any] struct {
	name      string // the field in GroupInfoAndSettingsDto and in the notice
	key       string // the body's key for the value
	byMembers bool
	check     func(T) error // nil: any value
	set       func(*imgate.Group, T)
}

// handler answers true and tells every member INFO_UPDATED with
// {name: value} as content.
func (f groupField[T]) handler(s *Server) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		gid, v, err := groupValue[T](s, r, c, f.key, f.check)
		if err != nil {
			return nil, err
		}
		err = s.inGroup(r.Context(), c, gid, noRole, func(tx imgate.GroupTx, a actor) error {
			g := tx.Group()
			if err := a.need(f.rank(g)); err != nil {
				return err
			}
			at := groupTime()
			f.set(&g, v)
			g.UpdatedAt = at
			if err := tx.SaveGroup(g); err != nil {
				return err
			}
			return notifyMembers(tx, changeNotice(imgate.GroupInfoUpdated, a.userID, at, map[string]any{f.name: v}))
		})
		return true, err
	}
}

// rank is the least rank that may set the field in the group.
func (f groupField[T]) rank(g imgate.Group) imgate.Role {
	if f.byMembers && g.MemberModify {
		return imgate.RoleMember
	}
	return imgate.RoleAdmin
}

// memberField is a setter of one of the caller's own message settings in
// a group from a body {group_id, <key>: value}.
type memberField[T any] struct {
	key   string
	check func(T) error
	set   func(*imgate.Member, T)
}

// handler answers null, as MaxIM does, and tells the caller's devices
// MESSAGE_SETTING with the member's new settings as content.
func (f memberField[T]) handler(s *Server) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		gid, v, err := groupValue[T](s, r, c, f.key, f.check)
		if err != nil {
			return nil, err
		}
		return nil, s.changeMember(r.Context(), c, gid, func(tx imgate.GroupTx, m *imgate.Member, at time.Time) error {
			f.set(m, v)
			settings := map[string]any{"msg_mute_mode": m.MuteMode, "msg_push_mode": m.PushMode}
			return notifyUsers(tx, changeNotice(imgate.GroupMessageSetting, m.UserID, at, settings), m.UserID)
		})
	}
}

// POST|PUT /group/display_name {group_id, value}: the caller's own group
// card. Every member learns of it (INFO_UPDATED, to: the caller), as every
// member shows it, and the group's updated_at (member_list's version)
// moves.
func (s *Server) setDisplayName(r *http.Request, c *call) (any, error) {
	gid, v, err := groupValue[string](s, r, c, "value", limitChars("display name", maxNameLen))
	if err != nil {
		return nil, err
	}
	err = s.changeMember(r.Context(), c, gid, func(tx imgate.GroupTx, m *imgate.Member, at time.Time) error {
		m.DisplayName = v
		if err := touchLocked(tx, at); err != nil {
			return err
		}
		n := changeNotice(imgate.GroupInfoUpdated, m.UserID, at, map[string]any{"display_name": v})
		n.To = []int64{m.UserID}
		return notifyMembers(tx, n)
	})
	return true, err
}

// POST /group/members/display_name {group_id, user_list}: the listed
// members (in the list's order, non-members left out) with their cards;
// hide_member_info does not hide these.
func (s *Server) displayNames(r *http.Request, c *call) (any, error) {
	var req struct {
		GroupID  id   `json:"group_id"`
		UserList []id `json:"user_list"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := fillGroupID(c, &req.GroupID); err != nil {
		return nil, err
	}
	if err := s.checkList("user_list", len(req.UserList)); err != nil {
		return nil, err
	}
	gid := int64(req.GroupID)
	if _, _, _, err := s.readGroup(r.Context(), c, gid, imgate.RoleMember); err != nil {
		return nil, err
	}
	ms, err := s.store.MembersOf(r.Context(), c.app.ID, gid, ids(req.UserList))
	if err != nil {
		return nil, err
	}
	return membersInOrder(ms, ids(req.UserList), time.Now()), nil
}

func membersInOrder(ms []imgate.Member, order []int64, now time.Time) []groupMember {
	byID := make(map[int64]imgate.Member, len(ms))
	for _, m := range ms {
		byID[m.UserID] = m
	}
	out := make([]groupMember, 0, len(ms))
	for _, uid := range order {
		if m, ok := byID[uid]; ok {
			out = append(out, groupMemberOf(m, now))
			delete(byID, uid)
		}
	}
	return out
}

// changeMember applies fn to the caller's membership under the group's
// lock and saves it; fn stores the notices. Non-members get
// CodeNeedMember.
func (s *Server) changeMember(ctx context.Context, c *call, gid int64,
	fn func(tx imgate.GroupTx, m *imgate.Member, at time.Time) error) error {
	return s.inGroup(ctx, c, gid, imgate.RoleMember, func(tx imgate.GroupTx, a actor) error {
		m, _, err := tx.Member(a.userID)
		if err != nil {
			return err
		}
		if err := fn(tx, &m, groupTime()); err != nil {
			return err
		}
		return tx.SaveMember(m)
	})
}

// groupValue reads a body {group_id, <key>: value}; the value is required
// and checked by check when that is not nil.
func groupValue[T any](s *Server, r *http.Request, c *call, key string, check func(T) error) (int64, T, error) {
	var zero, v T
	var body map[string]json.RawMessage
	if err := s.decode(r, &body); err != nil {
		return 0, zero, err
	}
	var gid id
	if raw, ok := body["group_id"]; ok {
		if err := decodeBytes(raw, &gid); err != nil {
			return 0, zero, badParam("group_id must be a group id")
		}
	}
	if err := fillGroupID(c, &gid); err != nil {
		return 0, zero, err
	}
	raw, ok := body[key]
	if !ok || string(raw) == "null" {
		return 0, zero, badParam("%s is required", key)
	}
	if err := decodeBytes(raw, &v); err != nil {
		return 0, zero, badParam("%s must be a %T", key, v)
	}
	if check != nil {
		if err := check(v); err != nil {
			return 0, zero, err
		}
	}
	return int64(gid), v, nil
}

func checkGroupName(v string) error {
	if v == "" {
		return badParam("a group's name may not be empty")
	}
	return checkLen("name", v, maxNameLen)
}

func limitChars(field string, limit int) func(string) error {
	return func(v string) error { return checkLen(field, v, limit) }
}

func limitBytes(field string, limit int) func(string) error {
	return func(v string) error { return checkBytes(field, v, limit) }
}

// intIn checks that a value is from lo to hi, failing with the code.
func intIn(field string, lo, hi, code int) func(int) error {
	return func(v int) error {
		if v < lo || v > hi {
			return imgate.Errorf(code, "%s must be from %d to %d", field, lo, hi)
		}
		return nil
	}
}

// changeNotice is a group notice of a change from the user (0: an admin
// token); its content is what changed, as a JSON object.
func changeNotice(typ int, from int64, at time.Time, change map[string]any) imgate.Notice {
	n := newGroupNotice(typ, from, at)
	if b, err := json.Marshal(change); err == nil {
		n.Content = string(b)
	}
	return n
}
