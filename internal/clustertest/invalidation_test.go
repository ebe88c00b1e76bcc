package clustertest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

// TestChecksInvalidatedAcrossNodes checks that with a send check cache
// far longer than the test, a block, a mute or a kick made through one
// node refuses the next send through the other at once (its invalidation
// crosses Redis), and that lifting it lets sends through again.
func TestChecksInvalidatedAcrossNodes(t *testing.T) {
	c := newCluster(t, 2, sharedRedis(t), "--send-check-cache", "1h")
	n0, n1 := c.nodes[0], c.nodes[1]
	a, atok := c.user("inval_a")
	b, btok := c.user("inval_b")
	_, otok := c.user("inval_owner")
	send := func(typ string, to uint64) int {
		code, _ := c.rest(n0, "POST", "/message/send", atok, nil,
			`{"targets":[`+num(to)+`],"type":`+typ+`,"content":"hi","content_type":0}`)
		return code
	}
	change := func(path, tok, body string) {
		t.Helper()
		if code, data := c.rest(n1, "POST", path, tok, nil, body); code != 200 {
			t.Fatalf("%s on %s: %d %s", path, n1.name, code, data)
		}
	}
	expect := func(what, typ string, to uint64, want int) {
		t.Helper()
		var got int
		began := time.Now()
		eventually(t, 2*time.Second, what, func() bool {
			got = send(typ, to)
			return got == want
		})
		t.Logf("%s: %d after %s", what, got, time.Since(began).Round(time.Millisecond))
	}

	expect("a writes to b", "1", b, 200)
	expect("a writes to b again, from the cache", "1", b, 200)
	if got := n0.metric(`imgate_cache_lookups_total{cache="send_check",result="hit"}`); got < 1 {
		t.Errorf("%s counted %v send check hits, want at least 1", n0.name, got)
	}
	change("/roster/block?user_id="+num(a), btok, "")
	expect("a is refused once b blocked a on the other node", "1", b, imgate.CodeInBlacklist)
	change("/roster/unblock?user_id="+num(a), btok, "")
	expect("a writes to b once unblocked", "1", b, 200)

	g := c.createGroup(otok, a)
	members := `{"group_id":` + num(g) + `,"user_list":[` + num(a) + `]`
	expect("a writes to the group", "2", g, 200)
	change("/group/ban", otok, members+`,"duration":-1}`)
	expect("a is refused once muted on the other node", "2", g, imgate.CodeForbidden)
	change("/group/unban", otok, members+`}`)
	expect("a writes to the group once unmuted", "2", g, 200)
	change("/group/kick", otok, members+`}`)
	expect("a is refused once kicked on the other node", "2", g, imgate.CodeNotGroupMember)
	if got := n1.metric(`imgate_invalidations_total{direction="published"}`); got < 5 {
		t.Errorf("%s published %v invalidations, want at least 5", n1.name, got)
	}
	if got := n0.metric(`imgate_invalidations_total{direction="received"}`); got < 5 {
		t.Errorf("%s received %v invalidations, want at least 5", n0.name, got)
	}
}

// TestRevokedTokenForgottenAcrossNodes checks that with a token cache and
// a token check interval far longer than the test, a password change
// through one node makes the other refuse the revoked token at once (the
// revocation crosses Redis), while the token that made the change stays
// good.
func TestRevokedTokenForgottenAcrossNodes(t *testing.T) {
	c := newCluster(t, 2, sharedRedis(t), "--token-cache-ttl", "1h", "--token-check-interval", "1h")
	n0, n1 := c.nodes[0], c.nodes[1]
	a, old := c.user("revoke_a")
	settings := func(tok string) int {
		code, _ := c.rest(n0, "GET", "/user/settings", tok, nil, "")
		return code
	}
	if code := settings(old); code != 200 {
		t.Fatalf("settings with the first token on %s: %d", n0.name, code)
	}
	code, data := c.rest(n1, "POST", "/token/id", "", nil, `{"user_id":`+num(a)+`,"password":"pw"}`)
	var tok struct {
		Token string `json:"token"`
	}
	if code != 200 || json.Unmarshal(data, &tok) != nil || tok.Token == "" {
		t.Fatalf("second token: %d %s", code, data)
	}
	if code, data := c.rest(n1, "POST", "/user/change_password", tok.Token, nil, `{"old_password":"pw","new_password":"pw2"}`); code != 200 {
		t.Fatalf("change password on %s: %d %s", n1.name, code, data)
	}
	began := time.Now()
	eventually(t, 2*time.Second, "the first token refused on the other node", func() bool {
		return settings(old) == imgate.CodeTokenEnded
	})
	t.Logf("revoked token refused on %s %s after the change", n0.name, time.Since(began).Round(time.Millisecond))
	if code := settings(tok.Token); code != 200 {
		t.Errorf("the token that changed the password, on %s: %d, want 200", n0.name, code)
	}
}
