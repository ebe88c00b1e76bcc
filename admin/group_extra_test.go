package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

// gxUser is a registered user and its token.
type gxUser struct {
	id  int64
	tok string
}

// gxGroup is a group with an owner, an admin, two plain members, and an
// outsider who is not in it.
type gxGroup struct {
	a                                       *api
	id                                      int64
	owner, admin, member, member2, outsider gxUser
}

// gxNewGroup makes a group through the store, its users named with the
// prefix.
func gxNewGroup(t *testing.T, a *api, prefix string) *gxGroup {
	t.Helper()
	user := func(name string) gxUser {
		id, tok := a.user(prefix + "_" + name)
		return gxUser{id, tok}
	}
	g := &gxGroup{a: a, owner: user("owner"), admin: user("admin"), member: user("member"), member2: user("member2"),
		outsider: user("outsider")}
	now := time.UnixMilli(time.Now().UnixMilli())
	roles := []struct {
		u    gxUser
		role imgate.Role
	}{{g.owner, imgate.RoleOwner}, {g.admin, imgate.RoleAdmin}, {g.member, imgate.RoleMember}, {g.member2, imgate.RoleMember}}
	created, err := a.store.CreateGroup(context.Background(), imgate.Group{AppID: a.app, Name: prefix, OwnerID: g.owner.id,
		Capacity: 100, ApplyApproval: imgate.ApplyByAdmin, CreatedAt: now, UpdatedAt: now}, func(tx imgate.GroupTx) error {
		for _, r := range roles {
			if err := tx.AddMember(imgate.Member{GroupID: tx.Group().ID, UserID: r.u.id, Role: r.role, JoinedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	g.id = created.ID
	return g
}

// in returns the api and the group reporting to the subtest t.
func (g *gxGroup) in(t *testing.T) (*api, *gxGroup) {
	c := *g
	c.a = reportTo(g.a, t)
	return c.a, &c
}

// gxCaller is one way of calling the API; from is the Notice.From its
// changes carry.
type gxCaller struct {
	name string
	hs   h
	from int64
}

// admins are the callers that rank as the group's admin or above.
func (g *gxGroup) admins() []gxCaller {
	a := g.a
	return []gxCaller{
		{"owner token", a.as(g.owner.tok), g.owner.id},
		{"admin token", a.as(g.admin.tok), g.admin.id},
		{"admin token as admin user", a.as(a.admin, g.admin.id), g.admin.id},
		{"admin token for the group", g.asGroupAdmin(g.id), 0},
		{"admin token for the app", a.as(a.admin), 0},
	}
}

// members are the callers that rank as a plain member.
func (g *gxGroup) members() []gxCaller {
	return []gxCaller{
		{"member token", g.a.as(g.member.tok), g.member.id},
		{"admin token as member", g.a.as(g.a.admin, g.member.id), g.member.id},
	}
}

// outsiders are the callers that are not members.
func (g *gxGroup) outsiders() []gxCaller {
	return []gxCaller{
		{"outsider token", g.a.as(g.outsider.tok), g.outsider.id},
		{"admin token as outsider", g.a.as(g.a.admin, g.outsider.id), g.outsider.id},
	}
}

// asGroupAdmin is an admin token with the group_id header.
func (g *gxGroup) asGroupAdmin(gid int64) h {
	return h{"app_id": g.a.app, "access-token": g.a.admin, "group_id": jsonString(gid)}
}

func (g *gxGroup) everyone() []int64 {
	return []int64{g.owner.id, g.admin.id, g.member.id, g.member2.id, g.outsider.id}
}

func (g *gxGroup) memberIDs() []int64 {
	return []int64{g.owner.id, g.admin.id, g.member.id, g.member2.id}
}

func (g *gxGroup) get(t *testing.T) imgate.Group {
	t.Helper()
	got, err := g.a.store.Group(context.Background(), g.a.app, g.id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (g *gxGroup) memberOf(t *testing.T, uid int64) imgate.Member {
	t.Helper()
	m, ok, err := g.a.store.Member(context.Background(), g.a.app, g.id, uid)
	if err != nil || !ok {
		t.Fatalf("member %d: ok %v, %v", uid, ok, err)
	}
	return m
}

// gxMark is the last notice seq of each user.
type gxMark map[int64]int64

func (g *gxGroup) mark(t *testing.T) gxMark {
	t.Helper()
	m := gxMark{}
	for _, uid := range g.everyone() {
		ns := g.notices(t, uid, 0)
		if len(ns) > 0 {
			m[uid] = ns[len(ns)-1].Seq
		}
	}
	return m
}

func (g *gxGroup) notices(t *testing.T, uid, after int64) []imgate.Notice {
	t.Helper()
	ns, err := g.a.store.Notices(context.Background(), g.a.app, uid, after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// wantNotices checks that since the mark each recipient got exactly one
// notice, a group notice of the type from the user about this group, and
// everyone else none; it returns the recipients' notices.
func (g *gxGroup) wantNotices(t *testing.T, since gxMark, typ int, from int64, recipients ...int64) []imgate.Notice {
	t.Helper()
	var out []imgate.Notice
	for _, uid := range g.everyone() {
		ns := g.notices(t, uid, since[uid])
		if !slices.Contains(recipients, uid) {
			if len(ns) != 0 {
				t.Errorf("user %d got %d notices, want none: %+v", uid, len(ns), ns)
			}
			continue
		}
		if len(ns) != 1 {
			t.Errorf("user %d got %d notices, want 1: %+v", uid, len(ns), ns)
			continue
		}
		n := ns[0]
		if n.Kind != imgate.NoticeGroup || n.Type != typ || n.GroupID != g.id || n.From != from || n.UserID != uid || n.AppID != g.a.app {
			t.Errorf("user %d got notice %+v, want kind %d type %d group %d from %d", uid, n, imgate.NoticeGroup, typ, g.id, from)
		}
		out = append(out, n)
	}
	return out
}

// wantNone checks that nobody got a notice since the mark.
func (g *gxGroup) wantNone(t *testing.T, since gxMark) {
	t.Helper()
	g.wantNotices(t, since, 0, 0)
}

// wantContent checks that every notice's content is the JSON object.
func wantContent(t *testing.T, ns []imgate.Notice, want map[string]any) {
	t.Helper()
	js, _ := json.Marshal(want)
	var norm map[string]any
	_ = json.Unmarshal(js, &norm)
	for _, n := range ns {
		var got map[string]any
		if err := json.Unmarshal([]byte(n.Content), &got); err != nil || !reflect.DeepEqual(got, norm) {
			t.Errorf("notice content: got %s, want %s", n.Content, js)
		}
	}
}

var gxMethods = []string{"POST", "PUT"}

// gxUserOnly are the paths that set the acting user's own settings: an
// admin token must name the user.
var gxUserOnly = map[string]bool{"/group/msg/mute_mode": true, "/group/msg/push_mode": true, "/group/msg/not_disturb": true,
	"/group/display_name": true}

func TestGroupExtraInfoSetters(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gxNewGroup(t, a, "info")
		fields := []struct {
			path string
			good string
			bad  map[string]any // name: the value, each a bad parameter
			got  func(imgate.Group) string
		}{
			{"name", "名" + strings.Repeat("n", 63), map[string]any{"empty": "", "65 chars": strings.Repeat("名", 65), "number": 5},
				func(g imgate.Group) string { return g.Name }},
			{"description", strings.Repeat("d", 1024), map[string]any{"1025 chars": strings.Repeat("d", 1025), "bool": true},
				func(g imgate.Group) string { return g.Description }},
			{"avatar", "https://cdn.example/" + strings.Repeat("a", 1004), map[string]any{"1025 chars": strings.Repeat("a", 1025)},
				func(g imgate.Group) string { return g.Avatar }},
			{"ext", `{"k":"` + strings.Repeat("e", 16<<10-8) + `"}`, map[string]any{"16 KiB + 1": strings.Repeat("e", 16<<10+1),
				"object": map[string]any{"k": 1}}, func(g imgate.Group) string { return g.Ext }},
		}
		for _, f := range fields {
			path := "/group/info/" + f.path
			t.Run(f.path, func(t *testing.T) {
				a, g := g.in(t)
				for _, m := range gxMethods {
					for i, c := range g.admins() {
						v := fmt.Sprintf("%s %s %d", f.path, m, i)
						mark, before := g.mark(t), time.Now().UnixMilli()
						r := a.ok(m, path, c.hs, map[string]any{"group_id": g.id, "value": v}, nil)
						if string(r.Data) != "true" {
							t.Errorf("%s %s as %s: data %s, want true", m, path, c.name, r.Data)
						}
						if got := f.got(g.get(t)); got != v {
							t.Errorf("%s %s as %s: stored %q, want %q", m, path, c.name, got, v)
						}
						if got := g.get(t).UpdatedAt.UnixMilli(); got < before {
							t.Errorf("updated_at %d, want from %d on", got, before)
						}
						ns := g.wantNotices(t, mark, imgate.GroupInfoUpdated, c.from, g.memberIDs()...)
						wantContent(t, ns, map[string]any{f.path: v})
					}
				}
				a.ok("POST", path, g.admins()[0].hs, map[string]any{"group_id": jsonString(g.id), "value": f.good}, nil)
				if got := f.got(g.get(t)); got != f.good {
					t.Errorf("longest value: stored %d bytes, want %d", len(got), len(f.good))
				}
				for name, v := range f.bad {
					t.Run(name, func(t *testing.T) {
						a, g := g.in(t)
						a.fails(imgate.CodeInvalidParameter, "POST", path, a.as(g.owner.tok), map[string]any{"group_id": g.id, "value": v})
					})
				}
				if got := f.got(g.get(t)); got != f.good {
					t.Errorf("bad values changed the field to %q", got)
				}
			})
		}
		t.Run("member_modify", func(t *testing.T) {
			a, g := g.in(t)
			mark := g.mark(t)
			for _, c := range g.members() {
				a.fails(imgate.CodeNeedAdmin, "POST", "/group/info/name", c.hs, map[string]any{"group_id": g.id, "value": "x"})
			}
			// As across the group API, a caller below the rank needed gets
			// that rank's code: outsiders too get 20012 where admins are needed.
			for _, c := range g.outsiders() {
				a.fails(imgate.CodeNeedAdmin, "POST", "/group/info/name", c.hs, map[string]any{"group_id": g.id, "value": "x"})
			}
			g.wantNone(t, mark)
			a.ok("POST", "/group/settings/allow_member_modify", a.as(g.owner.tok), map[string]any{"group_id": g.id, "value": true}, nil)
			for _, c := range g.members() {
				for _, f := range fields {
					mark := g.mark(t)
					a.ok("PUT", "/group/info/"+f.path, c.hs, map[string]any{"group_id": g.id, "value": "by " + c.name}, nil)
					ns := g.wantNotices(t, mark, imgate.GroupInfoUpdated, c.from, g.memberIDs()...)
					wantContent(t, ns, map[string]any{f.path: "by " + c.name})
				}
			}
			for _, c := range g.outsiders() {
				a.fails(imgate.CodeNeedMember, "POST", "/group/info/avatar", c.hs, map[string]any{"group_id": g.id, "value": "x"})
			}
		})
		gxCommonFailures(t, g, gxMethods, "/group/info/name", map[string]any{"value": "n"})
	})
}

// gxCommonFailures checks what every group body path rejects: an unknown
// group, a missing or malformed group_id, an empty body, and on paths
// that do not act as a user an admin token for another group. body is a
// valid body without group_id.
func gxCommonFailures(t *testing.T, g *gxGroup, methods []string, path string, body map[string]any) {
	with := func(gid any) map[string]any {
		out := map[string]any{"group_id": gid}
		for k, v := range body {
			out[k] = v
		}
		return out
	}
	t.Run("common failures", func(t *testing.T) {
		a, g := g.in(t)
		mark := g.mark(t)
		for _, m := range methods {
			a.fails(imgate.CodeGroupNotFound, m, path, a.as(g.owner.tok), with(g.id+1_000_000))
			a.fails(imgate.CodeGroupNotFound, m, path, a.as(a.admin, g.owner.id), with(jsonString(g.id+1_000_000)))
			a.fails(imgate.CodeInvalidParameter, m, path, a.as(g.owner.tok), body)
			a.fails(imgate.CodeInvalidParameter, m, path, a.as(g.owner.tok), with("abc"))
			a.fails(imgate.CodeInvalidParameter, m, path, a.as(g.owner.tok), with(-3))
			a.fails(imgate.CodeInvalidParameter, m, path, a.as(g.owner.tok), "")
			a.fails(imgate.CodeInvalidParameter, m, path, a.as(g.owner.tok), "{")
			if !gxUserOnly[path] {
				a.fails(imgate.CodeNeedAdmin, m, path, g.asGroupAdmin(g.id+1_000_000), with(g.id))
			}
		}
		g.wantNone(t, mark)
	})
}

func TestGroupExtraSettings(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gxNewGroup(t, a, "settings")
		bools := []struct {
			path, field string
			got         func(imgate.Group) bool
		}{
			{"allow_member_invitation", "member_invite", func(g imgate.Group) bool { return g.MemberInvite }},
			{"allow_member_modify", "member_modify", func(g imgate.Group) bool { return g.MemberModify }},
			{"enable_read_ack", "read_ack", func(g imgate.Group) bool { return g.ReadAck }},
			{"hide_member_info", "hide_member_info", func(g imgate.Group) bool { return g.HideMemberInfo }},
			{"history_visible", "history_visible", func(g imgate.Group) bool { return g.HistoryVisible }},
		}
		for _, b := range bools {
			path := "/group/settings/" + b.path
			t.Run(b.path, func(t *testing.T) {
				a, g := g.in(t)
				for _, m := range gxMethods {
					for i, c := range g.admins() {
						v := (i+len(m))%2 == 0
						mark := g.mark(t)
						r := a.ok(m, path, c.hs, map[string]any{"group_id": g.id, "value": v}, nil)
						if string(r.Data) != "true" {
							t.Errorf("%s %s as %s: data %s, want true", m, path, c.name, r.Data)
						}
						if got := b.got(g.get(t)); got != v {
							t.Errorf("%s %s as %s: stored %v, want %v", m, path, c.name, got, v)
						}
						ns := g.wantNotices(t, mark, imgate.GroupInfoUpdated, c.from, g.memberIDs()...)
						wantContent(t, ns, map[string]any{b.field: v})
					}
				}
				before := b.got(g.get(t))
				mark := g.mark(t)
				for _, c := range g.members() {
					a.fails(imgate.CodeNeedAdmin, "POST", path, c.hs, map[string]any{"group_id": g.id, "value": !before})
				}
				for _, c := range g.outsiders() {
					a.fails(imgate.CodeNeedAdmin, "PUT", path, c.hs, map[string]any{"group_id": g.id, "value": !before})
				}
				for _, v := range []any{"yes", 1, nil, []bool{true}} {
					a.fails(imgate.CodeInvalidParameter, "POST", path, a.as(g.owner.tok), map[string]any{"group_id": g.id, "value": v})
				}
				a.fails(imgate.CodeInvalidParameter, "POST", path, a.as(g.owner.tok), map[string]any{"group_id": g.id})
				g.wantNone(t, mark)
				if got := b.got(g.get(t)); got != before {
					t.Errorf("refused calls changed %s", b.field)
				}
			})
		}
		t.Run("member_modify does not open settings", func(t *testing.T) {
			a, g := g.in(t)
			a.ok("POST", "/group/settings/allow_member_modify", a.as(g.owner.tok), map[string]any{"group_id": g.id, "value": true}, nil)
			a.fails(imgate.CodeNeedAdmin, "POST", "/group/settings/enable_read_ack", a.as(g.member.tok), map[string]any{"group_id": g.id, "value": true})
		})
		t.Run("require_admin_approval", func(t *testing.T) {
			a, g := g.in(t)
			path := "/group/settings/require_admin_approval"
			for _, m := range gxMethods {
				for i, c := range g.admins() {
					v := (i + len(m)) % 3
					mark := g.mark(t)
					r := a.ok(m, path, c.hs, map[string]any{"group_id": g.id, "apply_approval": v}, nil)
					if string(r.Data) != "true" {
						t.Errorf("data %s, want true", r.Data)
					}
					if got := g.get(t).ApplyApproval; got != v {
						t.Errorf("%s as %s: apply_approval %d, want %d", m, c.name, got, v)
					}
					ns := g.wantNotices(t, mark, imgate.GroupInfoUpdated, c.from, g.memberIDs()...)
					wantContent(t, ns, map[string]any{"apply_approval": v})
				}
			}
			before := g.get(t).ApplyApproval
			for _, v := range []any{3, -1, "1", true, nil} {
				a.fails(imgate.CodeInvalidParameter, "POST", path, a.as(g.owner.tok), map[string]any{"group_id": g.id, "apply_approval": v})
			}
			a.fails(imgate.CodeInvalidParameter, "POST", path, a.as(g.owner.tok), map[string]any{"group_id": g.id, "value": 1})
			a.fails(imgate.CodeNeedAdmin, "POST", path, a.as(g.member.tok), map[string]any{"group_id": g.id, "apply_approval": 0})
			a.fails(imgate.CodeNeedAdmin, "POST", path, a.as(g.outsider.tok), map[string]any{"group_id": g.id, "apply_approval": 0})
			if got := g.get(t).ApplyApproval; got != before {
				t.Errorf("refused calls changed apply_approval to %d", got)
			}
			gxCommonFailures(t, g, gxMethods, path, map[string]any{"apply_approval": 2})
		})
		gxCommonFailures(t, g, gxMethods, "/group/settings/history_visible", map[string]any{"value": true})
	})
}

func TestGroupExtraMsgMode(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gxNewGroup(t, a, "msg")
		// Each caller sets its own user's settings.
		callers := []struct {
			name string
			hs   h
			uid  int64
		}{
			{"member token", a.as(g.member.tok), g.member.id},
			{"admin token as member", a.as(a.admin, g.member2.id), g.member2.id},
			{"owner token", a.as(g.owner.tok), g.owner.id},
		}
		set := func(t *testing.T, m, path string, c int, body map[string]any, wantMute, wantPush int) {
			t.Helper()
			a := reportTo(a, t)
			who := callers[c]
			mark := g.mark(t)
			body["group_id"] = g.id
			r := a.ok(m, path, who.hs, body, nil)
			if path != "/group/msg/not_disturb" && string(r.Data) != "null" {
				t.Errorf("%s %s: data %s, want null", m, path, r.Data)
			}
			got := g.memberOf(t, who.uid)
			if got.MuteMode != wantMute || got.PushMode != wantPush {
				t.Errorf("%s %s as %s: mute %d push %d, want %d %d", m, path, who.name, got.MuteMode, got.PushMode, wantMute, wantPush)
			}
			ns := g.wantNotices(t, mark, imgate.GroupMessageSetting, who.uid, who.uid)
			wantContent(t, ns, map[string]any{"msg_mute_mode": wantMute, "msg_push_mode": wantPush})
		}
		for c := range callers {
			for _, m := range gxMethods {
				for mode := 0; mode <= 4; mode++ {
					set(t, m, "/group/msg/push_mode", c, map[string]any{"msg_push_mode": mode}, 0, mode)
				}
				for mode := 2; mode >= 0; mode-- {
					set(t, m, "/group/msg/mute_mode", c, map[string]any{"msg_mute_mode": mode}, mode, 4)
				}
				set(t, m, "/group/msg/not_disturb", c, map[string]any{"value": true}, 1, 4)
				set(t, m, "/group/msg/not_disturb", c, map[string]any{"value": false}, 0, 4)
			}
		}
		t.Run("illegal values", func(t *testing.T) {
			a, g := g.in(t)
			mark := g.mark(t)
			tok := a.as(g.member.tok)
			for _, v := range []any{5, -1, 100} {
				a.fails(imgate.CodeIllegalPushMode, "POST", "/group/msg/push_mode", tok, map[string]any{"group_id": g.id, "msg_push_mode": v})
			}
			for _, v := range []any{"2", nil, true} {
				a.fails(imgate.CodeInvalidParameter, "POST", "/group/msg/push_mode", tok, map[string]any{"group_id": g.id, "msg_push_mode": v})
			}
			for _, v := range []any{3, -1, "1", nil} {
				a.fails(imgate.CodeInvalidParameter, "PUT", "/group/msg/mute_mode", tok, map[string]any{"group_id": g.id, "msg_mute_mode": v})
			}
			for _, v := range []any{"yes", 1, nil} {
				a.fails(imgate.CodeInvalidParameter, "POST", "/group/msg/not_disturb", tok, map[string]any{"group_id": g.id, "value": v})
			}
			g.wantNone(t, mark)
		})
		t.Run("who", func(t *testing.T) {
			a, g := g.in(t)
			for _, path := range []string{"/group/msg/mute_mode", "/group/msg/push_mode", "/group/msg/not_disturb"} {
				body := map[string]any{"group_id": g.id, "msg_mute_mode": 1, "msg_push_mode": 1, "value": true}
				for _, c := range g.outsiders() {
					a.fails(imgate.CodeNeedMember, "POST", path, c.hs, body)
				}
				// Settings are a user's own: an admin token must name the user.
				a.fails(imgate.CodeInvalidParameter, "POST", path, a.as(a.admin), body)
				a.fails(imgate.CodeInvalidParameter, "POST", path, g.asGroupAdmin(g.id), body)
				body["group_id"] = g.id + 1_000_000
				a.fails(imgate.CodeGroupNotFound, "POST", path, a.as(g.member.tok), body)
			}
		})
		gxCommonFailures(t, g, gxMethods, "/group/msg/push_mode", map[string]any{"msg_push_mode": 1})
	})
}

func TestGroupExtraDisplayName(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gxNewGroup(t, a, "card")
		t.Run("set", func(t *testing.T) {
			a, g := g.in(t)
			for _, m := range gxMethods {
				for _, who := range []struct {
					hs  h
					uid int64
				}{{a.as(g.member.tok), g.member.id}, {a.as(a.admin, g.admin.id), g.admin.id}} {
					v := fmt.Sprintf("card %s %d", m, who.uid)
					mark, before := g.mark(t), time.Now().UnixMilli()
					r := a.ok(m, "/group/display_name", who.hs, map[string]any{"group_id": jsonString(g.id), "value": v}, nil)
					if string(r.Data) != "true" {
						t.Errorf("data %s, want true", r.Data)
					}
					if got := g.memberOf(t, who.uid).DisplayName; got != v {
						t.Errorf("display name %q, want %q", got, v)
					}
					if got := g.get(t).UpdatedAt.UnixMilli(); got < before {
						t.Errorf("group updated_at %d, want from %d on (member_list's version follows cards)", got, before)
					}
					ns := g.wantNotices(t, mark, imgate.GroupInfoUpdated, who.uid, g.memberIDs()...)
					wantContent(t, ns, map[string]any{"display_name": v})
					for _, n := range ns {
						if !slices.Equal(n.To, []int64{who.uid}) {
							t.Errorf("notice to %v, want [%d]", n.To, who.uid)
						}
					}
				}
			}
			long := strings.Repeat("卡", 64)
			a.ok("POST", "/group/display_name", a.as(g.member2.tok), map[string]any{"group_id": g.id, "value": long}, nil)
			a.ok("POST", "/group/display_name", a.as(g.member2.tok), map[string]any{"group_id": g.id, "value": ""}, nil)
			if got := g.memberOf(t, g.member2.id).DisplayName; got != "" {
				t.Errorf("display name %q after clearing it", got)
			}
			mark := g.mark(t)
			a.fails(imgate.CodeInvalidParameter, "POST", "/group/display_name", a.as(g.member2.tok),
				map[string]any{"group_id": g.id, "value": long + "x"})
			a.fails(imgate.CodeInvalidParameter, "POST", "/group/display_name", a.as(g.member2.tok), map[string]any{"group_id": g.id})
			for _, c := range g.outsiders() {
				a.fails(imgate.CodeNeedMember, "PUT", "/group/display_name", c.hs, map[string]any{"group_id": g.id, "value": "x"})
			}
			a.fails(imgate.CodeInvalidParameter, "POST", "/group/display_name", a.as(a.admin), map[string]any{"group_id": g.id, "value": "x"})
			g.wantNone(t, mark)
			gxCommonFailures(t, g, gxMethods, "/group/display_name", map[string]any{"value": "x"})
		})
		t.Run("get", func(t *testing.T) {
			a, g := g.in(t)
			a.ok("POST", "/group/settings/hide_member_info", a.as(g.owner.tok), map[string]any{"group_id": g.id, "value": true}, nil)
			a.ok("POST", "/group/display_name", a.as(g.member.tok), map[string]any{"group_id": g.id, "value": "M"}, nil)
			a.ok("POST", "/group/display_name", a.as(g.owner.tok), map[string]any{"group_id": g.id, "value": ""}, nil)
			list := []any{g.member.id, jsonString(g.owner.id), g.outsider.id, g.id + 1_000_000, g.member.id}
			callers := append(append(g.members(), g.admins()...), gxCaller{"member2 token", a.as(g.member2.tok), 0})
			for _, c := range callers {
				r := a.ok("POST", "/group/members/display_name", c.hs, map[string]any{"group_id": g.id, "user_list": list}, nil)
				var got []json.RawMessage
				if err := json.Unmarshal(r.Data, &got); err != nil || len(got) != 2 {
					t.Fatalf("as %s: data %s, want two members", c.name, r.Data)
				}
				if k := keys(t, got[0]); !slices.Equal(k, []string{"display_name", "join_time", "user_id"}) {
					t.Errorf("GroupMember keys %v", k)
				}
				if k := keys(t, got[1]); !slices.Equal(k, []string{"join_time", "user_id"}) {
					t.Errorf("GroupMember keys without a card %v", k)
				}
				var ms []struct {
					UserID      int64  `json:"user_id"`
					DisplayName string `json:"display_name"`
					JoinTime    int64  `json:"join_time"`
				}
				_ = json.Unmarshal(r.Data, &ms)
				want := g.memberOf(t, g.member.id).JoinedAt.UnixMilli()
				if ms[0].UserID != g.member.id || ms[0].DisplayName != "M" || ms[0].JoinTime != want || ms[1].UserID != g.owner.id {
					t.Errorf("as %s: got %s", c.name, r.Data)
				}
			}
			for _, c := range g.outsiders() {
				a.fails(imgate.CodeNeedMember, "POST", "/group/members/display_name", c.hs, map[string]any{"group_id": g.id, "user_list": list})
			}
			for _, bad := range []any{[]any{}, nil, "x", []any{"x"}, make([]int64, 51)} {
				a.fails(imgate.CodeInvalidParameter, "POST", "/group/members/display_name", a.as(g.member.tok),
					map[string]any{"group_id": g.id, "user_list": bad})
			}
			gxCommonFailures(t, g, []string{"POST"}, "/group/members/display_name", map[string]any{"user_list": list})
		})
	})
}
