package admin_test

import (
	"fmt"
	"testing"

	"github.com/imgate/imgate"
)

func TestChangePassword(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("erin")
		_, tok2 := a.user("erin2") // another user's token must survive
		var other struct {
			Token string `json:"token"`
		}
		a.ok("POST", "/token/user", h{"app_id": a.app}, `{"name":"erin","password":"pw"}`, &other)

		a.fails(imgate.CodeForbidden, "POST", "/user/change_password", a.as(tok), `{"old_password":"bad","new_password":"new"}`)
		a.fails(imgate.CodeInvalidParameter, "POST", "/user/change_password", a.as(tok), `{"old_password":"pw"}`)
		a.ok("POST", "/user/change_password", a.as(tok), `{"old_password":"pw","new_password":"new"}`, nil)

		a.ok("GET", "/user/settings", a.as(tok), nil, nil)                              // the caller's own token stays
		a.fails(imgate.CodeTokenEnded, "GET", "/user/settings", a.as(other.Token), nil) // revoked: the SDK logs in again
		a.ok("GET", "/user/settings", a.as(tok2), nil, nil)
		a.fails(imgate.CodeForbidden, "POST", "/token/user", h{"app_id": a.app}, `{"name":"erin","password":"pw"}`)
		a.ok("POST", "/token/user", h{"app_id": a.app}, `{"name":"erin","password":"new"}`, nil)

		t.Run("admin", func(t *testing.T) {
			a.fails(imgate.CodeForbidden, "POST", "/user/change_password_admin", a.as(tok), `{"password":"x"}`)
			a.fails(imgate.CodeInvalidParameter, "POST", "/user/change_password_admin", a.as(a.admin), `{"password":"x"}`)
			a.fails(imgate.CodeInvalidParameter, "POST", "/user/change_password_admin", a.as(a.admin, uid), `{}`)
			a.fails(imgate.CodeUserNotFound, "POST", "/user/change_password_admin", a.as(a.admin, 42), `{"password":"x"}`)
			a.ok("POST", "/user/change_password_admin", a.as(a.admin, uid), `{"password":"admin-set"}`, nil)
			a.fails(imgate.CodeTokenEnded, "GET", "/user/settings", a.as(tok), nil) // every token revoked
			a.ok("POST", "/token/user", h{"app_id": a.app}, `{"name":"erin","password":"admin-set"}`, nil)
		})
	})
}

func TestDeleteUser(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("frank")
		a.fails(imgate.CodeForbidden, "POST", "/user/delete", a.as(tok), `{"password":"bad"}`)
		a.fails(imgate.CodeForbidden, "DELETE", "/user/delete", a.as(tok), nil)
		a.ok("DELETE", "/user/delete", a.as(tok), `{"password":"pw"}`, nil)
		a.fails(imgate.CodeInvalidToken, "GET", "/user/settings", a.as(tok), nil)
		a.fails(imgate.CodeForbidden, "POST", "/token/user", h{"app_id": a.app}, `{"name":"frank","password":"pw"}`)
		a.fails(imgate.CodeUserNotFound, "GET", "/user/settings", a.as(a.admin, uid), nil)

		uid2, tok2 := a.user("frank") // the name is free again
		a.ok("POST", "/user/delete", a.as(a.admin, uid2), nil, nil)
		a.fails(imgate.CodeInvalidToken, "GET", "/user/profile", a.as(tok2), nil)
		a.fails(imgate.CodeInvalidParameter, "POST", "/user/delete", a.as(a.admin), nil)
	})
}

func TestListAndStatus(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		var ids []int64
		for i := range 5 {
			id, _ := a.user(fmt.Sprintf("lister%d", i))
			ids = append(ids, id)
		}
		_, userTok := a.user("lister5")
		type basic struct {
			UserID   int64  `json:"user_id"`
			Username string `json:"username"`
			Status   int    `json:"status"`
		}
		var page []basic
		a.ok("GET", "/user/list?page_num=2&page_size=2", a.as(a.admin), nil, &page)
		if len(page) != 2 || page[0].UserID != ids[2] || page[1].Username != "lister3" {
			t.Errorf("page 2 of 2 = %+v, want lister2 and lister3", page)
		}
		a.ok("GET", "/user/list", a.as(a.admin), nil, &page)
		if len(page) != 6 {
			t.Errorf("default page has %d users, want all 6", len(page))
		}
		for _, q := range []string{"page_num=0", "page_size=201", "page_size=x"} {
			a.fails(imgate.CodeInvalidParameter, "GET", "/user/list?"+q, a.as(a.admin), nil)
		}
		a.fails(imgate.CodeForbidden, "GET", "/user/list", a.as(userTok), nil)

		a.ok("PUT", "/user/disable", a.as(a.admin), map[string]any{"list": ids[:2]}, nil)
		a.ok("GET", "/user/list?page_size=3", a.as(a.admin), nil, &page)
		if page[0].Status != 1 || page[1].Status != 1 || page[2].Status != 0 {
			t.Errorf("statuses after disable = %+v, want 1 1 0", page)
		}
		// All or nothing: an unknown id changes nobody.
		a.fails(imgate.CodeUserNotFound, "PUT", "/user/enable", a.as(a.admin), map[string]any{"list": []int64{ids[0], 7}})
		a.ok("GET", "/user/list?page_size=1", a.as(a.admin), nil, &page)
		if page[0].Status != 1 {
			t.Errorf("a failed enable changed status to %d", page[0].Status)
		}
		a.ok("PUT", "/user/enable", a.as(a.admin), map[string]any{"list": []string{jsonString(ids[0])}}, nil)
		a.fails(imgate.CodeInvalidParameter, "PUT", "/user/enable", a.as(a.admin), map[string]any{"list": []int64{}})
		a.fails(imgate.CodeForbidden, "PUT", "/user/disable", a.as(userTok), map[string]any{"list": ids})
		if r := a.do("POST", "/user/disable", a.as(a.admin), map[string]any{"list": ids}); r.status != 405 {
			t.Errorf("POST /user/disable: HTTP %d, want 405 (the Swagger lists PUT only)", r.status)
		}
	})
}

func TestBatchProfiles(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("gina")
		type result struct {
			UserID  int64  `json:"user_id"`
			Success bool   `json:"success"`
			Reason  string `json:"reason"`
		}
		var got []result
		a.ok("PUT", "/user/avatar/batch", a.as(a.admin), map[string]any{"list": []map[string]any{
			{"user_id": uid, "avatar": "http://x/a.png"}, {"user_id": 3, "avatar": "y"},
		}}, &got)
		if len(got) != 2 || !got[0].Success || got[1].Success || got[1].Reason == "" {
			t.Errorf("avatar batch = %+v, want success then failure", got)
		}
		a.ok("POST", "/user/profile/batch", a.as(a.admin), map[string]any{"list": []map[string]any{
			{"user_id": uid, "nick_name": "G", "description": "d"},
		}}, &got)
		var p struct {
			Avatar, NickName, Description string
		}
		a.ok("GET", "/user/profile", a.as(tok), nil, &struct {
			Avatar      *string `json:"avatar"`
			NickName    *string `json:"nick_name"`
			Description *string `json:"description"`
		}{&p.Avatar, &p.NickName, &p.Description})
		if p.Avatar != "http://x/a.png" || p.NickName != "G" || p.Description != "d" {
			t.Errorf("profile after batches = %+v", p)
		}
		a.fails(imgate.CodeForbidden, "POST", "/user/profile/batch", a.as(tok), map[string]any{"list": []map[string]any{{"user_id": uid}}})
		a.fails(imgate.CodeInvalidParameter, "POST", "/user/avatar/batch", a.as(a.admin), map[string]any{"list": []any{}})
	})
}
