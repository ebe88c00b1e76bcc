package clustertest

import (
	"testing"
	"time"

	"github.com/imgate/imgate"
)

// TestUserSendLimitAcrossNodes sends as one user through two nodes in
// turn, as fast as the calls go, with --user-send-rate 10: each second
// admits the limit across both nodes (plus what one flush interval of
// the shared count lets through), not the limit on each, and the rest
// is refused with 10028 and counted.
func TestUserSendLimitAcrossNodes(t *testing.T) {
	const limit = 10
	c := newCluster(t, 2, sharedRedis(t), "--user-send-rate", "10")
	_, atok := c.user("limit_a")
	b, _ := c.user("limit_b")
	admitted := map[int64]int{} // by unix second of the answer
	refused := 0
	for i := range 80 {
		code, data := c.rest(c.nodes[i%2], "POST", "/message/send", atok, nil,
			`{"targets":[`+num(b)+`],"type":1,"content":"hi","content_type":0}`)
		sec := time.Now().Unix()
		switch code {
		case 200:
			admitted[sec]++
		case imgate.CodeTooManyAttempts:
			refused++
		default:
			t.Fatalf("send %d: %d %s", i, code, data)
		}
	}
	if refused == 0 {
		t.Fatalf("no send refused: %v admitted by second", admitted)
	}
	// Each second (window) admits the limit across both nodes, and what
	// they admit in a flush interval before they share their counts; on
	// each node alone it would be twice the limit.
	const slack = 6
	first, last, total := int64(1<<62), int64(0), 0
	for sec, n := range admitted {
		first, last, total = min(first, sec), max(last, sec), total+n
	}
	if windows := int(last - first + 1); total > windows*(limit+slack) {
		t.Errorf("%d seconds admitted %d sends, want at most %d (the limit per second across nodes, and %d)",
			windows, total, windows*(limit+slack), slack)
	}
	var counted float64
	for _, n := range c.nodes {
		counted += n.metric(`imgate_rate_limited_total{limit="user"}`)
	}
	if counted != float64(refused) {
		t.Errorf("nodes counted %v refusals, want %d", counted, refused)
	}
	t.Logf("admitted by second %v, refused %d", admitted, refused)
}
