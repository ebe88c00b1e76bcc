package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

// gcNobody is an id of no user and no group.
const gcNobody = int64(1) << 50

// gcUser is a registered user with a token.
type gcUser struct {
	id  int64
	tok string
}

// gcGroup is a group made through the API: its owner created it with the
// admin and two members, made the admin an admin; the outsider is not in
// it.
type gcGroup struct {
	a                                       *api
	id                                      int64
	owner, admin, member, member2, outsider gcUser
}

func gcNew(t *testing.T, a *api, prefix string) *gcGroup {
	t.Helper()
	a = reportTo(a, t)
	user := func(name string) gcUser {
		id, tok := a.user(prefix + "_" + name)
		return gcUser{id, tok}
	}
	g := &gcGroup{a: a, owner: user("owner"), admin: user("admin"), member: user("member"), member2: user("member2"),
		outsider: user("outsider")}
	var info struct {
		GroupID int64 `json:"group_id"`
	}
	a.ok("POST", "/group/create", a.as(g.owner.tok),
		map[string]any{"name": prefix, "user_list": []int64{g.admin.id, g.member.id, g.member2.id}}, &info)
	g.id = info.GroupID
	a.ok("POST", "/group/admin/add", a.as(g.owner.tok), map[string]any{"group_id": g.id, "user_list": []int64{g.admin.id}}, nil)
	return g
}

func (g *gcGroup) everyone() []int64 {
	return []int64{g.owner.id, g.admin.id, g.member.id, g.member2.id, g.outsider.id}
}

func (g *gcGroup) q(path string) string { return fmt.Sprintf("%s?group_id=%d", path, g.id) }

// body is a request body about the group with the user list.
func (g *gcGroup) body(users ...int64) map[string]any {
	return map[string]any{"group_id": g.id, "user_list": users}
}

// gcSetGroup edits a group straight in the store.
func gcSetGroup(t *testing.T, a *api, gid int64, edit func(*imgate.Group)) {
	t.Helper()
	err := a.store.UpdateGroup(context.Background(), a.app, gid, func(tx imgate.GroupTx) error {
		g := tx.Group()
		edit(&g)
		return tx.SaveGroup(g)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// gcMembers pages through the group's member list and returns the ids.
func gcMembers(t *testing.T, a *api, hs h, gid int64) []int64 {
	t.Helper()
	var out []int64
	cursor := ""
	for {
		var page []struct {
			UserID int64 `json:"user_id"`
		}
		r := reportTo(a, t).ok("GET", withQuery("/group/member_list", "group_id", jsonString(gid), "cursor", cursor), hs, nil, &page)
		for _, m := range page {
			out = append(out, m.UserID)
		}
		if cursor = r.Cursor; cursor == "" {
			return out
		}
	}
}

func gcSorted(ids ...int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// gcWantMembers checks the group's members, in any order.
func gcWantMembers(t *testing.T, a *api, gid int64, want ...int64) {
	t.Helper()
	if got := gcMembers(t, a, a.as(a.admin), gid); !slices.Equal(gcSorted(got...), gcSorted(want...)) {
		t.Errorf("members of %d: got %v, want %v", gid, got, want)
	}
}

// gcResult is GroupUserRelationResponse.
type gcResult struct {
	UserID int64  `json:"user_id"`
	Result string `json:"result"`
	Reason string `json:"reason"`
}

// gcResults sends a request answered with per-user results and checks
// each user's result ("success" or "fail").
func gcResults(t *testing.T, a *api, method, path string, hs h, body any, want map[int64]string) {
	t.Helper()
	var got []gcResult
	reportTo(a, t).ok(method, path, hs, body, &got)
	if len(got) != len(want) {
		t.Errorf("%s: got %d results %+v, want %d", path, len(got), got, len(want))
	}
	for _, r := range got {
		if w, ok := want[r.UserID]; !ok || r.Result != w || (w == "fail") != (r.Reason != "") {
			t.Errorf("%s: user %d got %+v, want %q", path, r.UserID, r, w)
		}
	}
}

// gcMark is the last notice seq of each user.
type gcMark map[int64]int64

func gcMarkOf(t *testing.T, a *api, users ...int64) gcMark {
	t.Helper()
	m := gcMark{}
	for _, uid := range users {
		if ns := gcNotices(t, a, uid, 0); len(ns) > 0 {
			m[uid] = ns[len(ns)-1].Seq
		}
	}
	return m
}

func gcNotices(t *testing.T, a *api, uid, after int64) []imgate.Notice {
	t.Helper()
	ns, err := a.store.Notices(context.Background(), a.app, uid, after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// gcWant is an expected notice: its type, sender and subjects (To).
type gcWant struct {
	typ  int
	from int64
	to   []int64
}

// wantNotices checks that since the mark each user of the mark got the
// notices of the group listed for it, in order, and nothing else.
func (m gcMark) want(t *testing.T, a *api, gid int64, got map[int64][]gcWant) {
	t.Helper()
	for uid, since := range m {
		ns := gcNotices(t, a, uid, since)
		want := got[uid]
		if len(ns) != len(want) {
			t.Errorf("user %d got %d notices %+v, want %d %+v", uid, len(ns), ns, len(want), want)
			continue
		}
		for i, n := range ns {
			w := want[i]
			if n.Kind != imgate.NoticeGroup || n.Type != w.typ || n.From != w.from || n.GroupID != gid || n.AppID != a.app ||
				n.UserID != uid || !slices.Equal(gcSorted(n.To...), gcSorted(w.to...)) || n.At.IsZero() {
				t.Errorf("user %d notice %d: got %+v, want type %d from %d to %v in group %d", uid, i, n, w.typ, w.from, w.to, gid)
			}
		}
	}
}

// gcAll maps each user to the same expected notices.
func gcAll(users []int64, want ...gcWant) map[int64][]gcWant {
	out := map[int64][]gcWant{}
	for _, u := range users {
		out[u] = append(out[u], want...)
	}
	return out
}

func TestGroupSeedExamples(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		owner, _ := a.user("seed_owner")
		u1, _ := a.user("seed_u1")
		u2, _ := a.user("seed_u2")
		hs := a.as(a.admin, owner)
		r := a.ok("POST", "/group/create", hs, `{ "name": "g001", "description": "test-group"}`, nil)
		got := keys(t, r.Data)
		for _, k := range []string{"name", "status", "description", "type", "group_id", "owner_id", "created_at", "updated_at",
			"member_invite", "apply_approval", "read_ack", "history_visible", "member_modify"} {
			if !slices.Contains(got, k) {
				t.Errorf("/group/create answer lacks %q: %s", k, r.Data)
			}
		}
		var g map[string]any
		json.Unmarshal(r.Data, &g)
		for k, v := range map[string]any{"name": "g001", "description": "test-group", "status": 0.0, "type": 0.0,
			"owner_id": float64(owner), "member_invite": true, "apply_approval": 1.0, "read_ack": false,
			"history_visible": false, "member_modify": false, "count": 1.0, "capacity": float64(imgate.DefaultGroupCapacity)} {
			if g[k] != v {
				t.Errorf("/group/create %s: got %v, want %v", k, g[k], v)
			}
		}
		if g["created_at"].(float64) < float64(time.Now().Add(-time.Minute).UnixMilli()) {
			t.Errorf("created_at %v is not ms of now", g["created_at"])
		}
		gid := int64(g["group_id"].(float64))

		r = a.ok("POST", "/group/invite", hs, fmt.Sprintf(`{ "group_id": %d, "user_list": [%d, %d]}`, gid, u1, u2), nil)
		if want := fmt.Sprintf(`[{"user_id":%d,"result":"success"},{"user_id":%d,"result":"success"}]`, u1, u2); string(r.Data) != want {
			t.Errorf("/group/invite: got %s, want %s", r.Data, want)
		}

		var ms []map[string]json.RawMessage
		r = a.ok("GET", fmt.Sprintf("/group/member_list?group_id=%d&limit=50", gid), hs, nil, &ms)
		if len(ms) != 3 || r.Version == nil || *r.Version <= 0 || r.Cursor != "" {
			t.Fatalf("/group/member_list: got %s", r.raw)
		}
		for i, want := range []int64{owner, u1, u2} {
			var m struct {
				UserID   int64 `json:"user_id"`
				JoinTime int64 `json:"join_time"`
			}
			b, _ := json.Marshal(ms[i])
			json.Unmarshal(b, &m)
			if m.UserID != want || m.JoinTime < time.Now().Add(-time.Minute).UnixMilli() {
				t.Errorf("member %d: got %s, want user %d with a join_time", i, b, want)
			}
		}

		r = a.ok("DELETE", fmt.Sprintf("/group/destroy?group_id=%d", gid), hs, nil, nil)
		if string(r.Data) != "true" {
			t.Errorf("/group/destroy: got %s, want true", r.Data)
		}
		a.fails(imgate.CodeGroupNotFound, "GET", fmt.Sprintf("/group/info?group_id=%d", gid), hs, nil)
	})
}

func TestGroupCreate(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		owner, tok := a.user("cr_owner")
		m1, _ := a.user("cr_m1")
		m2, _ := a.user("cr_m2")
		t.Run("members and notices", func(t *testing.T) {
			a := reportTo(a, t)
			mark := gcMarkOf(t, a, owner, m1, m2)
			var info map[string]any
			a.ok("POST", "/group/create", a.as(tok), map[string]any{"name": "crew", "avatar": "http://a/b.png", "type": 1,
				"user_list": []any{m1, jsonString(m2), m1, owner}}, &info)
			gid := int64(info["group_id"].(float64))
			if info["count"] != 3.0 || info["type"] != 1.0 || info["avatar"] != "http://a/b.png" || info["owner_id"] != float64(owner) {
				t.Errorf("create: got %v", info)
			}
			gcWantMembers(t, a, gid, owner, m1, m2)
			mark.want(t, a, gid, gcAll([]int64{owner, m1, m2}, gcWant{imgate.GroupCreated, owner, []int64{m1, m2}}))
			var pub []int64
			a.ok("GET", "/group/public_list", a.as(tok), nil, &pub)
			if !slices.Contains(pub, gid) {
				t.Errorf("public_list %v lacks public group %d", pub, gid)
			}
		})
		t.Run("bad requests", func(t *testing.T) {
			a := reportTo(a, t)
			for name, body := range map[string]any{
				"no name": map[string]any{"description": "x"}, "type 4": map[string]any{"name": "x", "type": 4},
				"type -1": map[string]any{"name": "x", "type": -1}, "long name": map[string]any{"name": string(make([]byte, 65))},
				"bad list": map[string]any{"name": "x", "user_list": []string{"me"}}, "empty": "",
			} {
				t.Run(name, func(t *testing.T) {
					reportTo(a, t).fails(imgate.CodeInvalidParameter, "POST", "/group/create", a.as(tok), body)
				})
			}
			a.fails(imgate.CodeInvalidParameter, "POST", "/group/create", a.as(a.admin), map[string]any{"name": "x"})
			a.fails(imgate.CodeUserNotFound, "POST", "/group/create", a.as(tok), map[string]any{"name": "x", "user_list": []int64{gcNobody}})
		})
		t.Run("limits", func(t *testing.T) {
			for _, c := range []struct {
				name string
				lim  imgate.AppLimits
				code int
				list bool // the extra user, not the owner, hits the limit
			}{
				{"groups of the app", imgate.AppLimits{GroupsPerApp: 1}, imgate.CodeAppGroupLimit, false},
				{"groups owned", imgate.AppLimits{GroupsOwnedPerUser: 1}, imgate.CodeOwnedGroupLimit, false},
				{"groups joined by the owner", imgate.AppLimits{GroupsJoinedPerUser: 1}, imgate.CodeJoinedGroupLimit, false},
				{"groups joined by a member", imgate.AppLimits{GroupsJoinedPerUser: 1}, imgate.CodeJoinedGroupLimit, true},
				{"capacity", imgate.AppLimits{GroupCapacity: 2}, imgate.CodeGroupFull, true},
			} {
				t.Run(c.name, func(t *testing.T) {
					b := gcApp(t, a, fmt.Sprintf("lim%x", time.Now().UnixNano()), c.lim)
					o, _ := b.user("lim_owner")
					x, _ := b.user("lim_x")
					y, _ := b.user("lim_y")
					b.ok("POST", "/group/create", b.as(b.admin, x), map[string]any{"name": "first"}, nil)
					if c.list {
						b.fails(c.code, "POST", "/group/create", b.as(b.admin, o), map[string]any{"name": "second", "user_list": []int64{x, y}})
					} else {
						b.fails(c.code, "POST", "/group/create", b.as(b.admin, x), map[string]any{"name": "second"})
					}
					if gs, err := b.store.UserGroups(context.Background(), b.app, o); err != nil || len(gs) != 0 {
						t.Errorf("failed create left groups %v, %v", gs, err)
					}
				})
			}
			t.Run("transfer to an owner at the limit", func(t *testing.T) {
				b := gcApp(t, a, "owned", imgate.AppLimits{GroupsOwnedPerUser: 1})
				o, _ := b.user("tl_owner")
				x, _ := b.user("tl_x")
				b.ok("POST", "/group/create", b.as(b.admin, x), map[string]any{"name": "mine"}, nil)
				var info struct {
					GroupID int64 `json:"group_id"`
				}
				b.ok("POST", "/group/create", b.as(b.admin, o), map[string]any{"name": "theirs", "user_list": []int64{x}}, &info)
				b.fails(imgate.CodeOwnedGroupLimit, "POST", "/group/transfer", b.as(b.admin, o), map[string]any{"group_id": info.GroupID, "new_owner": x})
			})
		})
	})
}

func TestGroupInfo(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "info")
		infoKeys := []string{"apply_approval", "avatar", "ban_expire_time", "capacity", "count", "created_at", "description", "ext",
			"group_id", "hide_member_info", "history_visible", "member_invite", "member_modify", "msg_mute_mode", "msg_push_mode",
			"name", "owner_id", "read_ack", "status", "type", "updated_at"}
		for _, path := range []string{"/group/info", "/group/settings"} {
			for _, hs := range []h{a.as(g.member.tok), a.as(g.outsider.tok), a.as(a.admin), a.as(a.admin, g.owner.id)} {
				r := a.ok("GET", g.q(path), hs, nil, nil)
				if got := keys(t, r.Data); !slices.Equal(got, infoKeys) {
					t.Errorf("%s keys: got %v, want %v", path, got, infoKeys)
				}
			}
		}
		var info struct {
			Count   int   `json:"count"`
			OwnerID int64 `json:"owner_id"`
		}
		a.ok("GET", g.q("/group/info"), a.as(g.member.tok), nil, &info)
		if info.Count != 4 || info.OwnerID != g.owner.id {
			t.Errorf("info: got %+v", info)
		}
		a.fails(imgate.CodeGroupNotFound, "GET", fmt.Sprintf("/group/info?group_id=%d", gcNobody), a.as(g.member.tok), nil)
		a.fails(imgate.CodeInvalidParameter, "GET", "/group/info", a.as(g.member.tok), nil)
		a.fails(imgate.CodeInvalidParameter, "GET", "/group/settings?group_id=x", a.as(g.member.tok), nil)

		other := gcNew(t, a, "info2")
		var briefs []map[string]json.RawMessage
		a.ok("POST", "/group/info/batch", a.as(g.member.tok), map[string]any{"group_list": []any{other.id, gcNobody, jsonString(g.id)}}, &briefs)
		if len(briefs) != 2 || string(briefs[0]["group_id"]) != jsonString(other.id) || string(briefs[1]["group_id"]) != jsonString(g.id) {
			t.Fatalf("info/batch: got %v", briefs)
		}
		b, _ := json.Marshal(briefs[0])
		if got, want := keys(t, b), []string{"apply_approval", "avatar", "capacity", "count", "group_id", "msg_mute_mode",
			"msg_push_mode", "name", "owner", "status", "type"}; !slices.Equal(got, want) {
			t.Errorf("info/batch keys: got %v, want %v", got, want)
		}
		a.fails(imgate.CodeInvalidParameter, "POST", "/group/info/batch", a.as(g.member.tok), map[string]any{"group_list": []int64{}})
	})
}

func TestGroupTransferAndDestroy(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "tr")
		body := map[string]any{"group_id": g.id, "new_owner": g.member.id}
		a.fails(imgate.CodeNeedOwner, "POST", "/group/transfer", a.as(g.admin.tok), body)
		a.fails(imgate.CodeNeedOwner, "PUT", "/group/transfer", a.as(g.member.tok), body)
		a.fails(imgate.CodeTransferNotMember, "POST", "/group/transfer", a.as(g.owner.tok),
			map[string]any{"group_id": g.id, "new_owner": g.outsider.id})
		a.fails(imgate.CodeGroupNotFound, "POST", "/group/transfer", a.as(g.owner.tok), map[string]any{"group_id": gcNobody, "new_owner": g.member.id})
		members := []int64{g.owner.id, g.admin.id, g.member.id, g.member2.id}
		mark := gcMarkOf(t, a, g.everyone()...)
		var res gcResult
		a.ok("PUT", "/group/transfer", a.as(g.owner.tok), body, &res)
		if res != (gcResult{UserID: g.member.id, Result: "success"}) {
			t.Errorf("transfer: got %+v", res)
		}
		mark.want(t, a, g.id, gcAll(members, gcWant{imgate.GroupOwnerAssigned, g.owner.id, []int64{g.member.id}}))
		var info struct {
			OwnerID int64 `json:"owner_id"`
		}
		a.ok("GET", g.q("/group/info"), a.as(g.owner.tok), nil, &info)
		if info.OwnerID != g.member.id {
			t.Errorf("owner after transfer: got %d, want %d", info.OwnerID, g.member.id)
		}
		a.fails(imgate.CodeNeedOwner, "DELETE", g.q("/group/destroy"), a.as(g.owner.tok), nil)
		a.ok("POST", g.q("/group/leave"), a.as(g.owner.tok), nil, nil) // a plain member now
		members = []int64{g.admin.id, g.member.id, g.member2.id}

		a.fails(imgate.CodeNeedOwner, "POST", g.q("/group/destroy"), a.as(g.admin.tok), nil)
		a.fails(imgate.CodeNeedOwner, "POST", g.q("/group/destroy"), a.as(g.outsider.tok), nil)
		a.fails(imgate.CodeNeedOwner, "POST", g.q("/group/destroy"), h{"app_id": a.app, "access-token": a.admin, "group_id": jsonString(g.id)}, nil)
		mark = gcMarkOf(t, a, g.everyone()...)
		a.ok("POST", g.q("/group/destroy"), a.as(g.member.tok), nil, nil)
		mark.want(t, a, g.id, gcAll(members, gcWant{imgate.GroupDestroyed, g.member.id, nil}))
		a.fails(imgate.CodeGroupNotFound, "POST", g.q("/group/destroy"), a.as(g.member.tok), nil)
		a.fails(imgate.CodeGroupNotFound, "GET", g.q("/group/member_list"), a.as(g.member.tok), nil)
		a.fails(imgate.CodeGroupNotFound, "POST", "/group/apply", a.as(g.outsider.tok), map[string]any{"group_id": g.id})

		// The app's administrator, with an admin token and no user, ranks
		// as every group's owner.
		g2 := gcNew(t, a, "tr2")
		a.ok("POST", "/group/transfer", a.as(a.admin), map[string]any{"group_id": g2.id, "new_owner": g2.admin.id}, nil)
		a.ok("DELETE", g2.q("/group/destroy"), a.as(a.admin), nil, nil)
	})
}

func TestGroupLeaveAndKick(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "lk")
		a.fails(imgate.CodeOwnerCannotLeave, "POST", g.q("/group/leave"), a.as(g.owner.tok), nil)
		a.fails(imgate.CodeNotGroupMember, "DELETE", g.q("/group/leave"), a.as(g.outsider.tok), nil)
		mark := gcMarkOf(t, a, g.everyone()...)
		r := a.ok("DELETE", g.q("/group/leave"), a.as(a.admin, g.member2.id), nil, nil)
		if string(r.Data) != "true" {
			t.Errorf("leave: got %s", r.Data)
		}
		mark.want(t, a, g.id, gcAll([]int64{g.owner.id, g.admin.id, g.member.id, g.member2.id},
			gcWant{imgate.GroupLeaved, g.member2.id, []int64{g.member2.id}}))
		gcWantMembers(t, a, g.id, g.owner.id, g.admin.id, g.member.id)

		a.ok("POST", "/group/invite", a.as(g.owner.tok), g.body(g.member2.id, g.outsider.id), nil)
		a.fails(imgate.CodeNeedAdmin, "POST", "/group/kick", a.as(g.member.tok), g.body(g.member2.id))
		mark = gcMarkOf(t, a, g.everyone()...)
		gcResults(t, a, "DELETE", "/group/kick", a.as(g.admin.tok), g.body(g.member2.id, g.owner.id, g.admin.id, gcNobody, g.member2.id),
			map[int64]string{g.member2.id: "success", g.owner.id: "fail", g.admin.id: "fail", gcNobody: "fail"})
		mark.want(t, a, g.id, gcAll([]int64{g.owner.id, g.admin.id, g.member.id, g.outsider.id, g.member2.id},
			gcWant{imgate.GroupKicked, g.admin.id, []int64{g.member2.id}}))
		gcResults(t, a, "POST", "/group/kick", a.as(g.owner.tok), g.body(g.admin.id, g.outsider.id),
			map[int64]string{g.admin.id: "success", g.outsider.id: "success"})
		gcWantMembers(t, a, g.id, g.owner.id, g.member.id)
		a.fails(imgate.CodeNeedMember, "GET", g.q("/group/member_list"), a.as(g.member2.tok), nil)
	})
}

func TestGroupBlock(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "bl")
		a.fails(imgate.CodeNeedAdmin, "POST", "/group/block", a.as(g.member.tok), g.body(g.outsider.id))
		mark := gcMarkOf(t, a, g.everyone()...)
		gcResults(t, a, "POST", "/group/block", a.as(g.admin.tok), g.body(g.member2.id, g.outsider.id, g.owner.id, gcNobody),
			map[int64]string{g.member2.id: "success", g.outsider.id: "success", g.owner.id: "fail", gcNobody: "fail"})
		blocked := []int64{g.member2.id, g.outsider.id}
		mark.want(t, a, g.id, gcAll(g.everyone(), gcWant{imgate.GroupBlocked, g.admin.id, blocked}))
		gcWantMembers(t, a, g.id, g.owner.id, g.admin.id, g.member.id)
		gcResults(t, a, "POST", "/group/invite", a.as(g.owner.tok), g.body(g.outsider.id), map[int64]string{g.outsider.id: "fail"})
		a.fails(imgate.CodeInGroupBlacklist, "POST", "/group/apply", a.as(g.member2.tok), map[string]any{"group_id": g.id})

		var items []map[string]any
		a.fails(imgate.CodeNeedAdmin, "GET", g.q("/group/blocked_list"), a.as(g.member.tok), nil)
		a.ok("GET", g.q("/group/blocked_list"), a.as(g.admin.tok), nil, &items)
		if len(items) != 2 {
			t.Fatalf("blocked_list: got %v", items)
		}
		for _, it := range items {
			at, err := time.Parse(time.RFC3339, it["created_at"].(string))
			if it["group_id"] != float64(g.id) || !slices.Contains(blocked, int64(it["user_id"].(float64))) || err != nil ||
				time.Since(at) > time.Minute {
				t.Errorf("blocked_list item %v", it)
			}
		}

		mark = gcMarkOf(t, a, g.everyone()...)
		gcResults(t, a, "DELETE", "/group/unblock", a.as(g.owner.tok), g.body(g.outsider.id, g.member.id),
			map[int64]string{g.outsider.id: "success", g.member.id: "success"})
		mark.want(t, a, g.id, gcAll([]int64{g.owner.id, g.admin.id, g.member.id, g.outsider.id},
			gcWant{imgate.GroupUnblocked, g.owner.id, []int64{g.outsider.id}}))
		a.ok("POST", "/group/invite", a.as(g.owner.tok), g.body(g.outsider.id), nil)
		gcWantMembers(t, a, g.id, g.owner.id, g.admin.id, g.member.id, g.outsider.id)
	})
}

func TestGroupBan(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "ban")
		members := []int64{g.owner.id, g.admin.id, g.member.id, g.member2.id}
		for name, d := range map[string]any{"zero": 0, "negative": -2, "missing": nil, "huge": int64(1) << 40} {
			body := g.body(g.member.id)
			if d != nil {
				body["duration"] = d
			}
			t.Run(name, func(t *testing.T) {
				reportTo(a, t).fails(imgate.CodeInvalidParameter, "POST", "/group/ban", a.as(g.owner.tok), body)
			})
		}
		body := g.body(g.member.id, g.admin.id, g.outsider.id)
		body["duration"] = 10
		a.fails(imgate.CodeNeedAdmin, "POST", "/group/ban", a.as(g.member2.tok), body)
		mark := gcMarkOf(t, a, g.everyone()...)
		gcResults(t, a, "POST", "/group/ban", a.as(g.admin.tok), body,
			map[int64]string{g.member.id: "success", g.admin.id: "fail", g.outsider.id: "fail"})
		mark.want(t, a, g.id, gcAll(members, gcWant{imgate.GroupBanned, g.admin.id, []int64{g.member.id}}))
		body = g.body(g.member2.id)
		body["duration"] = -1
		gcResults(t, a, "POST", "/group/ban", a.as(g.owner.tok), body, map[int64]string{g.member2.id: "success"})

		var banned []struct {
			UserID      int64 `json:"user_id"`
			ExpiredTime int64 `json:"expired_time"`
		}
		a.ok("GET", g.q("/group/banned_list"), a.as(g.member.tok), nil, &banned)
		soon := time.Now().Add(10 * time.Minute).UnixMilli()
		if len(banned) != 2 || banned[0].UserID != g.member.id || banned[0].ExpiredTime < soon-60_000 || banned[0].ExpiredTime > soon ||
			banned[1].UserID != g.member2.id || banned[1].ExpiredTime != -1 {
			t.Errorf("banned_list: got %+v", banned)
		}
		a.fails(imgate.CodeNeedMember, "GET", g.q("/group/banned_list"), a.as(g.outsider.tok), nil)

		mark = gcMarkOf(t, a, g.everyone()...)
		gcResults(t, a, "POST", "/group/unban", a.as(g.admin.tok), g.body(g.member.id, g.owner.id),
			map[int64]string{g.member.id: "success", g.owner.id: "fail"})
		mark.want(t, a, g.id, gcAll(members, gcWant{imgate.GroupUnbanned, g.admin.id, []int64{g.member.id}}))
		a.ok("GET", g.q("/group/banned_list"), a.as(g.member.tok), nil, &banned)
		if len(banned) != 1 || banned[0].UserID != g.member2.id {
			t.Errorf("banned_list after unban: got %+v", banned)
		}
	})
}

func TestGroupBanAll(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "mute")
		members := []int64{g.owner.id, g.admin.id, g.member.id, g.member2.id}
		a.fails(imgate.CodeNeedAdmin, "POST", "/group/settings/ban_all", a.as(g.member.tok), map[string]any{"group_id": g.id, "duration": 5})
		a.fails(imgate.CodeInvalidParameter, "POST", "/group/settings/ban_all", a.as(g.admin.tok), map[string]any{"group_id": g.id})
		mark := gcMarkOf(t, a, g.everyone()...)
		var res struct {
			BanExpireTime int64 `json:"ban_expire_time"`
		}
		a.ok("POST", "/group/settings/ban_all", a.as(g.admin.tok), map[string]any{"group_id": g.id, "duration": 5}, &res)
		if want := time.Now().Unix() + 300; res.BanExpireTime < want-60 || res.BanExpireTime > want {
			t.Errorf("ban_all: got %d, want about %d", res.BanExpireTime, want)
		}
		mark.want(t, a, g.id, gcAll(members, gcWant{imgate.GroupMuted, g.admin.id, nil}))
		var info struct {
			BanExpireTime int64 `json:"ban_expire_time"`
		}
		a.ok("GET", g.q("/group/info"), a.as(g.member.tok), nil, &info)
		if info.BanExpireTime != res.BanExpireTime {
			t.Errorf("info ban_expire_time: got %d, want %d", info.BanExpireTime, res.BanExpireTime)
		}
		a.ok("POST", "/group/settings/ban_all", h{"app_id": a.app, "access-token": a.admin, "group_id": jsonString(g.id)},
			map[string]any{"duration": -1}, &res)
		if res.BanExpireTime != -1 {
			t.Errorf("permanent ban_all: got %d", res.BanExpireTime)
		}
		a.fails(imgate.CodeNeedAdmin, "POST", "/group/settings/unban_all", a.as(g.member.tok), map[string]any{"group_id": g.id})
		mark = gcMarkOf(t, a, g.everyone()...)
		a.ok("POST", "/group/settings/unban_all", a.as(g.owner.tok), map[string]any{"group_id": g.id}, nil)
		a.ok("POST", "/group/settings/unban_all", a.as(g.owner.tok), map[string]any{"group_id": g.id}, nil)
		mark.want(t, a, g.id, gcAll(members, gcWant{imgate.GroupUnmuted, g.owner.id, nil}))
		a.ok("GET", g.q("/group/settings"), a.as(g.member.tok), nil, &info)
		if info.BanExpireTime != 0 {
			t.Errorf("after unban_all: got %d", info.BanExpireTime)
		}
	})
}

func TestGroupAdmins(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "adm")
		members := []int64{g.owner.id, g.admin.id, g.member.id, g.member2.id}
		a.fails(imgate.CodeNeedOwner, "POST", "/group/admin/add", a.as(g.admin.tok), g.body(g.member.id))
		mark := gcMarkOf(t, a, g.everyone()...)
		gcResults(t, a, "POST", "/group/admin/add", a.as(g.owner.tok), g.body(g.member.id, g.admin.id, g.outsider.id, g.owner.id),
			map[int64]string{g.member.id: "success", g.admin.id: "success", g.outsider.id: "fail", g.owner.id: "fail"})
		mark.want(t, a, g.id, gcAll(members, gcWant{imgate.GroupAdminGranted, g.owner.id, []int64{g.member.id}}))
		var admins []struct {
			UserID int64 `json:"user_id"`
		}
		a.ok("GET", g.q("/group/admin_list"), a.as(g.member2.tok), nil, &admins)
		var ids []int64
		for _, m := range admins {
			ids = append(ids, m.UserID)
		}
		if !slices.Equal(gcSorted(ids...), gcSorted(g.owner.id, g.admin.id, g.member.id)) {
			t.Errorf("admin_list: got %v", ids)
		}
		a.fails(imgate.CodeNeedMember, "GET", g.q("/group/admin_list"), a.as(g.outsider.tok), nil)

		mark = gcMarkOf(t, a, g.everyone()...)
		gcResults(t, a, "DELETE", "/group/admin/remove", a.as(g.owner.tok), g.body(g.admin.id, g.member2.id),
			map[int64]string{g.admin.id: "success", g.member2.id: "success"})
		mark.want(t, a, g.id, gcAll(members, gcWant{imgate.GroupAdminRevoked, g.owner.id, []int64{g.admin.id}}))
		a.fails(imgate.CodeNeedAdmin, "POST", "/group/kick", a.as(g.admin.tok), g.body(g.member2.id))
		a.ok("POST", "/group/kick", a.as(g.member.tok), g.body(g.member2.id), nil) // the new admin may
	})
}
