package admin_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/imgate/imgate"
)

func TestRegister(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		t.Run("seed example", func(t *testing.T) {
			// The quick start's curl, verbatim but for the host.
			r := a.ok("POST", "/user/register/v2", h{"app_id": a.app}, `{ "username": "test_user", "password": "asd"}`, nil)
			want := []string{"auth_mode", "auto_download", "group_confirm", "no_push", "no_push_detail", "no_push_end_hour",
				"no_push_start_hour", "no_sounds", "user_id", "vibratory"}
			if got := keys(t, r.Data); !slices.Equal(got, want) {
				t.Errorf("register answered keys %v, want the seed's %v", got, want)
			}
			var reg struct {
				UserID       int64 `json:"user_id"`
				AutoDownload bool  `json:"auto_download"`
				AuthMode     int   `json:"auth_mode"`
			}
			a.ok("POST", "/user/register/v2", h{"app_id": a.app}, `{"username":"test_user2","password":"asd"}`, &reg)
			if reg.UserID <= 0 || reg.AutoDownload || reg.AuthMode != 0 {
				t.Errorf("register answered %+v, want a new id and default settings", reg)
			}
		})
		t.Run("taken name", func(t *testing.T) {
			a.ok("POST", "/user/register/v2", h{"app_id": a.app}, map[string]string{"username": "taken", "password": "x"}, nil)
			a.fails(imgate.CodeUserExists, "POST", "/user/register/v2", h{"app_id": a.app}, map[string]string{"username": "taken", "password": "y"})
		})
		t.Run("same name in another app", func(t *testing.T) {
			a.newApp("secondapp")
			a.ok("POST", "/user/register/v2", h{"app_id": "secondapp"}, map[string]string{"username": "taken", "password": "x"}, nil)
		})
		for name, body := range map[string]map[string]string{
			"all digits":     {"username": "12345", "password": "x"},
			"maxim prefix":   {"username": "maximus", "password": "x"},
			"mta prefix":     {"username": "MTA_user", "password": "x"},
			"bad character":  {"username": "a-b", "password": "x"},
			"empty name":     {"username": "", "password": "x"},
			"too long":       {"username": fmt.Sprintf("%065d", 0) + "a", "password": "x"},
			"no password":    {"username": "nopw"},
			"password > 72B": {"username": "longpw", "password": fmt.Sprintf("%073d", 0)},
		} {
			t.Run(name, func(t *testing.T) {
				a.fails(imgate.CodeInvalidParameter, "POST", "/user/register/v2", h{"app_id": a.app}, body)
			})
		}
		t.Run("unknown app", func(t *testing.T) {
			a.fails(imgate.CodeUnknownApp, "POST", "/user/register/v2", h{"app_id": "nope"}, map[string]string{"username": "u", "password": "x"})
		})
	})
}

func TestRegisterPush(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		body := map[string]string{"username": "pushy", "password": "pw", "alias": "al", "device_guid": "guid-1", "push_token": "vendor-token"}
		var reg struct {
			UserID int64 `json:"user_id"`
		}
		a.ok("POST", "/user/register/push", h{"app_id": a.app}, body, &reg)
		ds, err := a.store.Devices(t.Context(), a.app, reg.UserID)
		if err != nil || len(ds) != 1 || ds[0].GUID != "guid-1" || ds[0].PushToken != "vendor-token" {
			t.Errorf("devices after register/push: %+v, %v; want one with guid-1 and the push token", ds, err)
		}
		u, err := a.store.User(t.Context(), a.app, reg.UserID)
		if err != nil || u.Push.Alias != "al" {
			t.Errorf("alias after register/push: %+v, %v", u.Push, err)
		}
		a.fails(imgate.CodeUserExists, "POST", "/user/register/push", h{"app_id": a.app}, body)
		a.fails(imgate.CodeInvalidParameter, "POST", "/user/register/push", h{"app_id": a.app}, map[string]string{"username": "x1"})
	})
}

func TestRegisterBatch(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		_, userTok := a.user("someone")
		list := []map[string]string{
			{"username": "b1", "password": "pw"}, {"username": "someone", "password": "pw"},
			{"username": "999", "password": "pw"}, {"username": "b2", "password": "pw"},
		}
		var got []struct {
			UserID   int64  `json:"user_id"`
			Username string `json:"username"`
			Success  bool   `json:"success"`
			Reason   string `json:"reason"`
		}
		a.ok("POST", "/user/register/batch", a.as(a.admin), map[string]any{"list": list}, &got)
		if len(got) != 4 {
			t.Fatalf("batch answered %d results, want 4", len(got))
		}
		for i, want := range []bool{true, false, false, true} {
			g := got[i]
			if g.Success != want || g.Username != list[i]["username"] || (want && g.UserID <= 0) || (!want && g.Reason == "") {
				t.Errorf("result %d = %+v, want success %v for %s", i, g, want, list[i]["username"])
			}
		}
		// The registered users can log in.
		a.ok("POST", "/token/user", h{"app_id": a.app}, map[string]string{"name": "b2", "password": "pw"}, nil)

		a.fails(imgate.CodeForbidden, "POST", "/user/register/batch", a.as(userTok), map[string]any{"list": list})
		a.fails(imgate.CodeMissingToken, "POST", "/user/register/batch", h{"app_id": a.app}, map[string]any{"list": list})
		a.fails(imgate.CodeInvalidParameter, "POST", "/user/register/batch", a.as(a.admin), map[string]any{"list": []any{}})
		long := make([]map[string]string, 51) // the harness sets MaxListLen 50
		for i := range long {
			long[i] = map[string]string{"username": fmt.Sprintf("l%d", i), "password": "pw"}
		}
		a.fails(imgate.CodeInvalidParameter, "POST", "/user/register/batch", a.as(a.admin), map[string]any{"list": long})
	})
}
