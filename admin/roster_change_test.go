package admin_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/imgate/imgate"
)

func TestRosterBlock(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		p := rosterRegister(a, "me", "pest", "friend")
		me, pest, friend := p["me"], p["pest"], p["friend"]
		in := newRosterInbox(a)
		blocked := func(t *testing.T, hs h, want ...int64) {
			t.Helper()
			var got []int64
			r := reportTo(a, t).ok("GET", "/roster/blocked_list", hs, nil, &got)
			if got == nil || !slices.Equal(got, append([]int64{}, want...)) {
				t.Errorf("blocked_list: %s, want %v", r.Data, want)
			}
		}
		blocked(t, a.as(me.tok))
		rosterAdd(a, me.id, friend.id)
		in.skip(t, me.id, friend.id)
		combos(t, a, []string{"POST", "PUT"}, actingAs(a, me.id, me.tok), func(t *testing.T, a *api, m string, w acting, n int) {
			target := []int64{pest.id, friend.id, pest.id, friend.id}[n]
			a.ok(m, withQuery("/roster/block", "user_id", fmt.Sprint(target)), w.hs, nil, nil)
			if n < 2 {
				in.expect(t, me.id, rosterNote{imgate.RosterBlocked, me.id, target, ""})
				in.expect(t, target) // the blocked user is not told
			} else { // blocked already: nothing changes
				in.expect(t, me.id)
				in.expect(t, target)
			}
			wantRosterRelation(t, a, w.hs, target, imgate.RelationBlocked)
		})
		t.Run("list", func(t *testing.T) {
			want := []int64{pest.id, friend.id}
			slices.Sort(want)
			for _, w := range actingAs(a, me.id, me.tok) {
				blocked(t, w.hs, want...)
			}
			blocked(t, a.as(pest.tok))
		})
		t.Run("friendship stays under the block", func(t *testing.T) {
			got, _ := rosterFriendIDs(reportTo(a, t), a.as(me.tok), 10)
			if !slices.Equal(got, []int64{friend.id}) {
				t.Errorf("friends of me: %v, want [%d]", got, friend.id)
			}
			wantRosterRelation(t, a, a.as(friend.tok), me.id, imgate.RelationFriend)
		})
		t.Run("applications refused both ways", func(t *testing.T) {
			a := reportTo(a, t)
			a.fails(imgate.CodeInBlacklist, "POST", "/roster/apply", a.as(pest.tok), map[string]any{"user_id": me.id})
			a.fails(imgate.CodeInBlacklist, "POST", "/roster/apply", a.as(me.tok), map[string]any{"user_id": pest.id})
			in.expect(t, me.id)
			in.expect(t, pest.id)
		})
		combos(t, a, []string{"POST", "DELETE"}, actingAs(a, me.id, me.tok), func(t *testing.T, a *api, m string, w acting, n int) {
			target := []int64{pest.id, friend.id, pest.id, friend.id}[n]
			a.ok(m, withQuery("/roster/unblock", "user_id", fmt.Sprint(target)), w.hs, nil, nil)
			if n < 2 {
				in.expect(t, me.id, rosterNote{imgate.RosterUnblocked, me.id, target, ""})
				in.expect(t, target)
			} else {
				in.expect(t, me.id)
			}
		})
		t.Run("after unblocking", func(t *testing.T) {
			blocked(t, a.as(me.tok))
			wantRosterRelation(t, a, a.as(me.tok), friend.id, imgate.RelationFriend)
			wantRosterRelation(t, a, a.as(me.tok), pest.id, imgate.RelationStranger)
			reportTo(a, t).ok("POST", "/roster/apply", a.as(pest.tok), map[string]any{"user_id": me.id}, nil)
		})
		t.Run("blocked by the other side", func(t *testing.T) {
			a := reportTo(a, t)
			a.ok("POST", withQuery("/roster/block", "user_id", fmt.Sprint(me.id)), a.as(pest.tok), nil, nil)
			a.fails(imgate.CodeInBlacklist, "POST", "/roster/apply", a.as(me.tok), map[string]any{"user_id": pest.id})
			wantRosterRelation(t, a, a.as(me.tok), pest.id, imgate.RelationFriend) // pest's application made them friends
		})
		t.Run("failures", func(t *testing.T) {
			a := reportTo(a, t)
			for _, path := range []string{"/roster/block", "/roster/unblock"} {
				a.fails(imgate.CodeInvalidParameter, "POST", withQuery(path, "user_id", fmt.Sprint(me.id)), a.as(me.tok), nil)
				a.fails(imgate.CodeInvalidParameter, "POST", path, a.as(me.tok), nil)
				a.fails(imgate.CodeInvalidParameter, "POST", path+"?user_id=abc", a.as(me.tok), nil)
				a.fails(imgate.CodeUserNotFound, "POST", path+"?user_id=1099511627776", a.as(me.tok), nil)
				a.fails(imgate.CodeInvalidParameter, "POST", withQuery(path, "user_id", fmt.Sprint(pest.id)), a.as(a.admin), nil)
			}
		})
	})
}

func TestRosterDelete(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		p := rosterRegister(a, "me", "f1", "f2", "stranger")
		me := p["me"]
		rosterAdd(a, me.id, p["f1"].id, p["f2"].id)
		a.ok("POST", "/roster/ext", a.as(me.tok), map[string]any{"user_id": p["f1"].id, "alias": "one"}, nil)
		in := newRosterInbox(a)
		in.skip(t, me.id, p["f1"].id, p["f2"].id)
		combos(t, a, []string{"POST", "DELETE"}, actingAs(a, me.id, me.tok)[:1], func(t *testing.T, a *api, m string, w acting, n int) {
			other := []rosterPerson{p["f1"], p["f2"]}[n]
			a.ok(m, withQuery("/roster/delete", "user_id", jsonString(other.id)), w.hs, nil, nil)
			in.expect(t, me.id, rosterNote{imgate.RosterRemoved, me.id, other.id, ""})
			in.expect(t, other.id, rosterNote{imgate.RosterRemoved, me.id, other.id, ""})
			wantRosterRelation(t, a, w.hs, other.id, imgate.RelationDeleted)
			wantRosterRelation(t, a, a.as(other.tok), me.id, imgate.RelationDeleted)
			if got, _ := rosterFriendIDs(a, a.as(other.tok), 10); len(got) != 0 {
				t.Errorf("friends of %d after delete: %v, want none", other.id, got)
			}
		})
		t.Run("notes stay", func(t *testing.T) {
			if got := rosterSees(reportTo(a, t), a.as(me.tok), p["f1"].id); got.Alias != "one" {
				t.Errorf("alias of the deleted friend: %q, want one", got.Alias)
			}
		})
		t.Run("failures", func(t *testing.T) {
			a := reportTo(a, t)
			hs := a.as(a.admin, me.id)
			a.fails(imgate.CodeInvalidParameter, "DELETE", withQuery("/roster/delete", "user_id", fmt.Sprint(p["f1"].id)), hs, nil)
			a.fails(imgate.CodeInvalidParameter, "POST", withQuery("/roster/delete", "user_id", fmt.Sprint(p["stranger"].id)), hs, nil)
			a.fails(imgate.CodeInvalidParameter, "POST", withQuery("/roster/delete", "user_id", fmt.Sprint(me.id)), hs, nil)
			a.fails(imgate.CodeUserNotFound, "POST", "/roster/delete?user_id=1099511627776", hs, nil)
			in.expect(t, me.id)
		})
		t.Run("friends again", func(t *testing.T) {
			a := reportTo(a, t)
			a.ok("POST", "/roster/apply", a.as(p["f2"].tok), map[string]any{"user_id": me.id}, nil)
			wantRosterRelation(t, a, a.as(me.tok), p["f2"].id, imgate.RelationFriend)
		})
	})
}

func TestRosterExt(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		p := rosterRegister(a, "me", "pal", "stranger")
		me, pal := p["me"], p["pal"]
		rosterAdd(a, me.id, pal.id)
		in := newRosterInbox(a)
		in.skip(t, me.id, pal.id)
		info := rosterNote{imgate.RosterInfoUpdated, me.id, pal.id, ""}
		steps := []struct {
			name  string
			body  map[string]any
			want  rosterView
			notes []rosterNote
		}{
			{"alias", map[string]any{"alias": "buddy"}, rosterView{Alias: "buddy"}, []rosterNote{info}},
			{"ext keeps alias", map[string]any{"ext": `{"k":1}`}, rosterView{Alias: "buddy", Ext: `{"k":1}`}, []rosterNote{info}},
			{"mute", map[string]any{"mute_notification": true}, rosterView{Alias: "buddy", Ext: `{"k":1}`, Muted: true},
				[]rosterNote{{imgate.RosterMuted, me.id, pal.id, ""}}},
			{"same again", map[string]any{"alias": "buddy", "mute_notification": true}, rosterView{Alias: "buddy", Ext: `{"k":1}`, Muted: true}, nil},
			{"all at once", map[string]any{"alias": "", "ext": "", "mute_notification": false}, rosterView{},
				[]rosterNote{info, {imgate.RosterUnmuted, me.id, pal.id, ""}}},
			{"nothing", map[string]any{}, rosterView{}, nil},
		}
		n := 0
		for _, s := range steps {
			for _, m := range []string{"POST", "PUT"} {
				w := actingAs(a, me.id, me.tok)[n%2]
				n++
				t.Run(s.name+"/"+m+"/"+w.name, func(t *testing.T) {
					a := reportTo(a, t)
					body := map[string]any{"user_id": jsonString(pal.id)}
					for k, v := range s.body {
						body[k] = v
					}
					a.ok(m, "/roster/ext", w.hs, body, nil)
					want := s.want
					want.UserID, want.Username = pal.id, "pal"
					if got := rosterSees(a, w.hs, pal.id); got != want {
						t.Errorf("after ext: %+v, want %+v", got, want)
					}
					if m == "POST" {
						in.expect(t, me.id, s.notes...)
					} else {
						in.expect(t, me.id) // the POST made the change
					}
					in.expect(t, pal.id)
				})
			}
		}
		t.Run("the friend's own notes are untouched", func(t *testing.T) {
			a := reportTo(a, t)
			a.ok("POST", "/roster/ext", a.as(me.tok), map[string]any{"user_id": pal.id, "alias": "mine"}, nil)
			if got := rosterSees(a, a.as(pal.tok), me.id); got.Alias != "" {
				t.Errorf("pal's alias for me: %q, want none", got.Alias)
			}
			in.skip(t, me.id)
		})
		t.Run("failures", func(t *testing.T) {
			a := reportTo(a, t)
			for name, c := range map[string]struct {
				code int
				body any
			}{
				"stranger":      {imgate.CodeInvalidParameter, map[string]any{"user_id": p["stranger"].id, "alias": "x"}},
				"self":          {imgate.CodeInvalidParameter, map[string]any{"user_id": me.id, "alias": "x"}},
				"no user_id":    {imgate.CodeInvalidParameter, map[string]any{"alias": "x"}},
				"unknown":       {imgate.CodeUserNotFound, map[string]any{"user_id": 1 << 40, "alias": "x"}},
				"long alias":    {imgate.CodeInvalidParameter, map[string]any{"user_id": pal.id, "alias": strings.Repeat("a", 65)}},
				"long ext":      {imgate.CodeInvalidParameter, map[string]any{"user_id": pal.id, "ext": strings.Repeat("e", 16<<10+1)}},
				"mute not bool": {imgate.CodeInvalidParameter, map[string]any{"user_id": pal.id, "mute_notification": "yes"}},
				"no body":       {imgate.CodeInvalidParameter, nil},
			} {
				t.Run(name, func(t *testing.T) { reportTo(a, t).fails(c.code, "POST", "/roster/ext", a.as(me.tok), c.body) })
			}
			if got := rosterSees(a, a.as(me.tok), pal.id); got.Alias != "mine" || got.Ext != "" {
				t.Errorf("after rejected ext: %+v, want alias mine and no ext", got)
			}
			in.expect(t, me.id)
		})
	})
}
