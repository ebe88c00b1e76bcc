package admin_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

// gxAnnouncement is 获取群公告返回内容 as answered.
type gxAnnouncement struct {
	ID        int64  `json:"id"`
	GroupID   int64  `json:"group_id"`
	Title     string `json:"title"`
	Content   string `json:"content"`
	Author    int64  `json:"author"`
	CreatedAt int64  `json:"created_at"`
}

func gxQuery(path string, kv ...any) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i].(string), fmt.Sprint(kv[i+1]))
	}
	return path + "?" + q.Encode()
}

var gxAnnouncementKeys = []string{"author", "content", "created_at", "group_id", "id", "title"}

func TestGroupExtraAnnouncement(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gxNewGroup(t, a, "ann")
		other := gxNewGroup(t, a, "ann2")
		list := func(t *testing.T, hs h) []gxAnnouncement {
			t.Helper()
			a := reportTo(a, t)
			var out []gxAnnouncement
			r := a.ok("GET", gxQuery("/group/announcement/list", "group_id", g.id), hs, nil, &out)
			if out == nil {
				t.Errorf("list answered %s, want an array", r.Data)
			}
			return out
		}
		t.Run("none yet", func(t *testing.T) {
			a, g := g.in(t)
			if got := list(t, a.as(g.member.tok)); len(got) != 0 {
				t.Errorf("list %v, want []", got)
			}
			a.fails(imgate.CodeAnnouncementNotFound, "GET", gxQuery("/group/announcement/last", "group_id", g.id), a.as(g.member.tok), nil)
		})
		var posted []gxAnnouncement // by the loop over admins, oldest first
		var others gxAnnouncement   // the other group's
		t.Run("edit", func(t *testing.T) {
			a, g := g.in(t)
			for i, c := range g.admins() {
				before := time.Now().UnixMilli()
				mark := g.mark(t)
				body := map[string]any{"group_id": g.id, "title": fmt.Sprintf("title %d", i), "content": fmt.Sprintf("content %d", i)}
				if i == 1 {
					body["group_id"] = jsonString(g.id)
				}
				var got gxAnnouncement
				r := a.ok("POST", "/group/announcement/edit", c.hs, body, &got)
				if k := keys(t, r.Data); !slices.Equal(k, gxAnnouncementKeys) {
					t.Errorf("announcement keys %v, want %v", k, gxAnnouncementKeys)
				}
				if got.ID <= 0 || got.GroupID != g.id || got.Title != body["title"] || got.Content != body["content"] ||
					got.Author != c.from || got.CreatedAt < before || got.CreatedAt > time.Now().UnixMilli() {
					t.Errorf("as %s: got %+v", c.name, got)
				}
				ns := g.wantNotices(t, mark, imgate.GroupAnnouncementUpdate, c.from, g.memberIDs()...)
				wantContent(t, ns, map[string]any{"announcement_id": got.ID})
				posted = append(posted, got)
			}
			big := strings.Repeat("公", (16<<10)/3)
			a.ok("POST", "/group/announcement/edit", a.as(g.owner.tok),
				map[string]any{"group_id": g.id, "title": strings.Repeat("t", 1024), "content": big}, nil)
			a.ok("POST", "/group/announcement/edit", a.as(g.owner.tok), map[string]any{"group_id": g.id, "title": "", "content": "c"}, nil)
			a.ok("POST", "/group/announcement/edit", a.as(other.owner.tok), map[string]any{"group_id": other.id, "title": "o", "content": "o"}, &others)
		})
		probe := func() gxAnnouncement { return posted[len(posted)-1] }
		t.Run("refused", func(t *testing.T) {
			a, g := g.in(t)
			mark := g.mark(t)
			ok := map[string]any{"group_id": g.id, "title": "t", "content": "c"}
			for _, c := range g.members() {
				a.fails(imgate.CodeNeedAdmin, "POST", "/group/announcement/edit", c.hs, ok)
			}
			for _, c := range g.outsiders() {
				a.fails(imgate.CodeNeedAdmin, "POST", "/group/announcement/edit", c.hs, ok)
			}
			for name, body := range map[string]any{
				"no content":    map[string]any{"group_id": g.id, "title": "t"},
				"empty content": map[string]any{"group_id": g.id, "title": "t", "content": ""},
				"no title":      map[string]any{"group_id": g.id, "content": "c"},
				"long title":    map[string]any{"group_id": g.id, "title": strings.Repeat("t", 1025), "content": "c"},
				"long content":  map[string]any{"group_id": g.id, "title": "t", "content": strings.Repeat("c", 16<<10+1)},
				"number title":  map[string]any{"group_id": g.id, "title": 1, "content": "c"},
			} {
				t.Run(name, func(t *testing.T) {
					a, g := g.in(t)
					a.fails(imgate.CodeInvalidParameter, "POST", "/group/announcement/edit", a.as(g.owner.tok), body)
				})
			}
			g.wantNone(t, mark)
			gxCommonFailures(t, g, []string{"POST"}, "/group/announcement/edit", map[string]any{"title": "t", "content": "c"})
		})
		t.Run("read", func(t *testing.T) {
			a, g := g.in(t)
			readers := append(append(g.members(), g.admins()...), gxCaller{"member2", a.as(g.member2.tok), 0})
			for _, c := range readers {
				got := list(t, c.hs)
				if len(got) != len(posted)+2 {
					t.Fatalf("as %s: %d announcements, want %d", c.name, len(got), len(posted)+2)
				}
				// Newest first: the two posted after the loop, then the loop's in reverse.
				for i, p := range posted {
					if j := len(posted) + 1 - i; got[j] != p {
						t.Errorf("as %s: list[%d] = %+v, want %+v", c.name, j, got[j], p)
					}
				}
				var one gxAnnouncement
				r := a.ok("GET", gxQuery("/group/announcement", "group_id", g.id, "announcement_id", probe().ID), c.hs, nil, &one)
				if k := keys(t, r.Data); !slices.Equal(k, gxAnnouncementKeys) || one != probe() {
					t.Errorf("as %s: got %s, want %+v", c.name, r.Data, probe())
				}
				var newest gxAnnouncement
				a.ok("GET", gxQuery("/group/announcement/last", "group_id", g.id), c.hs, nil, &newest)
				if newest != got[0] || newest.Content != "c" {
					t.Errorf("as %s: last %+v, want %+v", c.name, newest, got[0])
				}
			}
			tok := a.as(g.member.tok)
			for _, aid := range []any{others.ID, 9_999_999_999, 0, -1} {
				a.fails(imgate.CodeAnnouncementNotFound, "GET", gxQuery("/group/announcement", "group_id", g.id, "announcement_id", aid), tok, nil)
			}
			a.fails(imgate.CodeInvalidParameter, "GET", gxQuery("/group/announcement", "group_id", g.id, "announcement_id", "x"), tok, nil)
			a.fails(imgate.CodeInvalidParameter, "GET", gxQuery("/group/announcement", "group_id", g.id), tok, nil)
			for _, path := range []string{"/group/announcement", "/group/announcement/last", "/group/announcement/list"} {
				q := gxQuery(path, "group_id", g.id, "announcement_id", probe().ID)
				for _, c := range g.outsiders() {
					a.fails(imgate.CodeNeedMember, "GET", q, c.hs, nil)
				}
				a.fails(imgate.CodeNeedAdmin, "GET", q, g.asGroupAdmin(other.id), nil)
				a.fails(imgate.CodeGroupNotFound, "GET", gxQuery(path, "group_id", g.id+1_000_000, "announcement_id", 1), tok, nil)
				a.fails(imgate.CodeInvalidParameter, "GET", gxQuery(path, "group_id", "x", "announcement_id", 1), tok, nil)
				a.fails(imgate.CodeInvalidParameter, "GET", gxQuery(path, "announcement_id", 1), tok, nil)
				// The group_id header of an admin token names the group.
				a.ok("GET", gxQuery(path, "announcement_id", probe().ID), g.asGroupAdmin(g.id), nil, nil)
			}
		})
		t.Run("delete", func(t *testing.T) {
			a, g := g.in(t)
			del := func(id int64) string {
				return gxQuery("/group/announcement/delete", "group_id", g.id, "announcement_id", id)
			}
			mark := g.mark(t)
			for _, c := range g.members() {
				a.fails(imgate.CodeNeedAdmin, "POST", del(posted[0].ID), c.hs, nil)
			}
			for _, c := range g.outsiders() {
				a.fails(imgate.CodeNeedAdmin, "DELETE", del(posted[0].ID), c.hs, nil)
			}
			a.fails(imgate.CodeAnnouncementNotFound, "POST", del(others.ID), a.as(g.owner.tok), nil)
			a.fails(imgate.CodeAnnouncementNotFound, "DELETE", del(9_999_999_999), a.as(g.owner.tok), nil)
			a.fails(imgate.CodeGroupNotFound, "POST", gxQuery("/group/announcement/delete", "group_id", g.id+1_000_000, "announcement_id", 1),
				a.as(g.owner.tok), nil)
			a.fails(imgate.CodeInvalidParameter, "POST", gxQuery("/group/announcement/delete", "group_id", g.id), a.as(g.owner.tok), nil)
			a.fails(imgate.CodeNeedAdmin, "POST", del(posted[0].ID), g.asGroupAdmin(other.id), nil)
			g.wantNone(t, mark)
			for i, c := range g.admins() {
				m := []string{"POST", "DELETE"}[i%2]
				mark := g.mark(t)
				r := a.ok(m, del(posted[i].ID), c.hs, nil, nil)
				if string(r.Data) != "null" {
					t.Errorf("delete answered %s, want null", r.Data)
				}
				ns := g.wantNotices(t, mark, imgate.GroupAnnouncementUpdate, c.from, g.memberIDs()...)
				wantContent(t, ns, map[string]any{"announcement_id": posted[i].ID, "deleted": true})
				a.fails(imgate.CodeAnnouncementNotFound, "GET", gxQuery("/group/announcement", "group_id", g.id, "announcement_id", posted[i].ID),
					a.as(g.member.tok), nil)
				a.fails(imgate.CodeAnnouncementNotFound, m, del(posted[i].ID), c.hs, nil)
			}
			if got := list(t, a.as(g.member.tok)); len(got) != 2 || got[0].Content != "c" {
				t.Errorf("announcements left: %+v, want the two posted after the loop", got)
			}
			var oth []gxAnnouncement
			a.ok("GET", gxQuery("/group/announcement/list", "group_id", other.id), a.as(other.member.tok), nil, &oth)
			if len(oth) != 1 {
				t.Errorf("the other group has %d announcements, want 1", len(oth))
			}
		})
	})
}

// gxFile is GroupSharedFileDto as answered.
type gxFile struct {
	FileID    int64  `json:"file_id"`
	GroupID   int64  `json:"group_id"`
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	Type      string `json:"type"`
	URL       string `json:"url"`
	Uploader  int64  `json:"uploader"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
}

var gxFileKeys = []string{"created_at", "file_id", "group_id", "name", "size", "type", "updated_at", "uploader", "url"}

func TestGroupExtraSharedFile(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		g := gxNewGroup(t, a, "file")
		other := gxNewGroup(t, a, "file2")
		files := func(t *testing.T, hs h) []gxFile {
			t.Helper()
			a := reportTo(a, t)
			var out []gxFile
			r := a.ok("GET", gxQuery("/group/file/list", "group_id", g.id), hs, nil, &out)
			if out == nil {
				t.Errorf("list answered %s, want an array", r.Data)
			}
			return out
		}
		upload := func(t *testing.T, c gxCaller, name string) gxFile {
			t.Helper()
			a := reportTo(a, t)
			before := time.Now().UnixMilli()
			mark := g.mark(t)
			body := map[string]any{"group_id": g.id, "name": name, "size": 1234, "type": "pdf", "url": "https://files.example/" + name}
			var f gxFile
			r := a.ok("POST", "/group/file/upload", c.hs, body, &f)
			if k := keys(t, r.Data); !slices.Equal(k, gxFileKeys) {
				t.Errorf("file keys %v, want %v", k, gxFileKeys)
			}
			if f.FileID <= 0 || f.GroupID != g.id || f.Name != name || f.Size != 1234 || f.Type != "pdf" || f.URL != body["url"] ||
				f.Uploader != c.from || f.CreatedAt < before || f.UpdatedAt != f.CreatedAt {
				t.Errorf("as %s: uploaded %+v", c.name, f)
			}
			ns := g.wantNotices(t, mark, imgate.GroupFileUploaded, c.from, g.memberIDs()...)
			wantContent(t, ns, map[string]any{"file_id": f.FileID, "name": name})
			return f
		}
		t.Run("none yet", func(t *testing.T) {
			a, g := g.in(t)
			if got := files(t, a.as(g.member.tok)); len(got) != 0 {
				t.Errorf("files %v, want []", got)
			}
		})
		var up []gxFile // oldest first
		t.Run("upload", func(t *testing.T) {
			a, g := g.in(t)
			for i, c := range append(g.members(), g.admins()...) {
				up = append(up, upload(t, c, fmt.Sprintf("file%d.pdf", i)))
			}
			m2 := gxCaller{"member2", a.as(g.member2.tok), g.member2.id}
			up = append(up, upload(t, m2, strings.Repeat("名", 64)))
			mark := g.mark(t)
			ok := map[string]any{"group_id": g.id, "name": "n", "size": 1, "url": "u"}
			a.ok("POST", "/group/file/upload", a.as(other.member.tok), map[string]any{"group_id": other.id, "name": "o", "size": 0, "url": "u"}, nil)
			for _, c := range g.outsiders() {
				a.fails(imgate.CodeNeedMember, "POST", "/group/file/upload", c.hs, ok)
			}
			with := func(k string, v any) map[string]any {
				out := map[string]any{"group_id": g.id, "name": "n", "size": 1, "type": "t", "url": "u"}
				if v == nil {
					delete(out, k)
				} else {
					out[k] = v
				}
				return out
			}
			for name, body := range map[string]any{
				"no name": with("name", nil), "empty name": with("name", ""), "long name": with("name", strings.Repeat("n", 65)),
				"no size": with("size", nil), "negative size": with("size", -1), "string size": with("size", "1"),
				"no url": with("url", nil), "long url": with("url", strings.Repeat("u", 1025)), "long type": with("type", strings.Repeat("t", 65)),
			} {
				t.Run(name, func(t *testing.T) {
					a, g := g.in(t)
					a.fails(imgate.CodeInvalidParameter, "POST", "/group/file/upload", a.as(g.member.tok), body)
				})
			}
			g.wantNone(t, mark)
			gxCommonFailures(t, g, []string{"POST"}, "/group/file/upload", map[string]any{"name": "n", "size": 1, "url": "u"})
		})
		t.Run("read", func(t *testing.T) {
			a, g := g.in(t)
			for _, c := range append(append(g.members(), g.admins()...), gxCaller{"member2", a.as(g.member2.tok), 0}) {
				got := files(t, c.hs)
				if len(got) != len(up) {
					t.Fatalf("as %s: %d files, want %d", c.name, len(got), len(up))
				}
				for i, f := range up {
					if got[len(up)-1-i] != f {
						t.Errorf("as %s: list[%d] = %+v, want %+v (newest first)", c.name, len(up)-1-i, got[len(up)-1-i], f)
					}
				}
				var one gxFile
				r := a.ok("GET", gxQuery("/group/file", "group_id", g.id, "file_id", up[1].FileID), c.hs, nil, &one)
				if k := keys(t, r.Data); !slices.Equal(k, gxFileKeys) || one != up[1] {
					t.Errorf("as %s: got %s, want %+v", c.name, r.Data, up[1])
				}
			}
			tok := a.as(g.member.tok)
			var oth []gxFile
			a.ok("GET", gxQuery("/group/file/list", "group_id", other.id), a.as(other.owner.tok), nil, &oth)
			if len(oth) != 1 {
				t.Fatalf("other group has %d files, want 1", len(oth))
			}
			for _, fid := range []any{oth[0].FileID, 9_999_999_999, 0} {
				a.fails(imgate.CodeFileNotFound, "GET", gxQuery("/group/file", "group_id", g.id, "file_id", fid), tok, nil)
			}
			a.fails(imgate.CodeInvalidParameter, "GET", gxQuery("/group/file", "group_id", g.id), tok, nil)
			for _, path := range []string{"/group/file", "/group/file/list"} {
				q := gxQuery(path, "group_id", g.id, "file_id", up[0].FileID)
				for _, c := range g.outsiders() {
					a.fails(imgate.CodeNeedMember, "GET", q, c.hs, nil)
				}
				a.fails(imgate.CodeNeedAdmin, "GET", q, g.asGroupAdmin(other.id), nil)
				a.fails(imgate.CodeGroupNotFound, "GET", gxQuery(path, "group_id", g.id+1_000_000, "file_id", 1), tok, nil)
				a.fails(imgate.CodeInvalidParameter, "GET", gxQuery(path, "file_id", 1), tok, nil)
			}
		})
		rename := func(t *testing.T, m string, c gxCaller, f *gxFile, name string) {
			t.Helper()
			a := reportTo(a, t)
			mark := g.mark(t)
			r := a.ok(m, "/group/file/update_name", c.hs, map[string]any{"group_id": g.id, "file_id": jsonString(f.FileID), "name": name}, nil)
			if string(r.Data) != "true" {
				t.Errorf("update_name answered %s, want true", r.Data)
			}
			ns := g.wantNotices(t, mark, imgate.GroupFileUpdated, c.from, g.memberIDs()...)
			wantContent(t, ns, map[string]any{"file_id": f.FileID, "name": name})
			var got gxFile
			a.ok("GET", gxQuery("/group/file", "group_id", g.id, "file_id", f.FileID), a.as(g.member.tok), nil, &got)
			if got.Name != name || got.UpdatedAt < f.UpdatedAt || got.CreatedAt != f.CreatedAt || got.URL != f.URL {
				t.Errorf("after rename by %s: %+v", c.name, got)
			}
			*f = got
		}
		t.Run("update_name", func(t *testing.T) {
			a, g := g.in(t)
			// up[0] and up[1] are the member's.
			for i, c := range g.members() {
				rename(t, gxMethods[i%2], c, &up[i], fmt.Sprintf("renamed by %s", c.name))
			}
			for i, c := range g.admins() {
				rename(t, gxMethods[i%2], c, &up[0], fmt.Sprintf("renamed by %s", c.name))
			}
			mark := g.mark(t)
			body := func(fid int64, name any) map[string]any {
				return map[string]any{"group_id": g.id, "file_id": fid, "name": name}
			}
			a.fails(imgate.CodeFileForbidden, "POST", "/group/file/update_name", a.as(g.member2.tok), body(up[0].FileID, "x"))
			a.fails(imgate.CodeFileForbidden, "PUT", "/group/file/update_name", a.as(g.member.tok), body(up[len(up)-1].FileID, "x"))
			for _, c := range g.outsiders() {
				a.fails(imgate.CodeNeedMember, "POST", "/group/file/update_name", c.hs, body(up[0].FileID, "x"))
			}
			a.fails(imgate.CodeFileNotFound, "POST", "/group/file/update_name", a.as(g.owner.tok), body(9_999_999_999, "x"))
			var oth []gxFile
			a.ok("GET", gxQuery("/group/file/list", "group_id", other.id), a.as(other.owner.tok), nil, &oth)
			a.fails(imgate.CodeFileNotFound, "POST", "/group/file/update_name", a.as(g.owner.tok), body(oth[0].FileID, "x"))
			for _, bad := range []any{"", strings.Repeat("n", 65), 5, nil} {
				a.fails(imgate.CodeInvalidParameter, "POST", "/group/file/update_name", a.as(g.owner.tok), body(up[0].FileID, bad))
			}
			g.wantNone(t, mark)
			gxCommonFailures(t, g, gxMethods, "/group/file/update_name", map[string]any{"file_id": up[0].FileID, "name": "n"})
		})
		t.Run("delete", func(t *testing.T) {
			a, g := g.in(t)
			type result struct {
				FileID int64  `json:"file_id"`
				Result string `json:"result"`
				Reason string `json:"reason"`
			}
			mine := up[len(up)-1] // member2's
			mark := g.mark(t)
			var got []result
			r := a.ok("POST", "/group/file/delete", a.as(g.member2.tok),
				map[string]any{"group_id": g.id, "file_list": []any{up[0].FileID, 9_999_999_999, jsonString(mine.FileID)}}, &got)
			var raw []json.RawMessage
			_ = json.Unmarshal(r.Data, &raw)
			if len(got) != 3 || len(raw) != 3 {
				t.Fatalf("delete answered %s, want three results", r.Data)
			}
			if k := keys(t, raw[0]); !slices.Equal(k, []string{"file_id", "reason", "result"}) {
				t.Errorf("failed result keys %v", k)
			}
			if k := keys(t, raw[2]); !slices.Equal(k, []string{"file_id", "result"}) {
				t.Errorf("success result keys %v", k)
			}
			forbidden := a.fails(imgate.CodeFileForbidden, "POST", "/group/file/update_name", a.as(g.member2.tok),
				map[string]any{"group_id": g.id, "file_id": up[0].FileID, "name": "x"})
			missing := a.fails(imgate.CodeFileNotFound, "GET", gxQuery("/group/file", "group_id", g.id, "file_id", 9_999_999_999), a.as(g.member.tok), nil)
			want := []result{{up[0].FileID, "fail", *forbidden.Message}, {9_999_999_999, "fail", *missing.Message}, {mine.FileID, "success", ""}}
			if !slices.Equal(got, want) {
				t.Errorf("delete results %+v, want %+v", got, want)
			}
			ns := g.wantNotices(t, mark, imgate.GroupFileDeleted, g.member2.id, g.memberIDs()...)
			wantContent(t, ns, map[string]any{"file_list": []int64{mine.FileID}})
			a.fails(imgate.CodeFileNotFound, "GET", gxQuery("/group/file", "group_id", g.id, "file_id", mine.FileID), a.as(g.member.tok), nil)

			mark = g.mark(t)
			got = nil
			a.ok("DELETE", "/group/file/delete", a.as(g.member2.tok), map[string]any{"group_id": g.id, "file_list": []int64{mine.FileID}}, &got)
			if len(got) != 1 || got[0].Result != "fail" {
				t.Errorf("deleting a deleted file: %+v", got)
			}
			for _, c := range g.outsiders() {
				a.fails(imgate.CodeNeedMember, "POST", "/group/file/delete", c.hs, map[string]any{"group_id": g.id, "file_list": []int64{up[0].FileID}})
			}
			for _, bad := range []any{[]int64{}, nil, "x", []any{"x"}, make([]int64, 51)} {
				a.fails(imgate.CodeInvalidParameter, "POST", "/group/file/delete", a.as(g.owner.tok), map[string]any{"group_id": g.id, "file_list": bad})
			}
			g.wantNone(t, mark)
			gxCommonFailures(t, g, []string{"POST", "DELETE"}, "/group/file/delete", map[string]any{"file_list": []int64{up[0].FileID}})

			// The uploader deletes its own files, admins anyone's.
			deletes := func(c gxCaller, f gxFile, m string) {
				t.Helper()
				mark := g.mark(t)
				var got []result
				a.ok(m, "/group/file/delete", c.hs, map[string]any{"group_id": g.id, "file_list": []int64{f.FileID}}, &got)
				if len(got) != 1 || got[0] != (result{f.FileID, "success", ""}) {
					t.Errorf("as %s: %+v", c.name, got)
				}
				ns := g.wantNotices(t, mark, imgate.GroupFileDeleted, c.from, g.memberIDs()...)
				wantContent(t, ns, map[string]any{"file_list": []int64{f.FileID}})
			}
			deletes(g.members()[0], up[0], "POST")
			deletes(g.members()[1], up[1], "DELETE")
			for i, c := range g.admins() {
				deletes(c, up[2+i], []string{"POST", "DELETE"}[i%2])
			}
			if left := files(t, a.as(g.member.tok)); len(left) != 0 {
				t.Errorf("files left: %+v", left)
			}
		})
	})
}
