package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

// rosterSetAuth sets a user's friend-request mode, question and answer.
func rosterSetAuth(a *api, tok string, uid int64, mode int, question, answer string) {
	a.t.Helper()
	a.ok("POST", "/user/settings", a.as(tok), map[string]any{"user_id": uid, "auth_mode": mode,
		"auth_question": question, "auth_answer": answer}, nil)
}

// rosterApplicationPages returns the applications addressed to the
// caller, following the pages of limit.
func rosterApplicationPages(a *api, hs h, limit int) ([]map[string]any, int) {
	a.t.Helper()
	var all []map[string]any
	cursor := ""
	for pages := 1; ; pages++ {
		kv := []string{"limit", fmt.Sprint(limit)}
		if cursor != "" {
			kv = append(kv, "cursor", cursor)
		}
		var page []map[string]any
		r := a.ok("GET", withQuery("/roster/apply/list", kv...), hs, nil, &page)
		if page == nil {
			a.t.Fatalf("apply/list: data %s, want a list", r.Data)
		}
		all = append(all, page...)
		if r.Cursor == "" || pages > 50 {
			return all, pages
		}
		cursor = r.Cursor
	}
}

// putRosterApplication writes an application straight into the store.
func putRosterApplication(t *testing.T, a *api, app imgate.RosterApplication) {
	t.Helper()
	app.AppID = a.app
	if app.CreatedAt.IsZero() {
		app.CreatedAt, app.UpdatedAt = time.UnixMilli(time.Now().Add(-8*24*time.Hour).UnixMilli()), time.UnixMilli(time.Now().UnixMilli())
	}
	err := a.store.Roster(context.Background(), a.app, app.ApplicantID, app.TargetID, func(tx imgate.RosterTx) error {
		return tx.PutApplication(app)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRosterApplyAuthModes(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		p := rosterRegister(a, "me", "open", "careful", "quiz", "shy", "blank")
		me := p["me"]
		rosterSetAuth(a, p["careful"].tok, p["careful"].id, imgate.AuthConfirm, "", "")
		rosterSetAuth(a, p["quiz"].tok, p["quiz"].id, imgate.AuthQuestion, "Capital of France?", "Paris")
		rosterSetAuth(a, p["shy"].tok, p["shy"].id, imgate.AuthRefuse, "", "")
		rosterSetAuth(a, p["blank"].tok, p["blank"].id, imgate.AuthQuestion, "", "")
		in := newRosterInbox(a)
		apply := func(to int64, extra map[string]any) map[string]any {
			body := map[string]any{"user_id": to, "alias": "nick", "reason": "hello"}
			for k, v := range extra {
				body[k] = v
			}
			return body
		}
		t.Run("0 adds at once", func(t *testing.T) {
			a := reportTo(a, t)
			open := p["open"].id
			r := a.ok("POST", "/roster/apply", a.as(me.tok), apply(open, nil), nil)
			if string(r.Data) != "true" {
				t.Errorf("apply: data %s, want true", r.Data)
			}
			in.expect(t, me.id, rosterNote{imgate.RosterAdded, me.id, open, ""})
			in.expect(t, open, rosterNote{imgate.RosterAdded, me.id, open, ""})
			if got := rosterSees(a, a.as(me.tok), open); got.Relation != 0 || got.Alias != "nick" {
				t.Errorf("me sees open as %+v, want a friend aliased nick", got)
			}
			wantRosterRelation(t, a, a.as(p["open"].tok), me.id, imgate.RelationFriend)
			a.fails(imgate.CodeAlreadyFriend, "POST", "/roster/apply", a.as(me.tok), apply(open, nil))
			a.fails(imgate.CodeAlreadyFriend, "POST", "/roster/apply", a.as(p["open"].tok), apply(me.id, nil))
			in.expect(t, me.id)
		})
		t.Run("1 waits for acceptance", func(t *testing.T) {
			a := reportTo(a, t)
			careful := p["careful"]
			a.ok("POST", "/roster/apply", a.as(a.admin, me.id), apply(careful.id, map[string]any{"user_id": jsonString(careful.id)}), nil)
			in.expect(t, me.id)
			in.expect(t, careful.id, rosterNote{imgate.RosterApplied, me.id, careful.id, "hello"})
			wantRosterRelation(t, a, a.as(me.tok), careful.id, imgate.RelationStranger)
			got, _ := rosterApplicationPages(a, a.as(careful.tok), 10)
			if len(got) != 1 || got[0]["user_id"] != float64(me.id) || got[0]["status"] != float64(0) || got[0]["reason"] != "hello" {
				t.Fatalf("careful's applications: %v, want me's pending one", got)
			}
			exp := time.UnixMilli(int64(got[0]["expired_time"].(float64)))
			if d := time.Until(exp); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour {
				t.Errorf("expired_time %v: want about 7 days from now", exp)
			}
			a.ok("PUT", withQuery("/roster/accept", "user_id", jsonString(me.id)), a.as(careful.tok), nil, nil)
			in.expect(t, careful.id, rosterNote{imgate.RosterAccepted, careful.id, me.id, ""})
			in.expect(t, me.id, rosterNote{imgate.RosterAccepted, careful.id, me.id, ""})
			if got := rosterSees(a, a.as(me.tok), careful.id); got.Relation != 0 || got.Alias != "nick" {
				t.Errorf("me sees careful as %+v, want a friend with the application's alias", got)
			}
			if got := rosterSees(a, a.as(careful.tok), me.id); got.Relation != 0 || got.Alias != "" {
				t.Errorf("careful sees me as %+v, want a friend without alias", got)
			}
			if got, _ := rosterApplicationPages(a, a.as(careful.tok), 10); len(got) != 1 || got[0]["status"] != float64(1) {
				t.Errorf("careful's applications after accepting: %v, want status 1", got)
			}
		})
		t.Run("2 checks the answer", func(t *testing.T) {
			a := reportTo(a, t)
			quiz := p["quiz"].id
			for _, wrong := range []string{"", "London", "Pariss"} {
				a.fails(imgate.CodeInvalidParameter, "POST", "/roster/apply", a.as(me.tok), apply(quiz, map[string]any{"auth_answer": wrong}))
			}
			in.expect(t, quiz)
			wantRosterRelation(t, a, a.as(me.tok), quiz, imgate.RelationStranger)
			a.ok("POST", "/roster/apply", a.as(me.tok), apply(quiz, map[string]any{"auth_answer": "  paris "}), nil)
			in.expect(t, me.id, rosterNote{imgate.RosterAdded, me.id, quiz, ""})
			in.expect(t, quiz, rosterNote{imgate.RosterAdded, me.id, quiz, ""})
			wantRosterRelation(t, a, a.as(p["quiz"].tok), me.id, imgate.RelationFriend)
		})
		t.Run("2 without an answer set waits for acceptance", func(t *testing.T) {
			a := reportTo(a, t)
			blank := p["blank"].id
			a.ok("POST", "/roster/apply", a.as(me.tok), apply(blank, map[string]any{"auth_answer": "anything"}), nil)
			in.expect(t, blank, rosterNote{imgate.RosterApplied, me.id, blank, "hello"})
			wantRosterRelation(t, a, a.as(me.tok), blank, imgate.RelationStranger)
		})
		t.Run("3 refuses", func(t *testing.T) {
			a := reportTo(a, t)
			a.fails(imgate.CodeForbidden, "POST", "/roster/apply", a.as(me.tok), apply(p["shy"].id, nil))
			in.expect(t, p["shy"].id)
			if got, _ := rosterApplicationPages(a, a.as(p["shy"].tok), 10); len(got) != 0 {
				t.Errorf("shy's applications: %v, want none", got)
			}
		})
		t.Run("failures", func(t *testing.T) {
			a := reportTo(a, t)
			for name, c := range map[string]struct {
				code int
				body any
			}{
				"self":          {imgate.CodeInvalidParameter, map[string]any{"user_id": me.id}},
				"self (string)": {imgate.CodeInvalidParameter, map[string]any{"user_id": jsonString(me.id)}},
				"no user_id":    {imgate.CodeInvalidParameter, map[string]any{"reason": "hi"}},
				"bad user_id":   {imgate.CodeInvalidParameter, map[string]any{"user_id": "12a"}},
				"unknown":       {imgate.CodeUserNotFound, map[string]any{"user_id": 1 << 40}},
				"long alias":    {imgate.CodeInvalidParameter, map[string]any{"user_id": p["open"].id, "alias": strings.Repeat("a", 65)}},
				"long reason":   {imgate.CodeInvalidParameter, map[string]any{"user_id": p["open"].id, "reason": strings.Repeat("r", 1025)}},
				"no body":       {imgate.CodeInvalidParameter, nil},
				"array":         {imgate.CodeInvalidParameter, []any{map[string]any{"user_id": p["open"].id}}},
			} {
				t.Run(name, func(t *testing.T) { reportTo(a, t).fails(c.code, "POST", "/roster/apply", a.as(me.tok), c.body) })
			}
			a.fails(imgate.CodeInvalidParameter, "POST", "/roster/apply", a.as(a.admin), map[string]any{"user_id": me.id})
			in.expect(t, me.id)
		})
	})
}

func TestRosterAcceptDecline(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		p := rosterRegister(a, "target", "a1", "a2", "a3", "a4", "a5", "a6")
		target := p["target"]
		rosterSetAuth(a, target.tok, target.id, imgate.AuthConfirm, "", "")
		for _, n := range []string{"a1", "a2", "a3", "a4"} {
			a.ok("POST", "/roster/apply", a.as(p[n].tok), map[string]any{"user_id": target.id, "reason": "hi " + n}, nil)
		}
		in := newRosterInbox(a)
		in.skip(t, target.id, p["a1"].id, p["a2"].id, p["a3"].id, p["a4"].id)
		accept := func(who int64) string { return withQuery("/roster/accept", "user_id", fmt.Sprint(who)) }
		decline := func(who int64, reason string) map[string]any { return map[string]any{"user_id": who, "reason": reason} }
		t.Run("decline", func(t *testing.T) {
			a := reportTo(a, t)
			a1 := p["a1"].id
			a.ok("POST", "/roster/decline", a.as(target.tok), decline(a1, "no thanks"), nil)
			in.expect(t, target.id, rosterNote{imgate.RosterDeclined, target.id, a1, "no thanks"})
			in.expect(t, a1, rosterNote{imgate.RosterDeclined, target.id, a1, "no thanks"})
			wantRosterRelation(t, a, a.as(p["a1"].tok), target.id, imgate.RelationStranger)
			a.ok("PUT", "/roster/decline", a.as(a.admin, target.id), map[string]any{"user_id": jsonString(p["a2"].id)}, nil)
			in.expect(t, p["a2"].id, rosterNote{imgate.RosterDeclined, target.id, p["a2"].id, ""})
			in.skip(t, target.id)
		})
		t.Run("declined", func(t *testing.T) {
			a := reportTo(a, t)
			a1 := p["a1"].id
			a.fails(imgate.CodeApplicationDeclined, "POST", "/roster/apply", a.as(p["a1"].tok), map[string]any{"user_id": target.id})
			a.fails(imgate.CodeApplicationDeclined, "POST", accept(a1), a.as(target.tok), nil)
			a.fails(imgate.CodeApplicationNotFound, "POST", "/roster/decline", a.as(target.tok), decline(a1, ""))
			in.expect(t, target.id)
			in.expect(t, a1)
		})
		t.Run("accept", func(t *testing.T) {
			a := reportTo(a, t)
			a3 := p["a3"].id
			a.ok("POST", accept(a3), a.as(target.tok), nil, nil)
			in.expect(t, target.id, rosterNote{imgate.RosterAccepted, target.id, a3, ""})
			in.expect(t, a3, rosterNote{imgate.RosterAccepted, target.id, a3, ""})
			wantRosterRelation(t, a, a.as(target.tok), a3, imgate.RelationFriend)
		})
		t.Run("handled", func(t *testing.T) {
			a := reportTo(a, t)
			a3 := p["a3"].id
			a.fails(imgate.CodeApplicationNotFound, "POST", accept(a3), a.as(target.tok), nil)
			a.fails(imgate.CodeApplicationNotFound, "PUT", "/roster/decline", a.as(target.tok), decline(a3, ""))
			a.fails(imgate.CodeApplicationNotFound, "POST", accept(p["a5"].id), a.as(target.tok), nil) // never applied
			a.fails(imgate.CodeApplicationNotFound, "POST", "/roster/decline", a.as(target.tok), decline(p["a5"].id, ""))
			// Only the target may answer: target never applied to a4.
			a.fails(imgate.CodeApplicationNotFound, "POST", accept(target.id), a.as(p["a4"].tok), nil)
			wantRosterRelation(t, a, a.as(target.tok), a3, imgate.RelationFriend)
			in.expect(t, target.id)
		})
		t.Run("expired", func(t *testing.T) {
			a := reportTo(a, t)
			a5 := p["a5"].id
			putRosterApplication(t, a, imgate.RosterApplication{ApplicantID: a5, TargetID: target.id, Reason: "old",
				Status: imgate.ApplicationPending, ExpiresAt: time.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())})
			got, _ := rosterApplicationPages(a, a.as(target.tok), 100)
			var found bool
			for _, g := range got {
				if g["user_id"] == float64(a5) {
					found = g["status"] == float64(0) && int64(g["expired_time"].(float64)) < time.Now().UnixMilli()
				}
			}
			if !found {
				t.Errorf("applications: %v, want a5's pending one with an expired_time in the past", got)
			}
			a.fails(imgate.CodeApplicationNotFound, "POST", accept(a5), a.as(target.tok), nil)
			a.fails(imgate.CodeApplicationNotFound, "POST", "/roster/decline", a.as(target.tok), decline(a5, ""))
			wantRosterRelation(t, a, a.as(target.tok), a5, imgate.RelationStranger)
			in.expect(t, target.id)
			in.expect(t, a5)
			// An expired application is no bar to a new one.
			a.ok("POST", "/roster/apply", a.as(p["a5"].tok), map[string]any{"user_id": target.id, "reason": "new"}, nil)
			in.expect(t, target.id, rosterNote{imgate.RosterApplied, a5, target.id, "new"})
			a.ok("POST", accept(a5), a.as(target.tok), nil, nil)
			in.skip(t, target.id, a5)
		})
		t.Run("declined long ago", func(t *testing.T) {
			a := reportTo(a, t)
			a6 := p["a6"].id
			putRosterApplication(t, a, imgate.RosterApplication{ApplicantID: a6, TargetID: target.id,
				Status: imgate.ApplicationDeclined, ExpiresAt: time.UnixMilli(time.Now().Add(-time.Minute).UnixMilli())})
			a.ok("POST", "/roster/apply", a.as(p["a6"].tok), map[string]any{"user_id": target.id}, nil)
			in.expect(t, target.id, rosterNote{imgate.RosterApplied, a6, target.id, ""})
		})
		t.Run("blocked", func(t *testing.T) {
			a := reportTo(a, t)
			a4 := p["a4"].id
			a.ok("POST", withQuery("/roster/block", "user_id", fmt.Sprint(target.id)), a.as(p["a4"].tok), nil, nil)
			a.fails(imgate.CodeInBlacklist, "POST", accept(a4), a.as(target.tok), nil)
			a.ok("POST", withQuery("/roster/unblock", "user_id", fmt.Sprint(target.id)), a.as(p["a4"].tok), nil, nil)
			a.ok("POST", accept(a4), a.as(target.tok), nil, nil)
		})
		t.Run("friends settle applications", func(t *testing.T) {
			a := reportTo(a, t)
			a6 := p["a6"].id
			rosterAdd(a, target.id, a6)
			a.fails(imgate.CodeApplicationNotFound, "POST", accept(a6), a.as(target.tok), nil)
			got, _ := rosterApplicationPages(a, a.as(target.tok), 100)
			for _, g := range got {
				if g["user_id"] == float64(a6) && g["status"] != float64(imgate.ApplicationAccepted) {
					t.Errorf("a6's application after add_roster: %v, want accepted", g)
				}
			}
		})
		t.Run("failures", func(t *testing.T) {
			a := reportTo(a, t)
			for _, m := range []string{"POST", "PUT"} {
				a.fails(imgate.CodeInvalidParameter, m, "/roster/accept", a.as(target.tok), nil)
				a.fails(imgate.CodeInvalidParameter, m, accept(target.id), a.as(target.tok), nil)
				a.fails(imgate.CodeUserNotFound, m, accept(1<<40), a.as(target.tok), nil)
				a.fails(imgate.CodeInvalidParameter, m, "/roster/decline", a.as(target.tok), map[string]any{"reason": "x"})
				a.fails(imgate.CodeInvalidParameter, m, "/roster/decline", a.as(target.tok), decline(target.id, ""))
				a.fails(imgate.CodeUserNotFound, m, "/roster/decline", a.as(target.tok), decline(1<<40, ""))
				a.fails(imgate.CodeInvalidParameter, m, "/roster/decline", a.as(target.tok), decline(p["a1"].id, strings.Repeat("r", 1025)))
			}
		})
	})
}

func TestRosterApplyList(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		target, tok := a.user("target")
		rosterSetAuth(a, tok, target, imgate.AuthConfirm, "", "")
		t.Run("none", func(t *testing.T) {
			for _, w := range actingAs(a, target, tok) {
				r := reportTo(a, t).ok("GET", "/roster/apply/list", w.hs, nil, nil)
				if string(r.Data) != "[]" || r.Cursor != "" {
					t.Errorf("%s: %s, want data [] without cursor", w.name, r.raw)
				}
			}
		})
		var applicants []int64
		for i := range 5 {
			id, atok := a.user(fmt.Sprintf("applicant%d", i))
			a.ok("POST", "/roster/apply", a.as(atok), map[string]any{"user_id": target, "reason": fmt.Sprint("r", i)}, nil)
			applicants = append(applicants, id)
		}
		t.Run("shape", func(t *testing.T) {
			var raw []json.RawMessage
			reportTo(a, t).ok("GET", "/roster/apply/list", a.as(tok), nil, &raw)
			want := []string{"expired_time", "reason", "status", "user_id"}
			for _, it := range raw {
				if got := keys(t, it); !slices.Equal(got, want) {
					t.Errorf("RosterApplicationDto keys: got %v, want %v", got, want)
				}
			}
			if len(raw) != 5 {
				t.Errorf("%d applications, want 5", len(raw))
			}
		})
		t.Run("pages of 2", func(t *testing.T) {
			for _, w := range actingAs(a, target, tok) {
				got, pages := rosterApplicationPages(reportTo(a, t), w.hs, 2)
				var ids []int64
				for _, g := range got {
					ids = append(ids, int64(g["user_id"].(float64)))
				}
				slices.Sort(ids)
				if pages != 3 || !slices.Equal(ids, applicants) {
					t.Errorf("%s: %d pages of %v, want 3 pages of %v", w.name, pages, ids, applicants)
				}
			}
		})
		t.Run("re-applied between pages", func(t *testing.T) {
			// The last applicant of page 1 applies again, which makes its
			// application the newest: page 2 goes on after page 1's end,
			// repeating and skipping nothing.
			a := reportTo(a, t)
			var first []map[string]any
			r := a.ok("GET", "/roster/apply/list?limit=2", a.as(tok), nil, &first)
			last := int64(first[1]["user_id"].(float64))
			putRosterApplication(t, a, imgate.RosterApplication{ApplicantID: last, TargetID: target, Status: imgate.ApplicationPending,
				CreatedAt: time.UnixMilli(time.Now().Add(time.Minute).UnixMilli()), ExpiresAt: time.Now().Add(time.Hour)})
			var rest []map[string]any
			a.ok("GET", withQuery("/roster/apply/list", "limit", "10", "cursor", r.Cursor), a.as(tok), nil, &rest)
			var ids []int64
			for _, g := range append(first, rest...) {
				ids = append(ids, int64(g["user_id"].(float64)))
			}
			slices.Sort(ids)
			if !slices.Equal(ids, applicants) {
				t.Errorf("page 1 and the rest: %v, want each of %v once", ids, applicants)
			}
		})
		t.Run("only the target's", func(t *testing.T) {
			if got, _ := rosterApplicationPages(reportTo(a, t), a.as(a.admin, applicants[0]), 10); len(got) != 0 {
				t.Errorf("an applicant's own list: %v, want empty", got)
			}
		})
		t.Run("bad paging", func(t *testing.T) {
			a := reportTo(a, t)
			for _, q := range []string{"?limit=0", "?limit=1001", "?cursor=%25"} {
				a.fails(imgate.CodeInvalidParameter, "GET", "/roster/apply/list"+q, a.as(tok), nil)
			}
			a.fails(imgate.CodeInvalidParameter, "GET", "/roster/apply/list", a.as(a.admin), nil)
		})
	})
}

func TestRosterApplyBatch(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		p := rosterRegister(a, "me", "open", "careful", "shy", "friend")
		me := p["me"]
		rosterSetAuth(a, p["careful"].tok, p["careful"].id, imgate.AuthConfirm, "", "")
		rosterSetAuth(a, p["shy"].tok, p["shy"].id, imgate.AuthRefuse, "", "")
		rosterAdd(a, me.id, p["friend"].id)
		in := newRosterInbox(a)
		in.skip(t, me.id, p["friend"].id)
		body := []map[string]any{
			{"user_id": p["open"].id, "alias": "o", "reason": "hi"},
			{"user_id": jsonString(p["careful"].id), "reason": "please"},
			{"user_id": p["shy"].id},
			{"user_id": p["friend"].id},
			{"user_id": me.id},
			{"user_id": 1 << 40},
		}
		var got struct {
			Success []int64 `json:"success"`
			Fails   []struct {
				UserID int64  `json:"user_id"`
				Reason string `json:"reason"`
			} `json:"fails"`
		}
		r := a.ok("POST", "/roster/apply/batch", a.as(a.admin, me.id), body, &got)
		if k := keys(t, r.Data); !slices.Equal(k, []string{"fails", "success"}) {
			t.Errorf("BatchApplyDto keys: %v", k)
		}
		if want := []int64{p["open"].id, p["careful"].id}; !slices.Equal(got.Success, want) {
			t.Errorf("success: %v, want %v", got.Success, want)
		}
		var failed []int64
		for _, f := range got.Fails {
			failed = append(failed, f.UserID)
			if f.Reason == "" {
				t.Errorf("fail of %d has no reason", f.UserID)
			}
		}
		if want := []int64{p["shy"].id, p["friend"].id, me.id, 1 << 40}; !slices.Equal(failed, want) {
			t.Errorf("fails: %v, want %v", failed, want)
		}
		in.expect(t, me.id, rosterNote{imgate.RosterAdded, me.id, p["open"].id, ""})
		in.expect(t, p["careful"].id, rosterNote{imgate.RosterApplied, me.id, p["careful"].id, "please"})
		if v := rosterSees(a, a.as(me.tok), p["open"].id); v.Relation != 0 || v.Alias != "o" {
			t.Errorf("me sees open as %+v, want a friend aliased o", v)
		}
		t.Run("all fail", func(t *testing.T) {
			var got map[string][]any
			reportTo(a, t).ok("POST", "/roster/apply/batch", a.as(me.tok), []map[string]any{{"user_id": p["shy"].id}}, &got)
			if len(got["success"]) != 0 || got["success"] == nil || len(got["fails"]) != 1 {
				t.Errorf("one refused application: %v, want success [] and one fail", got)
			}
		})
		t.Run("failures", func(t *testing.T) {
			a := reportTo(a, t)
			a.fails(imgate.CodeInvalidParameter, "POST", "/roster/apply/batch", a.as(me.tok), []any{})
			a.fails(imgate.CodeInvalidParameter, "POST", "/roster/apply/batch", a.as(me.tok), make([]map[string]any, 51))
			a.fails(imgate.CodeInvalidParameter, "POST", "/roster/apply/batch", a.as(me.tok), map[string]any{"user_id": p["open"].id})
			a.fails(imgate.CodeInvalidParameter, "POST", "/roster/apply/batch", a.as(me.tok), nil)
			a.fails(imgate.CodeInvalidParameter, "POST", "/roster/apply/batch", a.as(a.admin), body)
		})
	})
}
