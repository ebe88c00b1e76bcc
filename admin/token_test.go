package admin_test

import (
	"testing"

	"github.com/imgate/imgate"
)

func TestTokens(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, _ := a.user("carol")
		a.ok("POST", "/user/mobile?mobile=13800000001", a.as(a.admin, uid), nil, nil)
		a.ok("POST", "/user/register/v2", h{"app_id": a.app}, map[string]string{"username": "dave", "password": "pw"}, nil)
		pub := h{"app_id": a.app}

		type tokenDTO struct {
			Token     string `json:"token"`
			UserID    int64  `json:"user_id"`
			Expire    int64  `json:"expire"`
			PushToken string `json:"push_token"`
		}
		for _, c := range []struct{ path, body string }{
			{"/token/user", `{"name":"carol","password":"pw"}`},
			{"/token/id", `{"user_id":` + jsonString(uid) + `,"password":"pw"}`},
			{"/token/id", `{"user_id":"` + jsonString(uid) + `","password":"pw"}`}, // the JS SDK's string id
			{"/token/login", `{"login_name":"carol","password":"pw"}`},
			{"/token/login", `{"login_name":"13800000001","password":"pw"}`},
		} {
			t.Run(c.path+" "+c.body, func(t *testing.T) {
				var tok tokenDTO
				r := a.ok("POST", c.path, pub, c.body, &tok)
				if tok.UserID != uid || tok.Token == "" || tok.Expire <= 0 || tok.PushToken != "" {
					t.Errorf("got %s, want carol's token without push_token", r.Data)
				}
				// The token works on the REST API as carol.
				var st struct {
					UserID int64 `json:"user_id"`
				}
				a.ok("GET", "/user/settings", a.as(tok.Token), nil, &st)
				if st.UserID != uid {
					t.Errorf("token acts as %d, want %d", st.UserID, uid)
				}
			})
		}
		t.Run("device_guid", func(t *testing.T) {
			var tok tokenDTO
			a.ok("POST", "/token/user", pub, `{"name":"carol","password":"pw","device_guid":"g1"}`, &tok)
			if tok.PushToken == "" {
				t.Fatalf("token with device_guid has no push_token")
			}
			var again tokenDTO
			a.ok("POST", "/token/user", pub, `{"name":"carol","password":"pw","device_guid":"g1"}`, &again)
			if again.PushToken != tok.PushToken {
				t.Errorf("second login from g1 got push_token %q, want the device's %q", again.PushToken, tok.PushToken)
			}
		})
		for _, c := range []struct {
			name, path, body string
			code             int
		}{
			{"wrong password", "/token/user", `{"name":"carol","password":"nope"}`, imgate.CodeForbidden},
			{"unknown name", "/token/user", `{"name":"nobody","password":"pw"}`, imgate.CodeForbidden}, // as a wrong password
			{"no name", "/token/user", `{"password":"pw"}`, imgate.CodeInvalidParameter},
			{"no password", "/token/user", `{"name":"carol"}`, imgate.CodeInvalidParameter},
			{"unknown id", "/token/id", `{"user_id":1,"password":"pw"}`, imgate.CodeForbidden},
			{"bad id", "/token/id", `{"user_id":"x1","password":"pw"}`, imgate.CodeInvalidParameter},
			{"no id", "/token/id", `{"password":"pw"}`, imgate.CodeInvalidParameter},
			{"unknown login", "/token/login", `{"login_name":"000","password":"pw"}`, imgate.CodeForbidden},
			{"no login_name", "/token/login", `{"password":"pw"}`, imgate.CodeInvalidParameter},
			{"malformed", "/token/user", `{"name":`, imgate.CodeInvalidParameter},
		} {
			t.Run(c.name, func(t *testing.T) { a.fails(c.code, "POST", c.path, pub, c.body) })
		}
		t.Run("disabled user", func(t *testing.T) {
			var tok tokenDTO
			a.ok("POST", "/token/user", pub, `{"name":"dave","password":"pw"}`, &tok)
			a.ok("PUT", "/user/disable", a.as(a.admin), map[string]any{"list": []int64{tok.UserID}}, nil)
			a.fails(imgate.CodeForbidden, "POST", "/token/user", pub, `{"name":"dave","password":"pw"}`)
			a.fails(imgate.CodeForbidden, "GET", "/user/settings", a.as(tok.Token), nil)
			a.ok("PUT", "/user/enable", a.as(a.admin), map[string]any{"list": []int64{tok.UserID}}, nil)
			a.ok("GET", "/user/settings", a.as(tok.Token), nil, nil)
			a.ok("POST", "/token/user", pub, `{"name":"dave","password":"pw"}`, nil)
		})
		t.Run("unknown app", func(t *testing.T) {
			a.fails(imgate.CodeUnknownApp, "POST", "/token/user", h{"app_id": "nope"}, `{"name":"carol","password":"pw"}`)
		})
		t.Run("methods", func(t *testing.T) {
			if r := a.do("GET", "/token/user", pub, nil); r.status != 405 {
				t.Errorf("GET /token/user: HTTP %d, want 405", r.status)
			}
		})
	})
}
