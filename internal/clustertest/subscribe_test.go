package clustertest

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// slowSubscribe is a TCP proxy to Redis that holds every command naming a
// subscription back for delay before passing it on, as a loaded Redis or
// network would: a node's subscriptions then go live well after it asked
// for them.
func slowSubscribe(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			t.Cleanup(func() { in.Close(); out.Close() })
			go func() { _, _ = io.Copy(in, out); in.Close() }()
			go func() {
				defer out.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := in.Read(buf)
					if n > 0 {
						if bytes.Contains(bytes.ToLower(buf[:n]), []byte("subscribe")) {
							time.Sleep(delay)
						}
						if _, werr := out.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// TestLoginWaitsForItsSubscriptions: a login is answered only once the
// bus carries its user's events to the node. A message sent from another
// node just after the login's answer reaches the device at once, although
// the node's SUBSCRIBEs take 700 ms to reach Redis; it is not left for
// the conversation's next event to bring.
func TestLoginWaitsForItsSubscriptions(t *testing.T) {
	r := startRedis(t)
	proxy := slowSubscribe(t, r.addr(), 700*time.Millisecond)
	c := newCluster(t, 1, []string{"--redis", "redis://" + proxy + "/0"})
	c.redis = []string{"--redis", r.url()}
	other := c.start("n1")
	b, _ := c.user("b")
	for i := range 3 {
		// A user the node has no session of yet: its channel is
		// subscribed by this login.
		u, tok := c.user("late" + num(uint64(i)))
		d := c.login(c.nodes[0], u, tok, "d", 0)
		code, data := c.rest(other, "POST", "/message/send", c.admin, nil,
			`{"targets":[`+num(u)+`],"type":1,"content":"hi","content_type":0,"from_user_id":`+num(b)+`}`)
		if code != 200 {
			t.Fatalf("send on n1: %d %s", code, data)
		}
		d.waitConv(t, b, 1, 5*time.Second)
	}
}
