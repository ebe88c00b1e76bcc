package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/imgate/imgate"
)

// rosterPerson is a registered user of the roster tests.
type rosterPerson struct {
	id  int64
	tok string
}

// rosterRegister registers the users and returns them by name.
func rosterRegister(a *api, names ...string) map[string]rosterPerson {
	a.t.Helper()
	out := map[string]rosterPerson{}
	for _, n := range names {
		id, tok := a.user(n)
		out[n] = rosterPerson{id, tok}
	}
	return out
}

// rosterAdd makes uid friends with the others through the seed's admin
// path.
func rosterAdd(a *api, uid int64, others ...int64) {
	a.t.Helper()
	a.ok("POST", "/user/add_roster", a.as(a.admin, uid), map[string]any{"list": others}, nil)
}

// rosterFriendIDs follows GET /roster/list page by page and returns every
// id and the number of pages.
func rosterFriendIDs(a *api, hs h, limit int) ([]int64, int) {
	a.t.Helper()
	var all []int64
	cursor := ""
	for pages := 1; ; pages++ {
		path := withQuery("/roster/list", "limit", fmt.Sprint(limit))
		if cursor != "" {
			path = withQuery("/roster/list", "limit", fmt.Sprint(limit), "cursor", cursor)
		}
		var ids []int64
		r := a.ok("GET", path, hs, nil, &ids)
		if ids == nil {
			a.t.Fatalf("GET %s: data %s, want a list", path, r.Data)
		}
		all = append(all, ids...)
		if r.Cursor == "" {
			return all, pages
		}
		if pages > 100 {
			a.t.Fatalf("GET /roster/list: no last page after %d pages", pages)
		}
		cursor = r.Cursor
	}
}

// rosterView is the part of RosterItemDto the tests compare.
type rosterView struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	Alias    string `json:"alias"`
	Ext      string `json:"ext"`
	Muted    bool   `json:"mute_notification"`
	Relation int    `json:"relation"`
}

// rosterSees returns how the caller with the headers sees user uid.
func rosterSees(a *api, hs h, uid int64) rosterView {
	a.t.Helper()
	var v rosterView
	a.ok("GET", withQuery("/roster/id", "user_id", fmt.Sprint(uid)), hs, nil, &v)
	return v
}

// wantRosterRelation checks how the caller with the headers relates to uid.
func wantRosterRelation(t *testing.T, a *api, hs h, uid int64, want imgate.Relation) {
	t.Helper()
	if got := rosterSees(a, hs, uid).Relation; got != int(want) {
		t.Errorf("relation to user %d: got %d, want %d", uid, got, want)
	}
}

// rosterNote is a roster notice as the tests compare it.
type rosterNote struct {
	Type     int
	From, To int64
	Content  string
}

func (n rosterNote) String() string {
	names := []string{"?", "ADDED", "REMOVED", "ACCEPTED", "DECLINED", "BLOCKED", "UNBLOCKED", "APPLIED", "INFO_UPDATED",
		"MUTED", "UNMUTED"}
	name := fmt.Sprint(n.Type)
	if n.Type > 0 && n.Type < len(names) {
		name = names[n.Type]
	}
	return fmt.Sprintf("{%s from %d to %d %q}", name, n.From, n.To, n.Content)
}

// rosterInbox follows users' notices in the store.
type rosterInbox struct {
	a     *api
	after map[int64]int64
}

func newRosterInbox(a *api) *rosterInbox { return &rosterInbox{a: a, after: map[int64]int64{}} }

// expect checks that the user's roster notices written since the last
// look are exactly want, in order.
func (in *rosterInbox) expect(t *testing.T, uid int64, want ...rosterNote) {
	t.Helper()
	ns, err := in.a.store.Notices(context.Background(), in.a.app, uid, in.after[uid], 100)
	if err != nil {
		t.Fatalf("notices of user %d: %v", uid, err)
	}
	got := []rosterNote{}
	for _, n := range ns {
		in.after[uid] = n.Seq
		if n.Kind != imgate.NoticeRoster {
			continue
		}
		if len(n.To) != 1 || n.UserID != uid || n.AppID != in.a.app {
			t.Errorf("user %d: notice %+v: want one To, recipient %d and app %s", uid, n, uid, in.a.app)
			continue
		}
		got = append(got, rosterNote{n.Type, n.From, n.To[0], n.Content})
	}
	if want == nil {
		want = []rosterNote{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("roster notices of user %d:\n got %v\nwant %v", uid, got, want)
	}
}

// skip marks every notice written so far as seen.
func (in *rosterInbox) skip(t *testing.T, uids ...int64) {
	t.Helper()
	for _, uid := range uids {
		ns, err := in.a.store.Notices(context.Background(), in.a.app, uid, in.after[uid], 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) > 0 {
			in.after[uid] = ns[len(ns)-1].Seq
		}
	}
}

// The seed's admin paths, with the quick start's curl bodies verbatim.
func TestAddRosterSeed(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		p := rosterRegister(a, "owner", "a", "b", "c")
		owner, x, y := p["owner"].id, p["a"].id, p["b"].id
		in := newRosterInbox(a)
		body := fmt.Sprintf(`{ "list": [%d, %d]}`, x, y)
		r := a.ok("POST", "/user/add_roster", a.as(a.admin, owner), body, nil)
		if string(r.Data) != "true" {
			t.Errorf("add_roster: data %s, want true", r.Data)
		}
		r = a.ok("GET", "/user/rosters", a.as(a.admin, owner), nil, nil)
		want := fmt.Sprintf(`[{"user_id":%d,"name":"a"},{"user_id":%d,"name":"b"}]`, x, y)
		if string(r.Data) != want {
			t.Errorf("rosters: data %s, want %s", r.Data, want)
		}
		t.Run("both sides", func(t *testing.T) {
			a := reportTo(a, t)
			var back []map[string]any
			a.ok("GET", "/user/rosters", a.as(a.admin, x), nil, &back)
			if len(back) != 1 || back[0]["name"] != "owner" {
				t.Errorf("a's rosters: %v, want only owner", back)
			}
			wantRosterRelation(t, a, a.as(p["a"].tok), owner, imgate.RelationFriend)
			wantRosterRelation(t, a, a.as(p["owner"].tok), y, imgate.RelationFriend)
		})
		t.Run("notices", func(t *testing.T) {
			in.expect(t, owner, rosterNote{imgate.RosterAdded, owner, x, ""}, rosterNote{imgate.RosterAdded, owner, y, ""})
			in.expect(t, x, rosterNote{imgate.RosterAdded, owner, x, ""})
			in.expect(t, y, rosterNote{imgate.RosterAdded, owner, y, ""})
		})
		t.Run("again changes nothing", func(t *testing.T) {
			a := reportTo(a, t)
			a.ok("POST", "/user/add_roster", a.as(a.admin, owner), map[string]any{"list": []string{jsonString(x)}}, nil)
			in.expect(t, owner)
			in.expect(t, x)
		})
		t.Run("ignores auth_mode", func(t *testing.T) {
			a := reportTo(a, t)
			a.ok("POST", "/user/authmode?value=3", a.as(p["c"].tok), nil, nil)
			rosterAdd(a, owner, p["c"].id)
			wantRosterRelation(t, a, a.as(p["c"].tok), owner, imgate.RelationFriend)
			in.skip(t, owner, p["c"].id)
		})
		t.Run("failures", func(t *testing.T) {
			a := reportTo(a, t)
			d, _ := a.user("d")
			cases := []struct {
				name string
				code int
				hs   h
				body any
			}{
				{"user token", imgate.CodeForbidden, a.as(p["owner"].tok), map[string]any{"list": []int64{d}}},
				{"no user_id header", imgate.CodeInvalidParameter, a.as(a.admin), map[string]any{"list": []int64{d}}},
				{"unknown user_id header", imgate.CodeUserNotFound, a.as(a.admin, 1<<40), map[string]any{"list": []int64{d}}},
				{"unknown friend", imgate.CodeUserNotFound, a.as(a.admin, owner), map[string]any{"list": []int64{d, 1 << 40}}},
				{"self", imgate.CodeInvalidParameter, a.as(a.admin, owner), map[string]any{"list": []int64{d, owner}}},
				{"empty", imgate.CodeInvalidParameter, a.as(a.admin, owner), map[string]any{"list": []int64{}}},
				{"over MaxListLen", imgate.CodeInvalidParameter, a.as(a.admin, owner), map[string]any{"list": make([]int64, 51)}},
				{"bad id", imgate.CodeInvalidParameter, a.as(a.admin, owner), `{"list":["x"]}`},
				{"no body", imgate.CodeInvalidParameter, a.as(a.admin, owner), nil},
			}
			for _, c := range cases {
				a.fails(c.code, "POST", "/user/add_roster", c.hs, c.body)
			}
			// All ids are checked first: d, listed before the bad ones, stays a stranger.
			wantRosterRelation(t, a, a.as(p["owner"].tok), d, imgate.RelationStranger)
			a.fails(imgate.CodeForbidden, "GET", "/user/rosters", a.as(p["owner"].tok), nil)
			a.fails(imgate.CodeInvalidParameter, "GET", "/user/rosters", a.as(a.admin), nil)
			in.expect(t, owner)
		})
		t.Run("methods", func(t *testing.T) {
			for _, c := range []struct{ method, path string }{
				{"GET", "/user/add_roster"}, {"PUT", "/user/add_roster"}, {"DELETE", "/user/add_roster"},
				{"POST", "/user/rosters"}, {"PUT", "/user/rosters"}, {"DELETE", "/user/rosters"},
			} {
				if r := a.do(c.method, c.path, a.as(a.admin, owner), nil); r.status != 405 {
					t.Errorf("%s %s: HTTP %d, want 405", c.method, c.path, r.status)
				}
			}
		})
	})
}

func TestRosterList(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		me, tok := a.user("me")
		t.Run("no friends", func(t *testing.T) {
			for _, w := range actingAs(a, me, tok) {
				r := reportTo(a, t).ok("GET", "/roster/list", w.hs, nil, nil)
				if string(r.Data) != "[]" || r.Cursor != "" {
					t.Errorf("%s: got %s, want data [] and no cursor", w.name, r.raw)
				}
			}
		})
		var friends []int64
		for i := range 25 {
			id, _ := a.user(fmt.Sprintf("friend%02d", i))
			friends = append(friends, id)
		}
		stranger, _ := a.user("stranger")
		rosterAdd(a, me, friends...)
		a.ok("POST", withQuery("/roster/block", "user_id", fmt.Sprint(stranger)), a.as(tok), nil, nil)
		t.Run("pages of 10", func(t *testing.T) {
			for _, w := range actingAs(a, me, tok) {
				got, pages := rosterFriendIDs(reportTo(a, t), w.hs, 10)
				if pages != 3 || !slices.Equal(got, friends) {
					t.Errorf("%s: %d pages of %v, want 3 pages of %v", w.name, pages, got, friends)
				}
			}
		})
		t.Run("one page", func(t *testing.T) {
			for _, limit := range []int{25, 26} {
				if got, pages := rosterFriendIDs(reportTo(a, t), a.as(tok), limit); pages != 1 || len(got) != 25 {
					t.Errorf("limit %d: %d pages of %d ids, want 1 of 25", limit, pages, len(got))
				}
			}
			var all []int64
			reportTo(a, t).ok("GET", "/roster/list", a.as(tok), nil, &all)
			if !slices.Equal(all, friends) {
				t.Errorf("no limit: %v, want all %v", all, friends)
			}
		})
		t.Run("deleted friends leave", func(t *testing.T) {
			a := reportTo(a, t)
			a.ok("DELETE", withQuery("/roster/delete", "user_id", fmt.Sprint(friends[3])), a.as(tok), nil, nil)
			got, _ := rosterFriendIDs(a, a.as(tok), 10)
			if want := slices.Delete(slices.Clone(friends), 3, 4); !slices.Equal(got, want) {
				t.Errorf("after delete: %v, want %v", got, want)
			}
		})
		t.Run("bad paging", func(t *testing.T) {
			a := reportTo(a, t)
			for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x", "?cursor=%21%21", "?cursor=" + "MS4y"} {
				a.fails(imgate.CodeInvalidParameter, "GET", "/roster/list"+q, a.as(tok), nil)
			}
		})
		t.Run("access", func(t *testing.T) {
			a := reportTo(a, t)
			a.fails(imgate.CodeInvalidParameter, "GET", "/roster/list", a.as(a.admin), nil)
			a.fails(imgate.CodeMissingToken, "GET", "/roster/list", h{"app_id": a.app}, nil)
		})
	})
}

func TestRosterDetails(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		p := rosterRegister(a, "me", "friend", "gone", "stranger", "enemy")
		me := p["me"]
		rosterAdd(a, me.id, p["friend"].id, p["gone"].id, p["enemy"].id)
		a.ok("POST", withQuery("/roster/delete", "user_id", fmt.Sprint(p["gone"].id)), a.as(me.tok), nil, nil)
		a.ok("PUT", withQuery("/roster/block", "user_id", fmt.Sprint(p["enemy"].id)), a.as(me.tok), nil, nil)
		a.ok("POST", "/roster/ext", a.as(me.tok), map[string]any{"user_id": p["friend"].id, "alias": "pal", "ext": "x", "mute_notification": true}, nil)
		list := []any{p["friend"].id, jsonString(p["gone"].id), p["stranger"].id, p["enemy"].id, 1 << 40, p["friend"].id}
		for _, w := range actingAs(a, me.id, me.tok) {
			t.Run(w.name, func(t *testing.T) {
				a := reportTo(a, t)
				var raw []json.RawMessage
				a.ok("POST", "/roster/list", w.hs, map[string]any{"list": list}, &raw)
				want := []string{"alias", "auth_mode", "auth_question", "avatar", "description", "ext", "mute_notification",
					"nick_name", "public_info", "relation", "user_id", "username"}
				for _, it := range raw {
					if got := keys(t, it); !slices.Equal(got, want) {
						t.Errorf("RosterItemDto keys: got %v, want %v", got, want)
					}
				}
				var got []rosterView
				a.ok("POST", "/roster/list", w.hs, map[string]any{"list": list}, &got)
				wantViews := []rosterView{
					{p["friend"].id, "friend", "pal", "x", true, 0},
					{p["gone"].id, "gone", "", "", false, 1},
					{p["stranger"].id, "stranger", "", "", false, 2},
					{p["enemy"].id, "enemy", "", "", false, 3},
				}
				if !slices.Equal(got, wantViews) {
					t.Errorf("details:\n got %+v\nwant %+v", got, wantViews)
				}
			})
		}
		t.Run("the other side", func(t *testing.T) {
			var got []rosterView
			reportTo(a, t).ok("POST", "/roster/list", a.as(p["enemy"].tok), map[string]any{"list": []int64{me.id}}, &got)
			if len(got) != 1 || got[0].Relation != int(imgate.RelationFriend) || got[0].Alias != "" {
				t.Errorf("enemy sees me as %+v, want a friend without alias: blocking is one-sided", got)
			}
		})
		t.Run("edges", func(t *testing.T) {
			a := reportTo(a, t)
			if r := a.ok("POST", "/roster/list", a.as(me.tok), map[string]any{"list": []int64{}}, nil); string(r.Data) != "[]" {
				t.Errorf("empty list: data %s, want []", r.Data)
			}
			a.fails(imgate.CodeInvalidParameter, "POST", "/roster/list", a.as(me.tok), map[string]any{"list": make([]int64, 51)})
			a.fails(imgate.CodeInvalidParameter, "POST", "/roster/list", a.as(me.tok), `{"list":["1x"]}`)
			a.fails(imgate.CodeInvalidParameter, "POST", "/roster/list", a.as(me.tok), nil)
		})
	})
}

func TestRosterLookups(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		p := rosterRegister(a, "me", "target")
		me, target := p["me"], p["target"]
		a.ok("POST", "/user/settings", a.as(target.tok), map[string]any{"user_id": target.id, "auth_mode": 2,
			"auth_question": "color?", "auth_answer": "blue"}, nil)
		a.ok("POST", "/user/profile", a.as(target.tok), map[string]any{"nick_name": "T", "description": "d", "public_info": "pub"}, nil)
		a.ok("POST", withQuery("/user/mobile", "mobile", "+8613800000000"), a.as(target.tok), nil, nil)
		want := map[string]any{
			"user_id": target.id, "username": "target", "nick_name": "T", "avatar": "", "alias": "", "ext": "",
			"description": "d", "public_info": "pub", "auth_mode": 2, "auth_question": "color?", "mute_notification": false,
			"relation": 2,
		}
		paths := []string{
			withQuery("/roster/id", "user_id", fmt.Sprint(target.id)),
			withQuery("/roster/name", "username", "target"),
			withQuery("/roster/mobile", "mobile", "+8613800000000"),
		}
		for _, path := range paths {
			for _, w := range actingAs(a, me.id, me.tok) {
				t.Run(path+"/"+w.name, func(t *testing.T) {
					got := fields(reportTo(a, t), path, w.hs)
					if len(got) != len(want) {
						t.Errorf("keys: got %d %v, want the %d of RosterItemDto", len(got), got, len(want))
					}
					wantFields(t, reportTo(a, t), path, w.hs, want)
				})
			}
		}
		t.Run("relation follows the caller", func(t *testing.T) {
			a := reportTo(a, t)
			rosterAdd(a, me.id, target.id)
			wantFields(t, a, paths[1], a.as(me.tok), map[string]any{"relation": 0})
			wantFields(t, a, paths[1], a.as(target.tok), map[string]any{"relation": 2}) // target looks itself up
		})
		t.Run("failures", func(t *testing.T) {
			a := reportTo(a, t)
			for _, c := range []struct {
				code int
				path string
			}{
				{imgate.CodeUserNotFound, "/roster/id?user_id=1099511627776"},
				{imgate.CodeUserNotFound, "/roster/name?username=nobody"},
				{imgate.CodeUserNotFound, "/roster/mobile?mobile=%2B8613900000000"},
				{imgate.CodeUserNotFound, "/roster/mobile?mobile=13800000000"}, // not the stored form
				{imgate.CodeInvalidParameter, "/roster/id"},
				{imgate.CodeInvalidParameter, "/roster/id?user_id=x"},
				{imgate.CodeInvalidParameter, "/roster/id?user_id=-3"},
				{imgate.CodeInvalidParameter, "/roster/name"},
				{imgate.CodeInvalidParameter, "/roster/name?username="},
				{imgate.CodeInvalidParameter, "/roster/mobile"},
				{imgate.CodeInvalidParameter, "/roster/mobile?mobile=target"},
			} {
				a.fails(c.code, "GET", c.path, a.as(me.tok), nil)
			}
			a.fails(imgate.CodeInvalidParameter, "GET", paths[0], a.as(a.admin), nil)
		})
		t.Run("another app's user", func(t *testing.T) {
			a := reportTo(a, t)
			other := *a
			other.app = "otherapp"
			other.admin = a.newApp("otherapp")
			stranger, _ := other.user("target")
			a.fails(imgate.CodeUserNotFound, "GET", withQuery("/roster/id", "user_id", fmt.Sprint(stranger)), a.as(me.tok), nil)
			if got := rosterSees(a, a.as(me.tok), target.id); got.UserID != target.id {
				t.Errorf("/roster/id in own app: user %d, want %d", got.UserID, target.id)
			}
		})
	})
}

func TestRosterMayMessage(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		p := rosterRegister(a, "x", "y", "z")
		x, y, z := p["x"], p["y"], p["z"]
		may := func(t *testing.T, hs h, from, to int64, want bool) {
			t.Helper()
			var got bool
			reportTo(a, t).ok("GET", withQuery("/roster/may_message", "user_id", fmt.Sprint(from), "roster_id", fmt.Sprint(to)), hs, nil, &got)
			if got != want {
				t.Errorf("may %d message %d: got %v, want %v", from, to, got, want)
			}
		}
		t.Run("strangers and friends may", func(t *testing.T) {
			may(t, a.as(x.tok), x.id, y.id, true)
			may(t, a.as(a.admin), x.id, y.id, true)
			rosterAdd(reportTo(a, t), x.id, y.id)
			may(t, a.as(y.tok), x.id, y.id, true)
			may(t, a.as(a.admin, z.id), x.id, y.id, true)
		})
		t.Run("a block stops both ways", func(t *testing.T) {
			a := reportTo(a, t)
			a.ok("POST", withQuery("/roster/block", "user_id", fmt.Sprint(y.id)), a.as(x.tok), nil, nil)
			for _, hs := range []h{a.as(x.tok), a.as(y.tok), a.as(a.admin)} {
				may(t, hs, x.id, y.id, false)
				may(t, hs, y.id, x.id, false)
			}
			may(t, a.as(z.tok), z.id, x.id, true)
			a.ok("DELETE", withQuery("/roster/unblock", "user_id", fmt.Sprint(y.id)), a.as(x.tok), nil, nil)
			may(t, a.as(y.tok), y.id, x.id, true)
		})
		t.Run("failures", func(t *testing.T) {
			a := reportTo(a, t)
			q := func(kv ...string) string { return withQuery("/roster/may_message", kv...) }
			a.fails(imgate.CodeForbidden, "GET", q("user_id", fmt.Sprint(x.id), "roster_id", fmt.Sprint(y.id)), a.as(z.tok), nil)
			a.fails(imgate.CodeUserNotFound, "GET", q("user_id", fmt.Sprint(x.id), "roster_id", "1099511627776"), a.as(x.tok), nil)
			a.fails(imgate.CodeInvalidParameter, "GET", q("user_id", fmt.Sprint(x.id)), a.as(x.tok), nil)
			a.fails(imgate.CodeInvalidParameter, "GET", q("roster_id", fmt.Sprint(x.id)), a.as(x.tok), nil)
			a.fails(imgate.CodeInvalidParameter, "GET", q("user_id", "0", "roster_id", fmt.Sprint(x.id)), a.as(a.admin), nil)
			a.fails(imgate.CodeMissingToken, "GET", q("user_id", fmt.Sprint(x.id), "roster_id", fmt.Sprint(y.id)), h{"app_id": a.app}, nil)
		})
	})
}

// TestRosterMethods checks every /roster path against the methods the
// Swagger lists: each listed one reaches the handler (which rejects the
// missing argument), any other gets 405.
func TestRosterMethods(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		_, tok := a.user("me")
		paths := map[string][]string{
			"/roster/accept":       {"POST", "PUT"},
			"/roster/apply":        {"POST"},
			"/roster/apply/batch":  {"POST"},
			"/roster/apply/list":   {"GET"},
			"/roster/block":        {"POST", "PUT"},
			"/roster/blocked_list": {"GET"},
			"/roster/decline":      {"POST", "PUT"},
			"/roster/delete":       {"POST", "DELETE"},
			"/roster/ext":          {"POST", "PUT"},
			"/roster/id":           {"GET"},
			"/roster/list":         {"GET", "POST"},
			"/roster/may_message":  {"GET"},
			"/roster/mobile":       {"GET"},
			"/roster/name":         {"GET"},
			"/roster/unblock":      {"POST", "DELETE"},
		}
		for path, methods := range paths {
			for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
				r := a.do(m, path, a.as(tok), nil)
				switch {
				case !slices.Contains(methods, m) && (r.status != 405 || r.Code != 405):
					t.Errorf("%s %s: got HTTP %d %s, want 405", m, path, r.status, r.raw)
				case slices.Contains(methods, m) && r.status != 200:
					t.Errorf("%s %s: got HTTP %d %s, want the handler's answer", m, path, r.status, r.raw)
				case slices.Contains(methods, m) && m != "GET" && r.Code != imgate.CodeInvalidParameter:
					t.Errorf("%s %s without arguments: got %s, want code 10002", m, path, r.raw)
				}
			}
		}
	})
}
