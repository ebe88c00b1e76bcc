package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/imgate/imgate"
)

// loginDevice asks for a token of the user ("pw" password) from the
// device guid and returns the token.
func loginDevice(a *api, name, guid string) string {
	a.t.Helper()
	var tk struct {
		Token     string `json:"token"`
		PushToken string `json:"push_token"`
	}
	a.ok("POST", "/token/user", h{"app_id": a.app}, map[string]string{"name": name, "password": "pw", "device_guid": guid}, &tk)
	if tk.PushToken == "" {
		a.t.Errorf("/token/user with device_guid %s: no push_token", guid)
	}
	return tk.Token
}

// deviceSNs lists the serial numbers of GET /user/device/list.
func deviceSNs(a *api, hs h) []uint32 {
	a.t.Helper()
	var ds []struct {
		SN uint32 `json:"device_sn"`
	}
	a.ok("GET", "/user/device/list", hs, nil, &ds)
	sns := []uint32{}
	for _, d := range ds {
		sns = append(sns, d.SN)
	}
	return sns
}

// storedDevice reads one device from the store.
func storedDevice(t *testing.T, a *api, uid int64, sn uint32) (imgate.Device, error) {
	t.Helper()
	return a.store.Device(context.Background(), a.app, uid, sn)
}

func TestDeviceList(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		bob, bobTok := a.user("bob")
		who := actingAs(a, uid, tok)
		t.Run("none", func(t *testing.T) {
			for _, w := range who {
				r := reportTo(a, t).ok("GET", "/user/device/list", w.hs, nil, nil)
				if string(r.Data) != "[]" || r.Version == nil {
					t.Errorf("%s: no devices: got %s, want data [] and a version", w.name, r.raw)
				}
			}
		})
		steps := []struct {
			name, guid string
			want       []uint32
		}{
			{"first guid", "guid-1", []uint32{1}},
			{"same guid again", "guid-1", []uint32{1}},
			{"second guid", "guid-2", []uint32{1, 2}},
			{"first guid once more", "guid-1", []uint32{1, 2}},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				a := reportTo(a, t)
				loginDevice(a, "alice", s.guid)
				for _, w := range who {
					if got := deviceSNs(a, w.hs); !slices.Equal(got, s.want) {
						t.Errorf("%s: device SNs: got %v, want %v", w.name, got, s.want)
					}
				}
			})
		}
		t.Run("shape", func(t *testing.T) {
			for _, w := range who {
				r := reportTo(a, t).ok("GET", "/user/device/list", w.hs, nil, nil)
				if r.Version == nil {
					t.Errorf("%s: envelope %s lacks version", w.name, r.raw)
				}
				var items []json.RawMessage
				if err := json.Unmarshal(r.Data, &items); err != nil || len(items) != 2 {
					t.Fatalf("%s: data %s: want a list of 2", w.name, r.Data)
				}
				want := []string{"device_sn", "platform", "user_agent", "user_id"}
				if got := keys(t, items[0]); !slices.Equal(got, want) {
					t.Errorf("%s: DeviceDto keys: got %v, want %v", w.name, got, want)
				}
				var d struct {
					UserID int64 `json:"user_id"`
				}
				if json.Unmarshal(items[1], &d); d.UserID != uid {
					t.Errorf("%s: device user_id: got %d, want %d", w.name, d.UserID, uid)
				}
			}
		})
		t.Run("another user's devices", func(t *testing.T) {
			a := reportTo(a, t)
			for _, w := range actingAs(a, bob, bobTok) {
				if got := deviceSNs(a, w.hs); len(got) != 0 {
					t.Errorf("%s: bob has no devices: got %v", w.name, got)
				}
			}
		})
	})
}

func TestDeviceRemove(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		a.user("bob")
		who := actingAs(a, uid, tok)
		for i := 1; i <= 5; i++ {
			loginDevice(reportTo(a, t), "alice", fmt.Sprintf("guid-%d", i))
		}
		loginDevice(reportTo(a, t), "bob", "bob-guid")
		want := []uint32{1, 2, 3, 4, 5}
		combos(t, a, []string{"POST", "DELETE"}, who, func(t *testing.T, a *api, m string, w acting, n int) {
			sn := uint32(n + 1)
			var ok bool
			a.ok(m, withQuery("/user/device/remove", "device_sn", fmt.Sprint(sn)), w.hs, nil, &ok)
			want = want[1:]
			if got := deviceSNs(a, w.hs); !ok || !slices.Equal(got, want) {
				t.Errorf("after removing %d: got data %v and SNs %v, want true and %v", sn, ok, got, want)
			}
			if _, err := storedDevice(t, a, uid, sn); imgate.ErrorCode(err) != imgate.CodeInvalidParameter {
				t.Errorf("store: device %d after removal: got error %v, want ErrDeviceNotFound", sn, err)
			}
		})
		t.Run("unknown device", func(t *testing.T) {
			bad := map[string]string{"removed": "?device_sn=1", "unknown": "?device_sn=99", "zero": "?device_sn=0",
				"too large": "?device_sn=4294967296", "letters": "?device_sn=x", "empty": "?device_sn=", "missing": ""}
			rejectsQueries(t, a, imgate.CodeInvalidParameter, "/user/device/remove", bad, []string{"POST", "DELETE"}, who, "/user/device/list")
		})
		t.Run("another user's device", func(t *testing.T) {
			a := reportTo(a, t)
			u, err := a.store.UserByName(context.Background(), a.app, "bob")
			if err != nil {
				t.Fatal(err)
			}
			a.fails(imgate.CodeInvalidParameter, "POST", "/user/device/remove?device_sn=1", a.as(tok), nil)
			if _, err := storedDevice(t, a, u.ID, 1); err != nil {
				t.Errorf("bob's device 1 after alice tried to remove her own sn 1: %v", err)
			}
		})
	})
}

func TestKick(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		loginDevice(reportTo(a, t), "alice", "guid-1")
		loginDevice(reportTo(a, t), "alice", "guid-2")
		combos(t, a, []string{"POST", "PUT"}, who, func(t *testing.T, a *api, m string, w acting, n int) {
			for _, path := range []string{"/user/kick?device_sn=" + fmt.Sprint(n%2+1), "/user/kick"} {
				var ok bool
				a.ok(m, path, w.hs, nil, &ok)
				if !ok {
					t.Errorf("%s %s: got data false, want true", m, path)
				}
			}
			if got := deviceSNs(a, w.hs); !slices.Equal(got, []uint32{1, 2}) {
				t.Errorf("devices after kicks: got %v, want [1 2]: a kick closes sessions, it does not forget devices", got)
			}
		})
		bad := map[string]string{"unknown": "?device_sn=99", "zero": "?device_sn=0", "letters": "?device_sn=x", "empty": "?device_sn="}
		rejectsQueries(t, a, imgate.CodeInvalidParameter, "/user/kick", bad, []string{"POST", "PUT"}, who, "/user/device/list")
	})
}

func TestOnlineStatus(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		for _, device := range []bool{false, true} {
			t.Run(fmt.Sprint("with a device: ", device), func(t *testing.T) {
				if device {
					loginDevice(reportTo(a, t), "alice", "guid-1")
				}
				for _, w := range actingAs(a, uid, tok) {
					r := reportTo(a, t).ok("GET", "/user/online_status", w.hs, nil, nil)
					if string(r.Data) != `{"online":false}` {
						t.Errorf("%s: got data %s, want {\"online\":false}: no gateway runs", w.name, r.Data)
					}
				}
			})
		}
	})
}

func TestPushTokenBind(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		loginDevice(reportTo(a, t), "alice", "guid-1")
		loginDevice(reportTo(a, t), "alice", "guid-2")
		wantBound := func(t *testing.T, a *api, sn uint32, token, notifier string) {
			t.Helper()
			d, err := storedDevice(t, a, uid, sn)
			if err != nil {
				t.Fatal(err)
			}
			if d.DeviceToken != token || d.NotifierName != notifier {
				t.Errorf("device %d: got token %q notifier %q, want %q %q", sn, d.DeviceToken, d.NotifierName, token, notifier)
			}
		}
		combos(t, a, []string{"POST", "PUT"}, who, func(t *testing.T, a *api, m string, w acting, n int) {
			sn := uint32(n%2 + 1)
			token, notifier := fmt.Sprintf("device-token-%d", n), fmt.Sprintf("apns-%d", n)
			var snField any = sn
			if n >= 2 {
				snField = fmt.Sprint(sn) // the JS SDK sends ids as strings
			}
			a.ok(m, "/user/token/bind", w.hs, map[string]any{"device_sn": snField, "device_token": token, "notifier_name": notifier}, nil)
			wantBound(t, a, sn, token, notifier)
		})
		t.Run("bad bind", func(t *testing.T) {
			bad := map[string]map[string]any{
				"unknown device":         {"device_sn": 99, "device_token": "x", "notifier_name": "y"},
				"zero device":            {"device_sn": 0, "device_token": "x", "notifier_name": "y"},
				"missing device_sn":      {"device_token": "x", "notifier_name": "y"},
				"missing device_token":   {"device_sn": 1, "notifier_name": "y"},
				"missing notifier_name":  {"device_sn": 1, "device_token": "x"},
				"empty":                  {},
				"device_token too long":  {"device_sn": 1, "device_token": strings.Repeat("t", 1025), "notifier_name": "y"},
				"notifier_name too long": {"device_sn": 1, "device_token": "x", "notifier_name": strings.Repeat("n", 65)},
			}
			for name, body := range bad {
				t.Run(name, func(t *testing.T) {
					a := reportTo(a, t)
					for _, m := range []string{"POST", "PUT"} {
						for _, w := range who {
							a.fails(imgate.CodeInvalidParameter, m, "/user/token/bind", w.hs, body)
							wantBound(t, a, 1, "device-token-2", "apns-2")
						}
					}
				})
			}
		})
		combos(t, a, []string{"POST", "DELETE"}, who, func(t *testing.T, a *api, m string, w acting, n int) {
			sn := uint32(n%2 + 1)
			a.ok("PUT", "/user/token/bind", w.hs, map[string]any{"device_sn": sn, "device_token": "t", "notifier_name": "n"}, nil)
			a.ok(m, withQuery("/user/token/unbind", "deviceSn", fmt.Sprint(sn)), w.hs, nil, nil)
			wantBound(t, a, sn, "", "")
		})
		t.Run("bad unbind", func(t *testing.T) {
			reportTo(a, t).ok("POST", "/user/token/bind", a.as(tok), map[string]any{"device_sn": 1, "device_token": "t", "notifier_name": "n"}, nil)
			bad := map[string]string{"unknown": "?deviceSn=99", "zero": "?deviceSn=0", "letters": "?deviceSn=x",
				"missing": "", "snake case": "?device_sn=1"}
			rejectsQueries(t, a, imgate.CodeInvalidParameter, "/user/token/unbind", bad, []string{"POST", "DELETE"}, who, "/user/device/list")
			wantBound(t, reportTo(a, t), 1, "t", "n")
		})
	})
}

// The helpers below serve setters_test.go as well.

// acting is one way to act as a user: its own token, or the app's admin
// token with the user_id header.
type acting struct {
	name string
	hs   h
}

func actingAs(a *api, uid int64, tok string) []acting {
	return []acting{{"user token", a.as(tok)}, {"admin as user", a.as(a.admin, uid)}}
}

// bothMethods lists the methods of the paths routes.go registers for POST
// and PUT alike.
var bothMethods = []string{"POST", "PUT"}

// reportTo returns a copy of a that fails t, so that a failing request
// stops the subtest rather than its parent.
func reportTo(a *api, t *testing.T) *api {
	b := *a
	b.t = t
	return &b
}

// withQuery appends the query pairs (name, value, name, value…) to path.
func withQuery(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return path + "?" + v.Encode()
}

// fields returns the data object of GET path by key, as raw JSON.
func fields(a *api, path string, hs h) map[string]json.RawMessage {
	a.t.Helper()
	var m map[string]json.RawMessage
	a.ok("GET", path, hs, nil, &m)
	return m
}

// wantFields checks the values of GET path's data object, compared as JSON.
func wantFields(t *testing.T, a *api, path string, hs h, want map[string]any) {
	t.Helper()
	got := fields(a, path, hs)
	for k, v := range want {
		w, _ := json.Marshal(v)
		if !bytes.Equal(got[k], w) {
			t.Errorf("GET %s: %s = %s, want %s", path, k, got[k], w)
		}
	}
}

// unchanged runs fn and checks that GET path answers the same afterwards.
func unchanged(t *testing.T, a *api, path string, hs h, fn func()) {
	t.Helper()
	before := a.ok("GET", path, hs, nil, nil).Data
	fn()
	if after := a.ok("GET", path, hs, nil, nil).Data; !bytes.Equal(before, after) {
		t.Errorf("GET %s changed after a rejected request:\n got %s\nwant %s", path, after, before)
	}
}

// rejects checks that each body (a map or string) fails with the code for
// every method and caller and leaves GET check unchanged.
func rejects(t *testing.T, a *api, code int, path string, methods []string, who []acting, check string, bodies map[string]any) {
	t.Helper()
	for name, body := range bodies {
		for _, m := range methods {
			for _, w := range who {
				t.Run(name+"/"+m+"/"+w.name, func(t *testing.T) {
					a := reportTo(a, t)
					unchanged(t, a, check, w.hs, func() { a.fails(code, m, path, w.hs, body) })
				})
			}
		}
	}
}

// noBody is the one "body" of rejects for paths that take only a query.
var noBody = map[string]any{"no body": nil}

// rejectsQueries is rejects for each query (by name) of a path without a body.
func rejectsQueries(t *testing.T, a *api, code int, path string, queries map[string]string, methods []string, who []acting, check string) {
	t.Helper()
	for name, q := range queries {
		t.Run(name, func(t *testing.T) { rejects(t, a, code, path+q, methods, who, check, noBody) })
	}
}

// combos calls fn once per accepted method and caller, with a running
// number n to vary the values set.
func combos(t *testing.T, a *api, methods []string, who []acting, fn func(t *testing.T, a *api, m string, w acting, n int)) {
	t.Helper()
	n := 0
	for _, m := range methods {
		for _, w := range who {
			t.Run(m+"/"+w.name, func(t *testing.T) { fn(t, reportTo(a, t), m, w, n) })
			n++
		}
	}
}
