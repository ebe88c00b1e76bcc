package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/imgate/imgate"
)

// gcRegister registers n users named prefix_<i> in batches of 50 (the
// harness's MaxListLen) and returns their ids.
func gcRegister(t *testing.T, a *api, prefix string, n int) []int64 {
	t.Helper()
	a = reportTo(a, t)
	var out []int64
	for start := 0; start < n; start += 50 {
		var list []map[string]string
		for i := start; i < min(start+50, n); i++ {
			list = append(list, map[string]string{"username": fmt.Sprintf("%s_%d", prefix, i), "password": "pw"})
		}
		var res []struct {
			UserID  int64 `json:"user_id"`
			Success bool  `json:"success"`
		}
		a.ok("POST", "/user/register/batch", a.as(a.admin), map[string]any{"list": list}, &res)
		for _, r := range res {
			if !r.Success {
				t.Fatalf("register batch: %+v", res)
			}
			out = append(out, r.UserID)
		}
	}
	return out
}

// gcStoreUsers stores n users named prefix_<i> straight in the store, as
// hashing thousands of passwords under the race detector takes minutes;
// they have no password and cannot log in.
func gcStoreUsers(t *testing.T, a *api, prefix string, n int) []int64 {
	t.Helper()
	out := make([]int64, n)
	var g errgroup.Group
	g.SetLimit(4)
	now := time.UnixMilli(time.Now().UnixMilli())
	for i := range out {
		g.Go(func() error {
			u, err := a.store.CreateUser(context.Background(), imgate.User{AppID: a.app, Username: fmt.Sprintf("%s_%d", prefix, i),
				PasswordHash: "-", CreatedAt: now, UpdatedAt: now})
			out[i] = u.ID
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return out
}

// gcPage is one page of a list answer.
type gcPage struct {
	items   []json.RawMessage
	cursor  string
	total   *int
	version *int64
}

func gcGetPage(t *testing.T, a *api, method, path string, hs h, body any) gcPage {
	t.Helper()
	r := reportTo(a, t).ok(method, path, hs, body, nil)
	var p gcPage
	var extra struct {
		Total *int `json:"total"`
	}
	if err := json.Unmarshal(r.Data, &p.items); err != nil || p.items == nil {
		t.Fatalf("%s: data is not a list: %s", path, r.Data)
	}
	json.Unmarshal([]byte(r.raw), &extra)
	p.cursor, p.total, p.version = r.Cursor, extra.Total, r.Version
	return p
}

// gcPages pages through a list with the limit and returns each page's
// items' field key, and the pages' sizes.
func gcPages(t *testing.T, a *api, method, path string, hs h, body any, limit int, key string) ([]int64, []int) {
	t.Helper()
	var all []int64
	var sizes []int
	cursor := ""
	for range 100 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		p := gcGetPage(t, a, method, fmt.Sprintf("%s%slimit=%d&cursor=%s", path, sep, limit, cursor), hs, body)
		sizes = append(sizes, len(p.items))
		for _, it := range p.items {
			var m map[string]json.RawMessage
			json.Unmarshal(it, &m)
			var v int64
			if err := json.Unmarshal(m[key], &v); err != nil {
				t.Fatalf("%s: item %s lacks %s", path, it, key)
			}
			all = append(all, v)
		}
		if cursor = p.cursor; cursor == "" {
			return all, sizes
		}
	}
	t.Fatalf("%s: more than 100 pages", path)
	return nil, nil
}

func TestGroupMemberPaging(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		owner, otok := a.user("page_owner")
		users := gcStoreUsers(t, a, "page", 2499)
		var info struct {
			GroupID int64 `json:"group_id"`
		}
		a.ok("POST", "/group/create", a.as(otok), map[string]any{"name": "big"}, &info)
		gid := info.GroupID
		for start := 0; start < len(users); start += 50 {
			batch := users[start:min(start+50, len(users))]
			want := map[int64]string{}
			for _, u := range batch {
				want[u] = "success"
			}
			gcResults(t, a, "POST", "/group/invite", a.as(a.admin, owner), map[string]any{"group_id": gid, "user_list": batch}, want)
		}
		path := fmt.Sprintf("/group/member_list?group_id=%d", gid)
		var sizes []int
		seen := map[int64]bool{}
		cursor := ""
		var version int64
		for {
			p := gcGetPage(t, a, "GET", path+"&limit=1000&cursor="+cursor, a.as(otok), nil)
			sizes = append(sizes, len(p.items))
			if p.total == nil || *p.total != 2500 || p.version == nil || (version != 0 && *p.version != version) {
				t.Errorf("page %d: total %v, version %v (first %d)", len(sizes), p.total, p.version, version)
			}
			version = *p.version
			for _, it := range p.items {
				var m struct {
					UserID int64 `json:"user_id"`
				}
				json.Unmarshal(it, &m)
				if seen[m.UserID] {
					t.Errorf("user %d listed twice", m.UserID)
				}
				seen[m.UserID] = true
			}
			if cursor = p.cursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(sizes, []int{1000, 1000, 500}) {
			t.Errorf("page sizes: got %v, want [1000 1000 500]", sizes)
		}
		for _, u := range append(users, owner) {
			if !seen[u] {
				t.Errorf("user %d missing", u)
			}
		}
		if p := gcGetPage(t, a, "GET", path, a.as(otok), nil); len(p.items) != 1000 || p.cursor == "" {
			t.Errorf("default limit: got %d items, cursor %q; want 1000 and a cursor", len(p.items), p.cursor)
		}
		for _, q := range []string{"&limit=0", "&limit=5001", "&limit=x", "&cursor=%21%21", "&cursor=MQ.MQ"} {
			a.fails(imgate.CodeInvalidParameter, "GET", path+q, a.as(otok), nil)
		}
	})
}

func TestGroupLists(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gcNew(t, a, "lists")
		for _, path := range []string{"/group/user_joined", "/group/public_list"} {
			if r := a.ok("GET", path, a.as(g.outsider.tok), nil, nil); string(r.Data) != "[]" {
				t.Errorf("%s: got %s, want []", path, r.Data)
			}
		}
		var joined []int64
		a.ok("GET", "/group/user_joined", a.as(a.admin, g.member.id), nil, &joined)
		if !slices.Equal(joined, []int64{g.id}) {
			t.Errorf("user_joined: got %v, want [%d]", joined, g.id)
		}

		// Two more groups of the owner's, public; two applicants to each group.
		gids := []int64{g.id}
		for i := range 2 {
			var info struct {
				GroupID int64 `json:"group_id"`
			}
			a.ok("POST", "/group/create", a.as(g.owner.tok), map[string]any{"name": fmt.Sprint("more", i), "type": 1}, &info)
			gids = append(gids, info.GroupID)
		}
		a.ok("GET", "/group/user_joined", a.as(g.owner.tok), nil, &joined)
		if !slices.Equal(joined, gcSorted(gids...)) {
			t.Errorf("owner's user_joined: got %v, want %v", joined, gids)
		}
		var public []int64
		a.ok("GET", "/group/public_list", a.as(a.admin), nil, &public)
		if !slices.Equal(public, gcSorted(gids[1:]...)) {
			t.Errorf("public_list: got %v, want %v", public, gids[1:])
		}
		applicants := gcRegister(t, a, "lists_app", 2)
		for _, gid := range gids {
			for _, u := range applicants {
				a.ok("POST", "/group/apply", a.as(a.admin, u), map[string]any{"group_id": gid}, nil)
			}
		}
		list := map[string]any{"group_list": gids}
		got, sizes := gcPages(t, a, "POST", "/group/application_list", a.as(g.owner.tok), list, 4, "applicant_id")
		if !slices.Equal(sizes, []int{4, 2}) || len(got) != 6 {
			t.Errorf("application_list pages: got %v, %v", sizes, got)
		}
		groups, _ := gcPages(t, a, "POST", "/group/application_list", a.as(g.owner.tok), list, 100, "group_id")
		if !slices.IsSorted(groups) || len(groups) != 6 {
			t.Errorf("application_list groups: got %v", groups)
		}
		a.fails(imgate.CodeNeedAdmin, "POST", "/group/application_list", a.as(g.admin.tok), list)
		a.fails(imgate.CodeGroupNotFound, "POST", "/group/application_list", a.as(g.owner.tok),
			map[string]any{"group_list": []int64{g.id, gcNobody}})
		a.fails(imgate.CodeInvalidParameter, "POST", "/group/application_list", a.as(g.owner.tok), map[string]any{"group_list": []int64{}})

		gcConfirm(a, g.outsider)
		for _, gid := range gids {
			a.ok("POST", "/group/invite", a.as(g.owner.tok), map[string]any{"group_id": gid, "user_list": []int64{g.outsider.id}}, nil)
		}
		got, sizes = gcPages(t, a, "GET", "/group/invitation_list", a.as(g.outsider.tok), nil, 2, "group_id")
		if !slices.Equal(sizes, []int{2, 1}) || !slices.Equal(got, gcSorted(gids...)) {
			t.Errorf("invitation_list: got %v in pages %v, want %v", got, sizes, gids)
		}
		if p := gcGetPage(t, a, "GET", "/group/invitation_list", a.as(g.member.tok), nil); len(p.items) != 0 || p.cursor != "" {
			t.Errorf("invitation_list of a user with none: %+v", p)
		}

		blocked := gcRegister(t, a, "lists_bl", 3)
		a.ok("POST", "/group/block", a.as(g.owner.tok), g.body(blocked...), nil)
		got, sizes = gcPages(t, a, "GET", g.q("/group/blocked_list"), a.as(g.admin.tok), nil, 2, "user_id")
		if !slices.Equal(sizes, []int{2, 1}) || !slices.Equal(got, gcSorted(blocked...)) {
			t.Errorf("blocked_list: got %v in pages %v, want %v", got, sizes, blocked)
		}

		body := g.body(g.member.id, g.member2.id, g.admin.id)
		body["duration"] = 60
		a.ok("POST", "/group/ban", a.as(g.owner.tok), body, nil)
		got, sizes = gcPages(t, a, "GET", g.q("/group/banned_list"), a.as(g.member.tok), nil, 2, "user_id")
		if !slices.Equal(sizes, []int{2, 1}) || !slices.Equal(gcSorted(got...), gcSorted(g.member.id, g.member2.id, g.admin.id)) {
			t.Errorf("banned_list: got %v in pages %v", got, sizes)
		}
	})
}
