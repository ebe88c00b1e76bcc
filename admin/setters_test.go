package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/imgate/imgate"
)

func TestSettings(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		bob, _ := a.user("bob")
		who := actingAs(a, uid, tok)
		t.Run("get", func(t *testing.T) {
			got := fields(reportTo(a, t), "/user/settings", a.as(tok))
			for _, k := range []string{"auth_answer", "auth_mode", "auth_question", "auto_download", "group_confirm", "id",
				"no_push", "no_push_detail", "no_push_end_hour", "no_push_start_hour", "no_sounds", "push_nick_name",
				"silence_end_time", "silence_start_time", "user_id", "vibratory"} {
				if _, ok := got[k]; !ok {
					t.Errorf("GET /user/settings lacks %q: %v", k, got)
				}
			}
			wantFields(t, reportTo(a, t), "/user/settings", a.as(tok), map[string]any{"user_id": uid, "id": uid})
		})
		combos(t, a, bothMethods, who, func(t *testing.T, a *api, m string, w acting, n int) {
			patch := map[string]any{
				"user_id": uid, "auth_mode": n % 4, "auth_question": fmt.Sprintf("q%d", n), "auth_answer": fmt.Sprintf("a%d", n),
				"auto_download": n%2 == 0, "group_confirm": n%2 == 1, "no_push": n >= 2, "no_push_detail": n < 2,
				"no_push_start_hour": n + 1, "no_push_end_hour": 23 - n, "no_sounds": n == 1 || n == 2, "vibratory": n == 0 || n == 3,
				"push_nick_name": fmt.Sprintf("push %d", n), "silence_start_time": n + 5, "silence_end_time": 20 - n,
			}
			a.ok(m, "/user/settings", w.hs, patch, nil)
			wantFields(t, a, "/user/settings", w.hs, patch)
		})
		t.Run("partial update keeps untouched fields", func(t *testing.T) {
			a := reportTo(a, t)
			want := fields(a, "/user/settings", a.as(tok))
			want["vibratory"], want["auth_mode"] = json.RawMessage(`false`), json.RawMessage(`2`)
			a.ok("POST", "/user/settings", a.as(tok), map[string]any{"user_id": jsonString(uid), "vibratory": false}, nil)
			a.ok("PUT", "/user/settings", a.as(a.admin, uid), map[string]any{"user_id": uid, "auth_mode": 2}, nil)
			if got := fields(a, "/user/settings", a.as(tok)); !maps.EqualFunc(got, want, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) }) {
				t.Errorf("after partial updates:\n got %v\nwant %v", got, want)
			}
		})
		t.Run("user_id of another user", func(t *testing.T) {
			rejects(t, a, imgate.CodeForbidden, "/user/settings", bothMethods, who, "/user/settings", map[string]any{
				"number": map[string]any{"user_id": bob, "no_push": true}, "string": map[string]any{"user_id": jsonString(bob), "no_push": true},
			})
		})
		t.Run("out of range", func(t *testing.T) {
			bad := map[string]any{}
			for _, f := range []struct {
				key string
				v   any
			}{
				{"auth_mode", 4}, {"auth_mode", -1}, {"no_push_start_hour", 24}, {"no_push_start_hour", -1}, {"no_push_end_hour", 24},
				{"no_push_end_hour", -1}, {"silence_start_time", 24}, {"silence_end_time", -1}, {"push_nick_name", strings.Repeat("n", 65)},
				{"auth_question", strings.Repeat("q", 1025)}, {"auth_answer", strings.Repeat("a", 1025)}, {"no_push", "yes"},
			} {
				bad[fmt.Sprintf("%s=%.8v", f.key, f.v)] = map[string]any{"user_id": uid, "no_sounds": true, "vibratory": true, f.key: f.v}
			}
			rejects(t, a, imgate.CodeInvalidParameter, "/user/settings", bothMethods, who, "/user/settings", bad)
		})
	})
}

func TestProfile(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		t.Run("get", func(t *testing.T) {
			r := reportTo(a, t).ok("GET", "/user/profile", a.as(tok), nil, nil)
			want := []string{"avatar", "description", "email", "mobile", "nick_name", "private_info", "public_info", "user_id", "username"}
			if got := keys(t, r.Data); !slices.Equal(got, want) {
				t.Errorf("UserProfileDto keys: got %v, want %v", got, want)
			}
			wantFields(t, reportTo(a, t), "/user/profile", a.as(a.admin, uid), map[string]any{"user_id": uid, "username": "alice"})
		})
		combos(t, a, bothMethods, who, func(t *testing.T, a *api, m string, w acting, n int) {
			patch := map[string]any{"nick_name": fmt.Sprintf("Alice %d", n), "description": fmt.Sprintf("about %d", n),
				"public_info": fmt.Sprintf(`{"pub":%d}`, n), "private_info": fmt.Sprintf("private %d", n)}
			a.ok(m, "/user/profile", w.hs, patch, nil)
			patch["user_id"], patch["username"] = uid, "alice"
			wantFields(t, a, "/user/profile", w.hs, patch)
		})
		t.Run("partial update keeps untouched fields", func(t *testing.T) {
			a := reportTo(a, t)
			want := fields(a, "/user/profile", a.as(tok))
			want["description"] = json.RawMessage(`"only this"`)
			want["nick_name"] = json.RawMessage(`"` + strings.Repeat("名", 64) + `"`)
			a.ok("POST", "/user/profile", a.as(tok), map[string]any{"description": "only this"}, nil)
			a.ok("PUT", "/user/profile", a.as(a.admin, uid), map[string]any{"nick_name": strings.Repeat("名", 64)}, nil)
			a.ok("POST", "/user/profile", a.as(tok), map[string]any{}, nil)
			if got := fields(a, "/user/profile", a.as(tok)); !maps.EqualFunc(got, want, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) }) {
				t.Errorf("after partial updates:\n got %v\nwant %v", got, want)
			}
		})
		t.Run("too long", func(t *testing.T) {
			rejects(t, a, imgate.CodeInvalidParameter, "/user/profile", bothMethods, who, "/user/profile", map[string]any{
				"nick_name":    map[string]any{"description": "x", "nick_name": strings.Repeat("n", 65)},
				"description":  map[string]any{"nick_name": "x", "description": strings.Repeat("d", 1025)},
				"public_info":  map[string]any{"nick_name": "x", "public_info": strings.Repeat("p", 16<<10+1)},
				"private_info": map[string]any{"nick_name": "x", "private_info": strings.Repeat("p", 16<<10+1)},
			})
		})
	})
}

func TestAvatar(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		combos(t, a, bothMethods, who, func(t *testing.T, a *api, m string, w acting, n int) {
			link := fmt.Sprintf("https://cdn.example.com/%d.png?s=", n)
			link += strings.Repeat("x", 1024-len(link)) // the longest allowed
			a.ok(m, "/user/avatar", w.hs, map[string]string{"avatar": link}, nil)
			wantFields(t, a, "/user/profile", w.hs, map[string]any{"avatar": link})
		})
		t.Run("too long", func(t *testing.T) {
			rejects(t, a, imgate.CodeInvalidParameter, "/user/avatar", bothMethods, who, "/user/profile", map[string]any{
				"1025 characters": map[string]string{"avatar": strings.Repeat("a", 1025)},
			})
		})
		t.Run("missing", func(t *testing.T) {
			rejects(t, a, imgate.CodeInvalidParameter, "/user/avatar", bothMethods, who, "/user/profile", map[string]any{
				"no avatar field": map[string]string{},
			})
		})
	})
}

// TestInfo covers /user/public and /user/private, whose body is the bare
// text: raw or as a JSON string.
func TestInfo(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		for _, c := range []struct{ path, key, other string }{
			{"/user/public", "public_info", "private_info"},
			{"/user/private", "private_info", "public_info"},
		} {
			t.Run(c.path, func(t *testing.T) {
				reportTo(a, t).ok("POST", "/user/profile", a.as(tok), map[string]string{c.other: "untouched"}, nil)
				combos(t, a, bothMethods, who, func(t *testing.T, a *api, m string, w acting, n int) {
					raw := fmt.Sprintf(`raw %d: say "hi" {not json}`, n)
					a.ok(m, c.path, w.hs, raw, nil)
					wantFields(t, a, "/user/profile", w.hs, map[string]any{c.key: raw, c.other: "untouched"})
					text := fmt.Sprintf("json %d: \"quoted\" 中文\n", n)
					js, _ := json.Marshal(text)
					a.ok(m, c.path, w.hs, string(js), nil)
					wantFields(t, a, "/user/profile", w.hs, map[string]any{c.key: text, c.other: "untouched"})
				})
				t.Run("16 KiB", func(t *testing.T) {
					a := reportTo(a, t)
					full := strings.Repeat("i", 16<<10)
					a.ok("POST", c.path, a.as(tok), full, nil)
					a.ok("PUT", c.path, a.as(a.admin, uid), `"`+full+`"`, nil)
					wantFields(t, a, "/user/profile", a.as(tok), map[string]any{c.key: full})
				})
				t.Run("over 16 KiB", func(t *testing.T) {
					over := strings.Repeat("o", 16<<10+1)
					wide := strings.Repeat("中", 16<<10/3+1) // fewer characters, more bytes than the limit
					rejects(t, a, imgate.CodeInvalidParameter, c.path, bothMethods, who, "/user/profile", map[string]any{
						"raw": over, "JSON string": `"` + over + `"`, "multi-byte": wide,
					})
				})
			})
		}
	})
}

func TestPinnedConversations(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		pinned := func(a *api, hs h) []int64 { // checks the shape too: one key, [] when empty
			a.t.Helper()
			r := a.ok("GET", "/user/conversation/pin_list", hs, nil, nil)
			var out struct {
				IDs json.RawMessage `json:"conversation_ids"`
			}
			var ids []int64
			if got := keys(a.t, r.Data); !slices.Equal(got, []string{"conversation_ids"}) || json.Unmarshal(r.Data, &out) != nil ||
				json.Unmarshal(out.IDs, &ids) != nil || ids == nil {
				a.t.Fatalf("pin_list: got data %s, want {\"conversation_ids\":[…]}", r.Data)
			}
			return ids
		}
		t.Run("empty", func(t *testing.T) {
			for _, w := range who {
				if got := pinned(reportTo(a, t), w.hs); len(got) != 0 {
					t.Errorf("%s: got %v, want none", w.name, got)
				}
			}
		})
		combos(t, a, bothMethods, who, func(t *testing.T, a *api, m string, w acting, n int) {
			c := int64(100 * (n + 1))
			steps := []struct {
				path string
				id   any
				want []int64
			}{
				{"pin", c + 1, []int64{c + 1}},
				{"pin", c + 2, []int64{c + 1, c + 2}},
				{"pin", jsonString(c + 3), []int64{c + 1, c + 2, c + 3}},
				{"pin", c + 1, []int64{c + 2, c + 3, c + 1}}, // pinned again: no duplicate, newest last
				{"unpin", c + 2, []int64{c + 3, c + 1}},
				{"unpin", c + 9, []int64{c + 3, c + 1}},
				{"unpin", c + 3, []int64{c + 1}},
				{"unpin", c + 1, []int64{}},
			}
			for _, s := range steps {
				a.ok(m, "/user/conversation/"+s.path, w.hs, map[string]any{"conversation_id": s.id}, nil)
				if got := pinned(a, w.hs); !slices.Equal(got, s.want) {
					t.Fatalf("after %s %v: got %v, want %v", s.path, s.id, got, s.want)
				}
			}
		})
		t.Run("bad conversation_id", func(t *testing.T) {
			bad := map[string]any{"missing": map[string]any{}, "zero": map[string]any{"conversation_id": 0},
				"negative": map[string]any{"conversation_id": -5}, "letters": map[string]any{"conversation_id": "abc"}}
			for _, p := range []string{"/user/conversation/pin", "/user/conversation/unpin"} {
				t.Run(p, func(t *testing.T) {
					rejects(t, a, imgate.CodeInvalidParameter, p, bothMethods, who, "/user/conversation/pin_list", bad)
				})
			}
		})
		t.Run("at most 100", func(t *testing.T) {
			a := reportTo(a, t)
			want := make([]int64, 100)
			for i := range want {
				want[i] = int64(5000 + i)
				a.ok("POST", "/user/conversation/pin", a.as(tok), map[string]any{"conversation_id": want[i]}, nil)
			}
			for _, w := range who {
				unchanged(t, a, "/user/conversation/pin_list", w.hs, func() {
					a.fails(imgate.CodeInvalidParameter, "POST", "/user/conversation/pin", w.hs, map[string]any{"conversation_id": 9999})
				})
			}
			a.ok("PUT", "/user/conversation/pin", a.as(a.admin, uid), map[string]any{"conversation_id": want[0]}, nil)
			want = append(want[1:], want[0])
			if got := pinned(a, a.as(tok)); !slices.Equal(got, want) {
				t.Errorf("100 pins, the first pinned again: got %v, want %v", got, want)
			}
		})
	})
}

func TestAuthMode(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		combos(t, a, bothMethods, who, func(t *testing.T, a *api, m string, w acting, n int) {
			for _, v := range []int{3, 0, 1, 2} {
				a.ok(m, withQuery("/user/authmode", "value", fmt.Sprint(v)), w.hs, nil, nil)
				wantFields(t, a, "/user/settings", w.hs, map[string]any{"auth_mode": v})
			}
		})
		t.Run("bad value", func(t *testing.T) {
			bad := map[string]string{"4": "?value=4", "-1": "?value=-1", "letters": "?value=x", "empty": "?value=", "missing": ""}
			rejectsQueries(t, a, imgate.CodeInvalidParameter, "/user/authmode", bad, bothMethods, who, "/user/settings")
		})
	})
}

// TestBoolSetters covers the paths that take ?value=true|false, each
// checked against every settings flag so that no path sets another's.
func TestBoolSetters(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		flags := []struct{ path, key string }{
			{"/user/download", "auto_download"}, {"/user/sounds", "no_sounds"}, {"/user/vibratory", "vibratory"},
			{"/user/push", "no_push"}, {"/user/push/detail", "no_push_detail"},
		}
		want := map[string]any{"user_id": uid}
		for _, f := range flags {
			want[f.key] = false
		}
		reportTo(a, t).ok("POST", "/user/settings", a.as(tok), want, nil)
		for _, f := range flags {
			t.Run(f.path, func(t *testing.T) {
				combos(t, a, bothMethods, who, func(t *testing.T, a *api, m string, w acting, n int) {
					for _, v := range []struct {
						q    string
						want bool
					}{{"true", true}, {"false", false}, {"1", true}, {"0", false}, {"true", true}} {
						a.ok(m, withQuery(f.path, "value", v.q), w.hs, nil, nil)
						want[f.key] = v.want
						wantFields(t, a, "/user/settings", w.hs, want)
					}
				})
				bad := map[string]string{"maybe": "?value=maybe", "2": "?value=2", "empty": "?value=", "missing": ""}
				rejectsQueries(t, a, imgate.CodeInvalidParameter, f.path, bad, bothMethods, who, "/user/settings")
			})
		}
	})
}

func TestPushLimit(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		combos(t, a, bothMethods, who, func(t *testing.T, a *api, m string, w acting, n int) {
			for _, v := range [][2]int{{n + 1, 23 - n}, {0, 23}, {23, 0}} {
				a.ok(m, withQuery("/user/push/limit", "no_push_start_hour", fmt.Sprint(v[0]), "no_push_end_hour", fmt.Sprint(v[1])), w.hs, nil, nil)
				wantFields(t, a, "/user/settings", w.hs, map[string]any{"no_push_start_hour": v[0], "no_push_end_hour": v[1]})
			}
		})
		t.Run("bad hours", func(t *testing.T) {
			rejectsQueries(t, a, imgate.CodeInvalidParameter, "/user/push/limit", map[string]string{
				"start missing": "?no_push_end_hour=5", "end missing": "?no_push_start_hour=5", "both missing": "",
				"start 24": "?no_push_start_hour=24&no_push_end_hour=5", "end 24": "?no_push_start_hour=5&no_push_end_hour=24",
				"start -1": "?no_push_start_hour=-1&no_push_end_hour=5", "end -1": "?no_push_start_hour=5&no_push_end_hour=-1",
				"letters": "?no_push_start_hour=a&no_push_end_hour=5", "start empty": "?no_push_start_hour=&no_push_end_hour=5",
			}, bothMethods, who, "/user/settings")
		})
	})
}

// TestNameSetters covers /user/push/nickname and /user/nickname.
func TestNameSetters(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		for _, c := range []struct{ path, param, get, key string }{
			{"/user/push/nickname", "value", "/user/settings", "push_nick_name"},
			{"/user/nickname", "nick_name", "/user/profile", "nick_name"},
		} {
			t.Run(c.path, func(t *testing.T) {
				combos(t, a, bothMethods, who, func(t *testing.T, a *api, m string, w acting, n int) {
					for _, v := range []string{fmt.Sprintf("Alice & Co %d", n), strings.Repeat("a", 64), strings.Repeat("名", 64)} {
						a.ok(m, withQuery(c.path, c.param, v), w.hs, nil, nil)
						wantFields(t, a, c.get, w.hs, map[string]any{c.key: v})
					}
				})
				bad := map[string]string{"65 characters": "?" + c.param + "=" + strings.Repeat("n", 65), "missing": ""}
				rejectsQueries(t, a, imgate.CodeInvalidParameter, c.path, bad, bothMethods, who, c.get)
			})
		}
	})
}

func TestMobile(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		bob, bobTok := a.user("bob")
		who := actingAs(a, uid, tok)
		var last string
		combos(t, a, bothMethods, who, func(t *testing.T, a *api, m string, w acting, n int) {
			for _, v := range []string{fmt.Sprintf("+8613800000%03d", n), fmt.Sprintf("1390000%04d", n)} {
				a.ok(m, withQuery("/user/mobile", "mobile", v), w.hs, nil, nil)
				wantFields(t, a, "/user/profile", w.hs, map[string]any{"mobile": v})
				last = v
			}
		})
		t.Run("taken in the app", func(t *testing.T) {
			rejects(t, a, imgate.CodeMobileTaken, withQuery("/user/mobile", "mobile", last), bothMethods,
				actingAs(a, bob, bobTok), "/user/profile", noBody)
		})
		t.Run("own mobile again", func(t *testing.T) {
			reportTo(a, t).ok("POST", withQuery("/user/mobile", "mobile", last), a.as(tok), nil, nil)
		})
		t.Run("same mobile in another app", func(t *testing.T) {
			a := reportTo(a, t)
			otherAdmin := a.newApp("otherapp")
			var reg struct {
				UserID int64 `json:"user_id"`
			}
			a.ok("POST", "/user/register/v2", h{"app_id": "otherapp"}, map[string]string{"username": "carol", "password": "pw"}, &reg)
			var tk struct {
				Token string `json:"token"`
			}
			a.ok("POST", "/token/user", h{"app_id": "otherapp"}, map[string]string{"name": "carol", "password": "pw"}, &tk)
			for _, hs := range []h{
				{"app_id": "otherapp", "access-token": tk.Token},
				{"app_id": "otherapp", "access-token": otherAdmin, "user_id": jsonString(reg.UserID)},
			} {
				a.ok("PUT", withQuery("/user/mobile", "mobile", last), hs, nil, nil)
				wantFields(t, a, "/user/profile", hs, map[string]any{"user_id": reg.UserID, "mobile": last})
			}
			wantFields(t, a, "/user/profile", a.as(tok), map[string]any{"mobile": last})
		})
		t.Run("5 to 20 digits", func(t *testing.T) { // README's limit
			for _, v := range []string{"+" + strings.Repeat("8", 20), strings.Repeat("9", 20), "+12345", "12345"} {
				t.Run(v, func(t *testing.T) {
					reportTo(a, t).ok("POST", withQuery("/user/mobile", "mobile", v), a.as(a.admin, bob), nil, nil)
					wantFields(t, reportTo(a, t), "/user/profile", a.as(bobTok), map[string]any{"mobile": v})
				})
			}
		})
		t.Run("not a number", func(t *testing.T) { // last: a wrongly accepted value changes alice's mobile
			bad := map[string]string{}
			for _, v := range []string{"138abc00000", "1+3800000000", "++8613800000", "+", "138 0000 0000", "1234", "+1234",
				strings.Repeat("1", 21), "+" + strings.Repeat("1", 21)} {
				bad[v] = "?" + url.Values{"mobile": {v}}.Encode()
			}
			bad["missing"] = ""
			rejectsQueries(t, a, imgate.CodeInvalidParameter, "/user/mobile", bad, bothMethods, who, "/user/profile")
		})
	})
}

func TestUsername(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		a.user("bob")
		who := actingAs(a, uid, tok)
		name := "alice"
		login := func(a *api, name string) reply {
			return a.do("POST", "/token/user", h{"app_id": a.app}, map[string]string{"name": name, "password": "pw"})
		}
		combos(t, a, bothMethods, who, func(t *testing.T, a *api, m string, w acting, n int) {
			old := name
			name = fmt.Sprintf("Alice_%d", n)
			a.ok(m, withQuery("/user/username", "username", name), w.hs, nil, nil)
			wantFields(t, a, "/user/profile", w.hs, map[string]any{"username": name})
			var tk struct {
				UserID int64 `json:"user_id"`
			}
			if r := login(a, name); r.Code != 200 || json.Unmarshal(r.Data, &tk) != nil || tk.UserID != uid {
				t.Errorf("/token/user as %s: got %s, want a token of user %d", name, r.raw, uid)
			}
			if r := login(a, old); r.Code != imgate.CodeForbidden {
				t.Errorf("/token/user as the old name %s: got %s, want code %d", old, r.raw, imgate.CodeForbidden)
			}
		})
		t.Run("rule violations", func(t *testing.T) {
			bad := map[string]string{"missing": ""}
			for _, v := range []string{"", "has space", "12345", "maxim_x", "MTA1", "中文", "a-b", strings.Repeat("u", 65)} {
				bad[fmt.Sprintf("%.10q", v)] = "?" + url.Values{"username": {v}}.Encode()
			}
			rejectsQueries(t, a, imgate.CodeInvalidParameter, "/user/username", bad, bothMethods, who, "/user/profile")
		})
		t.Run("taken", func(t *testing.T) {
			rejects(t, a, imgate.CodeUserExists, "/user/username?username=bob", bothMethods, who, "/user/profile", noBody)
		})
		t.Run("own name again", func(t *testing.T) {
			reportTo(a, t).ok("POST", withQuery("/user/username", "username", name), a.as(tok), nil, nil)
		})
	})
}

// pushProfile reads the user's push profile from the store: no path
// answers the alias or the badge.
func pushProfile(t *testing.T, a *api, uid int64) imgate.PushProfile {
	t.Helper()
	u, err := a.store.User(context.Background(), a.app, uid)
	if err != nil {
		t.Fatal(err)
	}
	return u.Push
}

// TestPushAliasAndBadge covers the two push paths that only POST takes;
// their effect is checked in the store, as no path answers them.
func TestPushAliasAndBadge(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		for _, c := range []struct {
			path string
			set  func(n int) (body any, want imgate.PushProfile)
			bad  map[string]any
		}{
			{"/user/push/alias", func(n int) (any, imgate.PushProfile) {
				alias := fmt.Sprintf("alias-%d", n)
				return map[string]string{"alias": alias, "push_token": "pt"}, imgate.PushProfile{Alias: alias}
			}, map[string]any{"missing": map[string]string{"push_token": "pt"}, "empty": map[string]string{"alias": ""},
				"65 characters": map[string]string{"alias": strings.Repeat("a", 65)}}},
			{"/user/push/badge", func(n int) (any, imgate.PushProfile) {
				return map[string]int{"badge": n + 7}, imgate.PushProfile{Alias: "alias-1", Badge: n + 7}
			}, map[string]any{"negative": map[string]int{"badge": -1}, "missing": map[string]int{},
				"null": map[string]any{"badge": nil}, "not a number": map[string]string{"badge": "x"}}},
		} {
			t.Run(c.path, func(t *testing.T) {
				var want imgate.PushProfile
				combos(t, a, []string{"POST"}, who, func(t *testing.T, a *api, m string, w acting, n int) {
					var body any
					body, want = c.set(n)
					a.ok(m, c.path, w.hs, body, nil)
					if got := pushProfile(t, a, uid); !reflect.DeepEqual(got, want) {
						t.Errorf("push profile: got %+v, want %+v", got, want)
					}
				})
				for name, body := range c.bad {
					t.Run(name, func(t *testing.T) {
						for _, w := range who {
							reportTo(a, t).fails(imgate.CodeInvalidParameter, "POST", c.path, w.hs, body)
							if got := pushProfile(t, a, uid); !reflect.DeepEqual(got, want) {
								t.Errorf("%s: push profile after a rejected request: got %+v, want %+v", w.name, got, want)
							}
						}
					})
				}
				if r := a.do("PUT", c.path, a.as(tok), c.bad["missing"]); r.status != 405 {
					t.Errorf("PUT %s: got HTTP %d, want 405: only POST is registered", c.path, r.status)
				}
			})
		}
	})
}

func TestPushTags(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		uid, tok := a.user("alice")
		who := actingAs(a, uid, tok)
		tags := func(a *api, hs h) []string {
			a.t.Helper()
			r := a.ok("GET", "/user/push/tag", hs, nil, nil)
			var out []string
			if err := json.Unmarshal(r.Data, &out); err != nil || out == nil {
				a.t.Fatalf("GET /user/push/tag: data %s is not a list", r.Data)
			}
			slices.Sort(out)
			return out
		}
		many := func(prefix string, n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = fmt.Sprintf("%s%03d", prefix, i)
			}
			return out
		}
		t.Run("empty", func(t *testing.T) {
			for _, w := range who {
				if r := reportTo(a, t).ok("GET", "/user/push/tag", w.hs, nil, nil); string(r.Data) != "[]" {
					t.Errorf("%s: no tags: got %s, want []", w.name, r.Data)
				}
			}
		})
		for _, w := range who {
			t.Run(w.name, func(t *testing.T) {
				a := reportTo(a, t)
				steps := []struct {
					method, path string
					tags         []string
					want         []string
				}{
					{"POST", "/user/push/tag", []string{"b", "a", "b"}, []string{"a", "b"}},
					{"POST", "/user/push/tag", []string{"b", "c"}, []string{"a", "b", "c"}},
					{"DELETE", "/user/push/tag", []string{"a", "nope"}, []string{"b", "c"}},
					{"DELETE", "/user/push/tag/all", nil, []string{}},
					{"POST", "/user/push/tag", many("t", 50), many("t", 50)},
					{"POST", "/user/push/tag", many("u", 50), append(many("t", 50), many("u", 50)...)},
					{"DELETE", "/user/push/tag", many("t", 50), many("u", 50)},
					{"DELETE", "/user/push/tag/all", nil, []string{}},
					{"DELETE", "/user/push/tag/all", nil, []string{}},
				}
				for _, s := range steps {
					var body any
					if s.tags != nil {
						body = map[string][]string{"tags": s.tags}
					}
					a.ok(s.method, s.path, w.hs, body, nil)
					if got := tags(a, w.hs); !slices.Equal(got, s.want) {
						t.Fatalf("after %s %s %v: got %v, want %v", s.method, s.path, s.tags, got, s.want)
					}
				}
			})
		}
		t.Run("bad lists", func(t *testing.T) {
			a := reportTo(a, t)
			a.ok("POST", "/user/push/tag", a.as(tok), map[string][]string{"tags": {"keep"}}, nil)
			bad := map[string]any{
				"over MaxListLen": map[string][]string{"tags": many("x", 51)}, "missing": map[string]any{},
				"empty list": map[string][]string{"tags": {}}, "empty tag": map[string][]string{"tags": {"ok", ""}},
				"65 characters": map[string][]string{"tags": {strings.Repeat("t", 65)}},
			}
			for _, m := range []string{"POST", "DELETE"} {
				for name, body := range bad {
					for _, w := range who {
						a.fails(imgate.CodeInvalidParameter, m, "/user/push/tag", w.hs, body)
						if got := tags(a, w.hs); !slices.Equal(got, []string{"keep"}) {
							t.Errorf("%s %s by %s: tags after a rejected request: got %v, want [keep]", m, name, w.name, got)
						}
					}
				}
			}
		})
		t.Run("at most 100 tags", func(t *testing.T) {
			a := reportTo(a, t)
			a.ok("DELETE", "/user/push/tag/all", a.as(tok), nil, nil)
			a.ok("POST", "/user/push/tag", a.as(tok), map[string][]string{"tags": many("p", 50)}, nil)
			a.ok("POST", "/user/push/tag", a.as(a.admin, uid), map[string][]string{"tags": many("q", 50)}, nil)
			for _, w := range who {
				a.fails(imgate.CodeInvalidParameter, "POST", "/user/push/tag", w.hs, map[string][]string{"tags": {"one more"}})
				if got := len(tags(a, w.hs)); got != 100 {
					t.Errorf("%s: tags after a rejected 101st: got %d, want 100", w.name, got)
				}
			}
		})
	})
}
