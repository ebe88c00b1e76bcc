package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/admin"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/storage/embedded"
	"github.com/imgate/imgate/storage/postgres"
)

// fzRoute is a path whose JSON body FuzzBodies fuzzes, sent with the
// admin token or the token of the group's owner.
type fzRoute struct {
	path  string
	admin bool
	valid []string // good bodies, with $OWNER, $MEMBER, $OTHER, $GROUP for ids
}

var fzRoutes = []fzRoute{
	{"/user/settings", false, []string{
		`{"user_id":$OWNER,"auth_mode":2,"auth_question":"q?","auth_answer":"a","auto_download":true,"group_confirm":false,` +
			`"no_push":false,"no_push_detail":true,"no_push_start_hour":22,"no_push_end_hour":7,"no_sounds":false,` +
			`"vibratory":true,"push_nick_name":"推送","silence_start_time":0,"silence_end_time":23}`,
		`{"user_id":"$OWNER","vibratory":false}`,
		`{"auth_mode":"1"}`, `{"auth_mode":1e309}`, `{"no_push_start_hour":24}`, `{"no_push_end_hour":-1}`,
		`{"auth_mode":9223372036854775808}`, `{"user_id":$MEMBER}`, `{"push_nick_name":null}`,
	}},
	{"/user/profile", false, []string{
		`{"nick_name":"Fuzz","description":"d","public_info":"pub","private_info":"priv"}`,
		`{"description":"only this"}`, `{"nick_name":"名前\u0000名"}`, `{"nick_name":["x"]}`, `{"private_info":{"a":1}}`,
	}},
	{"/user/register/batch", true, []string{
		`{"list":[{"username":"fz_a","password":"pw"},{"username":"fz_b","password":"pw"}]}`,
		`{"list":[{"username":"fz_dup","password":"pw"},{"username":"fz_dup","password":"pw"}]}`,
		`{"list":[{"username":"","password":""}]}`, `{"list":[null]}`, `{"list":[{"username":"名字","password":"pw"}]}`,
		`{"list":[{"username":"fz_c","password":"` + strings.Repeat("p", 73) + `"}]}`,
	}},
	{"/roster/apply/batch", false, []string{
		`[{"user_id":$OTHER,"alias":"o","reason":"hi","auth_answer":"a"}]`,
		`[{"user_id":"$MEMBER"},{"user_id":$OWNER},{"user_id":0},{"user_id":-5},{"user_id":1125899906842624}]`,
		`[{"user_id":"1e3"}]`, `[{"user_id":" 1"}]`, `[{"user_id":"\"1"}]`, `{"user_id":$OTHER}`, `[null]`,
	}},
	{"/group/create", false, []string{
		`{"name":"g","description":"d","avatar":"http://a/b.png","type":0,"user_list":[$MEMBER,"$OTHER"]}`,
		`{"name":"g2","type":1}`, `{"name":"g3","type":2,"user_list":[$OWNER,$OWNER]}`, `{"name":"g4","type":-1}`,
		`{"name":"g5","type":2147483648}`, `{"name":"g6","user_list":[1125899906842624]}`, `{"name":"g7","user_list":"x"}`,
	}},
	{"/group/invite", false, []string{
		`{"group_id":$GROUP,"reason":"join","user_list":[$OTHER]}`,
		`{"group_id":"$GROUP","user_list":[$MEMBER,$OWNER,1125899906842624,0,-1]}`,
		`{"group_id":1125899906842624,"user_list":[$OTHER]}`, `{"group_id":$GROUP,"user_list":[]}`,
	}},
	{"/group/ban", false, []string{
		`{"group_id":$GROUP,"user_list":[$MEMBER],"duration":10}`,
		`{"group_id":$GROUP,"user_list":[$MEMBER],"duration":-1}`,
		`{"group_id":$GROUP,"user_list":[$OWNER,$OTHER,0],"duration":9223372036854775807}`,
		`{"group_id":$GROUP,"user_list":[$MEMBER],"duration":0}`, `{"group_id":$GROUP,"user_list":[$MEMBER],"duration":1.5}`,
		`{"group_id":$GROUP,"user_list":[$MEMBER]}`,
	}},
	{"/group/file/upload", false, []string{
		`{"group_id":$GROUP,"name":"f.txt","size":12,"type":"text/plain","url":"http://a/f.txt"}`,
		`{"group_id":$GROUP,"name":"f","size":9223372036854775807,"url":"u"}`,
		`{"group_id":$GROUP,"name":"f","size":-1,"url":"u"}`, `{"group_id":$GROUP,"name":"","size":0,"url":"u"}`,
		`{"group_id":$GROUP,"name":"../../etc/passwd","size":0,"url":"u"}`, `{"group_id":$GROUP,"name":"f","size":"1","url":"u"}`,
	}},
	{"/group/announcement/edit", false, []string{
		`{"group_id":$GROUP,"title":"t","content":"c"}`,
		`{"group_id":"$GROUP","title":"","content":"内容"}`, `{"group_id":$GROUP,"title":"t","content":""}`,
		`{"group_id":$GROUP,"title":null,"content":"c"}`, `{"group_id":$GROUP,"title":"t","content":"` + strings.Repeat("x", 70000) + `"}`,
	}},
	{"/user/avatar/batch", true, []string{
		`{"list":[{"user_id":$OWNER,"avatar":"http://a/o.png"},{"user_id":"$MEMBER","avatar":""}]}`,
		`{"list":[{"user_id":1125899906842624,"avatar":"x"},{"user_id":0,"avatar":"x"},{"user_id":-1,"avatar":"x"}]}`,
		`{"list":[{"avatar":"x"}]}`, `{"list":[{"user_id":$OWNER,"avatar":"` + strings.Repeat("a", 1025) + `"}]}`,
	}},
	{"/message/send", false, []string{
		`{"targets":[$MEMBER],"type":1,"content":"hello","content_type":0}`,
		`{"targets":[$GROUP],"type":2,"content":"hi all","content_type":0,"ext":"{}","config":"{}","transaction_id":"t1"}`,
		`{"targets":[$MEMBER,$GROUP],"type":1,"content":"mixed","content_type":0}`, `{"targets":[],"type":1,"content":"x","content_type":0}`,
		`{"targets":[$MEMBER],"type":3,"content":"x","content_type":0}`, `{"targets":[$MEMBER],"type":1,"content":"x","content_type":13}`,
		`{"targets":[$MEMBER],"type":1,"content":"x","content_type":10,"related_mid":0}`,
		`{"targets":[$MEMBER],"type":1,"content":"x","content_type":12,"related_mid":1125899906842624}`,
		`{"targets":[$MEMBER],"type":1,"content":"` + strings.Repeat("c", 70000) + `","content_type":0}`,
		`{"targets":["$OTHER"],"type":"1","content":"x","content_type":"0","transaction_id":1e400}`,
	}},
	{"/message/broadcast", true, []string{
		`{"type":1,"content":"to all","content_type":0}`, `{"type":2,"content":"x","content_type":0}`, `{"content_type":99}`,
	}},
}

// fzEdgeBodies are malformed or odd bodies tried on every route.
var fzEdgeBodies = []string{
	``, ` `, `null`, `{}`, `[]`, `""`, `"text"`, `0`, `true`, `1e309`, `-1e309`, `99999999999999999999999`,
	`{"user_id":1e309}`, `{"user_id":"abc"}`, `{"user_id":"１２"}`, `{"user_id":"-0"}`, `{"user_id":"+1"}`,
	`{"user_id":null}`, `{"group_id":null,"user_list":null,"list":null}`, `{"list":[null,[],{}]}`,
	`{"group_id":18446744073709551616,"user_list":[18446744073709551615]}`, `{"group_id":"$GROUP","user_list":[[["$MEMBER"]]]}`,
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, strings.Repeat("[", 20000),
	`{} {}`, `{}garbage`, `{"a":1,"a":2}`, "{\"name\":\"\xff\xfe\"}", `{"name":"\ud800"}`, `{"name":"😀\u0000"}`,
	`{"list":[` + strings.Repeat(`{"user_id":1},`, 60) + `{"user_id":1}]}`, `{`, `{"list":[`,
}

// fzAPI is a REST API over an embedded store with an owner of a group,
// a member of it and another user, shared by the whole fuzz process.
type fzAPI struct {
	url                         string
	admin                       string
	store                       imgate.Store
	core                        *delivery.Core
	srv                         *httptest.Server
	owner, member, other, group int64
	ownerTok                    string
}

// newFzAPI is start, without a *testing.T, plus the users and group.
func newFzAPI(dir string) (*fzAPI, error) {
	s, err := embedded.Open(context.Background(), embedded.Config{Dir: dir}, quiet())
	if err != nil {
		return nil, err
	}
	return newFzAPIOn(s)
}

// newFzAPIOn serves the store, which it closes on failure and on close.
func newFzAPIOn(s imgate.Store) (a *fzAPI, err error) {
	ctx := context.Background()
	a = &fzAPI{store: s}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	tokens, err := auth.New(s, auth.Config{Secret: []byte("test secret")}, nil)
	if err != nil {
		return nil, err
	}
	if err := s.CreateApp(ctx, imgate.App{ID: "testapp", Name: "testapp", CreatedAt: time.UnixMilli(time.Now().UnixMilli())}); err != nil {
		return nil, err
	}
	if a.admin, _, err = tokens.IssueAdmin(ctx, "testapp"); err != nil {
		return nil, err
	}
	a.core = delivery.New(delivery.Config{}, s, delivery.NewLocalBus(nil), quiet())
	a.srv = httptest.NewServer(admin.New(admin.Config{PasswordCost: 4, MaxListLen: 50}, a.core, tokens, nil, quiet()))
	a.url = a.srv.URL
	user := func(name string) (int64, string, error) {
		var reg struct {
			UserID int64 `json:"user_id"`
		}
		var tok struct {
			Token string `json:"token"`
		}
		if err := a.ok("/user/register/v2", "", `{"username":"`+name+`","password":"pw"}`, &reg); err != nil {
			return 0, "", err
		}
		err := a.ok("/token/user", "", `{"name":"`+name+`","password":"pw"}`, &tok)
		return reg.UserID, tok.Token, err
	}
	if a.owner, a.ownerTok, err = user("fz_owner"); err != nil {
		return nil, err
	}
	if a.member, _, err = user("fz_member"); err != nil {
		return nil, err
	}
	if a.other, _, err = user("fz_other"); err != nil {
		return nil, err
	}
	var info struct {
		GroupID int64 `json:"group_id"`
	}
	body := fmt.Sprintf(`{"name":"fz","user_list":[%d]}`, a.member)
	if err := a.ok("/group/create", a.ownerTok, body, &info); err != nil {
		return nil, err
	}
	a.group = info.GroupID
	return a, nil
}

func (a *fzAPI) close() {
	if a.srv != nil {
		a.srv.Close()
	}
	if a.core != nil {
		a.core.Close()
	}
	a.store.Close()
}

// fzReply is an answer of the API: its HTTP status, body and envelope.
type fzReply struct {
	status  int
	raw     []byte
	Code    *int    `json:"code"`
	Message *string `json:"message"`
}

// post sends body to path with the token, or none when it is "".
func (a *fzAPI) post(path, token string, body []byte) (fzReply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", a.url+path, bytes.NewReader(body))
	if err != nil {
		return fzReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header["app_id"] = []string{"testapp"}
	if token != "" {
		req.Header["access-token"] = []string{token}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fzReply{}, fmt.Errorf("POST %s: no answer (did the handler panic?): %w", path, err)
	}
	defer resp.Body.Close()
	r := fzReply{status: resp.StatusCode}
	r.raw, err = io.ReadAll(resp.Body)
	if err != nil {
		return r, fmt.Errorf("POST %s: read the answer: %w", path, err)
	}
	if !json.Valid(r.raw) {
		return r, fmt.Errorf("POST %s: HTTP %d, answer is not JSON: %q", path, r.status, r.raw)
	}
	if err := json.Unmarshal(r.raw, &r); err != nil {
		return r, fmt.Errorf("POST %s: HTTP %d, answer is not an envelope: %s", path, r.status, r.raw)
	}
	return r, nil
}

// ok posts a request that must succeed and decodes its data into out.
func (a *fzAPI) ok(path, token, body string, out any) error {
	r, err := a.post(path, token, []byte(body))
	if err != nil {
		return err
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if r.status != 200 || r.Code == nil || *r.Code != 200 || json.Unmarshal(r.raw, &env) != nil {
		return fmt.Errorf("POST %s %s: HTTP %d %s", path, body, r.status, r.raw)
	}
	return json.Unmarshal(env.Data, out)
}

// fill puts the ids of the fixture into a body.
func (a *fzAPI) fill(body []byte) []byte {
	for _, v := range []struct {
		name string
		id   int64
	}{{"$OWNER", a.owner}, {"$MEMBER", a.member}, {"$OTHER", a.other}, {"$GROUP", a.group}} {
		body = bytes.ReplaceAll(body, []byte(v.name), []byte(strconv.FormatInt(v.id, 10)))
	}
	return body
}

// check requires a MaxIM envelope: HTTP 200, and code 200 or a business
// error with a message, never 20000 (a store failure).
func (r fzReply) check(path string, body []byte) error {
	switch {
	case r.status != http.StatusOK:
		return fmt.Errorf("POST %s %q: HTTP %d, want 200: %s", path, fzShort(body), r.status, r.raw)
	case r.Code == nil:
		return fmt.Errorf("POST %s %q: envelope has no code: %s", path, fzShort(body), r.raw)
	case *r.Code == imgate.CodeOK:
		return nil
	case *r.Code == imgate.CodeStore:
		return fmt.Errorf("POST %s %q: server database exception (20000) for a bad request: %s", path, fzShort(body), r.raw)
	case *r.Code < 10000 || r.Message == nil || *r.Message == "":
		return fmt.Errorf("POST %s %q: code %d is not a MaxIM business error with a message: %s", path, fzShort(body), *r.Code, r.raw)
	}
	return nil
}

// FuzzBodies posts fuzzed JSON bodies to paths that decode them: every
// answer must be a MaxIM envelope, success or a clear business error.
// The route is fuzzed too, as an index into fzRoutes. It runs on the
// embedded store, for speed; FuzzBodiesPostgres runs fewer seeds on
// PostgreSQL.
func FuzzBodies(f *testing.F) {
	for i, r := range fzRoutes {
		for _, b := range r.valid {
			f.Add(uint8(i), []byte(b))
		}
		for _, b := range fzEdgeBodies {
			f.Add(uint8(i), []byte(b))
		}
	}
	dir := f.TempDir()
	fuzzBodies(f, func() (imgate.Store, error) {
		d, err := os.MkdirTemp(dir, "store")
		if err != nil {
			return nil, err
		}
		return embedded.Open(context.Background(), embedded.Config{Dir: d}, quiet())
	})
}

// fzNULBodies carry U+0000 in a string field of each route, which JSON
// allows and PostgreSQL's text does not.
var fzNULBodies = []struct {
	route int
	body  string
}{
	{0, `{"push_nick_name":"a\u0000b"}`},
	{1, `{"nick_name":"a\u0000b"}`},
	{1, `{"description":"\u0000"}`},
	{2, `{"list":[{"username":"fz_nul","password":"p\u0000w"}]}`},
	{3, `[{"user_id":$OTHER,"reason":"\u0000","alias":"\u0000"}]`},
	{4, `{"name":"a\u0000b"}`},
	{5, `{"group_id":$GROUP,"reason":"\u0000","user_list":[$OTHER]}`},
	{7, `{"group_id":$GROUP,"name":"f\u0000","size":1,"url":"u"}`},
	{8, `{"group_id":$GROUP,"title":"t","content":"c\u0000"}`},
	{9, `{"list":[{"user_id":$OWNER,"avatar":"\u0000"}]}`},
}

// FuzzBodiesPostgres is FuzzBodies on PostgreSQL, seeded with the good
// body of every route and bodies with U+0000 in their strings.
func FuzzBodiesPostgres(f *testing.F) {
	for i, r := range fzRoutes {
		f.Add(uint8(i), []byte(r.valid[0]))
	}
	for _, b := range fzNULBodies {
		f.Add(uint8(b.route), []byte(b.body))
	}
	dsn := pgtest.DSN(f) // one database per fuzz process
	fuzzBodies(f, func() (imgate.Store, error) {
		return postgres.Open(context.Background(), postgres.Config{DSN: dsn}, quiet())
	})
}

// fuzzBodies runs the fuzz target of FuzzBodies on the store open makes,
// once per fuzz process, at the first input.
func fuzzBodies(f *testing.F, open func() (imgate.Store, error)) {
	var (
		once     sync.Once
		a        *fzAPI
		setupErr error
	)
	f.Cleanup(func() {
		if a != nil {
			a.close()
		}
	})
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		once.Do(func() {
			s, err := open()
			if err == nil {
				a, err = newFzAPIOn(s)
			}
			setupErr = err
		})
		if setupErr != nil {
			t.Fatal(setupErr)
		}
		rt := fzRoutes[int(route)%len(fzRoutes)]
		tok := a.ownerTok
		if rt.admin {
			tok = a.admin
		}
		body = a.fill(body)
		r, err := a.post(rt.path, tok, body)
		if err == nil {
			err = r.check(rt.path, body)
		}
		if err != nil {
			t.Fatal(err)
		}
	})
}

// fzShort cuts a body down for a failure message; the fuzz corpus keeps
// the whole input.
func fzShort(b []byte) []byte {
	if len(b) > 300 {
		return append(b[:300:300], "…"...)
	}
	return b
}

// TestFuzzBodiesValid checks that the first seed of every route of
// FuzzBodies succeeds on a fresh fixture, so that the fuzzer starts from
// bodies that reach past decoding.
func TestFuzzBodiesValid(t *testing.T) {
	a, err := newFzAPI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	for _, rt := range fzRoutes {
		tok := a.ownerTok
		if rt.admin {
			tok = a.admin
		}
		body := a.fill([]byte(rt.valid[0]))
		r, err := a.post(rt.path, tok, body)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != 200 || r.Code == nil || *r.Code != imgate.CodeOK {
			t.Errorf("POST %s %s: HTTP %d %s, want code 200", rt.path, body, r.status, r.raw)
		}
	}
}
