package admin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/imgate/imgate"
)

// TestFrame checks the headers, envelope and error codes that every path
// shares, through /user/settings and friends.
func TestFrame(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		other := a.newApp("otherapp")

		t.Run("envelope", func(t *testing.T) {
			r := a.ok("GET", "/user/settings", a.as(tok), nil, nil)
			if !strings.Contains(r.raw, `"message":null`) {
				t.Errorf("success envelope %s lacks \"message\":null", r.raw)
			}
		})
		cases := []struct {
			name string
			code int
			hs   h
		}{
			{"no app_id", imgate.CodeUnknownApp, h{"access-token": tok}},
			{"unknown app", imgate.CodeUnknownApp, h{"app_id": "nosuchapp", "access-token": tok}},
			{"no token", imgate.CodeMissingToken, h{"app_id": a.app}},
			{"uni-app's undefined token", imgate.CodeMissingToken, h{"app_id": a.app, "access-token": "undefined"}},
			{"garbage token", imgate.CodeInvalidToken, h{"app_id": a.app, "access-token": "garbage"}},
			{"forged token", imgate.CodeInvalidToken, h{"app_id": a.app, "access-token": tok[:len(tok)-4] + "AAAA"}},
			{"token of another app", imgate.CodeInvalidToken, h{"app_id": a.app, "access-token": other}},
			{"user token with user_id", imgate.CodeForbidden, h{"app_id": a.app, "access-token": tok, "user_id": jsonString(uid)}},
			{"user token with group_id", imgate.CodeForbidden, h{"app_id": a.app, "access-token": tok, "group_id": "5"}},
			{"admin without user_id", imgate.CodeInvalidParameter, a.as(a.admin)},
			{"admin with unknown user_id", imgate.CodeUserNotFound, a.as(a.admin, 1)},
			{"admin with malformed user_id", imgate.CodeInvalidParameter, h{"app_id": a.app, "access-token": a.admin, "user_id": "x"}},
			{"admin of another app acting as a user of this one", imgate.CodeUserNotFound, h{"app_id": "otherapp", "access-token": other, "user_id": jsonString(uid)}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a.fails(c.code, "GET", "/user/settings", c.hs, nil)
			})
		}
		t.Run("admin acts as the user", func(t *testing.T) {
			var st struct {
				UserID int64 `json:"user_id"`
			}
			a.ok("GET", "/user/settings", a.as(a.admin, uid), nil, &st)
			if st.UserID != uid {
				t.Errorf("admin acting as %d got settings of %d", uid, st.UserID)
			}
		})
		t.Run("bad bodies", func(t *testing.T) {
			for name, body := range map[string]string{
				"malformed": `{"nick_name":`, "wrong type": `{"nick_name": 5}`, "not an object": `[1]`,
				"empty": ``, "trailing data": `{} {}`, "too large": `{"nick_name":"` + strings.Repeat("x", 2<<20) + `"}`,
			} {
				t.Run(name, func(t *testing.T) { a.fails(imgate.CodeInvalidParameter, "POST", "/user/profile", a.as(tok), body) })
			}
		})
		t.Run("unknown path and method", func(t *testing.T) {
			if r := a.do("GET", "/no/such/path", a.as(tok), nil); r.status != 404 || r.Code != 404 {
				t.Errorf("unknown path: got HTTP %d %s", r.status, r.raw)
			}
			if r := a.do("DELETE", "/user/settings", a.as(tok), nil); r.status != 405 || r.Code != 405 {
				t.Errorf("wrong method: got HTTP %d %s", r.status, r.raw)
			}
		})
		t.Run("revoked token", func(t *testing.T) {
			id, err := a.tokens.ID(tok)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.tokens.Revoke(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			// A user token that ended: 402, on which MaxIM's SDKs log in
			// again.
			a.fails(imgate.CodeTokenEnded, "GET", "/user/settings", a.as(tok), nil)
		})
		t.Run("imported MaxIM token", func(t *testing.T) {
			const seed = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJhcHAiOiJkcGJkdmVrZmVjYm8iLCJzdWIiOiIyMCIsImNsdXN0ZXIiOjAsInJvbGUiOjIsImlhdCI6MTU2Nzk5NzQwOH0.U-iFpEwprrkf-mFkhHN_CWmF5nkBbRQLTjttN4Qlkzw3ET1Zke9OZdjutm90KSyDs9jjYvUSAGGsWVjLmDZlkg"
			a.fails(imgate.CodeInvalidToken, "GET", "/user/settings", a.as(seed, uid), nil)
			if _, err := a.tokens.Import(context.Background(), a.app, seed); err != nil {
				t.Fatal(err)
			}
			a.ok("GET", "/user/settings", a.as(seed, uid), nil, nil)
			a.fails(imgate.CodeInvalidToken, "GET", "/user/settings", h{"app_id": "otherapp", "access-token": seed}, nil)
		})
	})
}

// TestNULText: NUL in a JSON string is refused on both stores alike
// (Postgres cannot store it), while an escaped backslash before "u0000"
// is plain text.
func TestNULText(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		_, tok := a.user("nul")
		a.fails(imgate.CodeInvalidParameter, "POST", "/user/profile", a.as(tok), `{"nick_name":"a\u0000b"}`)
		a.fails(imgate.CodeInvalidParameter, "POST", "/user/profile", a.as(tok), `{"nick_name":"a\\\u0000b"}`)
		a.ok("POST", "/user/profile", a.as(tok), `{"nick_name":"a\\u0000b"}`, nil)
		a.fails(imgate.CodeInvalidParameter, "POST", "/user/nickname?nick_name=a%00b", a.as(tok), nil)
	})
}
