package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
)

// redisFlags are serve's flags for the shared Redis at 6379, under a key
// prefix of the test's own.
func sharedRedis(t *testing.T) []string {
	return []string{"--redis", "redis://127.0.0.1:6379/0", "--redis-prefix", fmt.Sprintf("imgatetest%d", time.Now().UnixNano())}
}

// createGroup creates a group of the owner with members, on node 0.
func (c *cluster) createGroup(otok string, members ...uint64) uint64 {
	c.t.Helper()
	ids, _ := json.Marshal(members)
	code, data := c.rest(c.nodes[0], "POST", "/group/create", otok, nil, `{"name":"g","user_list":`+string(ids)+`}`)
	var g struct {
		GroupID uint64 `json:"group_id"`
	}
	if code != 200 || json.Unmarshal(data, &g) != nil {
		c.t.Fatalf("create group: %d %s", code, data)
	}
	return g.GroupID
}

// crossNode checks delivery between devices spread over the cluster's
// three nodes: a REST send on one node reaches a device on another, and a
// group message reaches members on every node once.
func crossNode(t *testing.T, c *cluster) {
	a, b, cn := c.nodes[0], c.nodes[1], c.nodes[2]
	var uids []uint64
	var toks []string
	for i := range 6 {
		uid, tok := c.user(fmt.Sprint("u", i))
		uids, toks = append(uids, uid), append(toks, tok)
	}
	g := c.createGroup(toks[0], uids[1:]...)
	// u1 on A, u2 on B, u3 on C, u4 on A and C, u0 (the sender) on B.
	d1 := c.login(a, uids[1], toks[1], "d1", 0)
	d2 := c.login(b, uids[2], toks[2], "d2", 0)
	d3 := c.login(cn, uids[3], toks[3], "d3", 0)
	d4a := c.login(a, uids[4], toks[4], "d4a", 0)
	d4c := c.login(cn, uids[4], toks[4], "d4c", 0)
	d0 := c.login(b, uids[0], toks[0], "d0", 0)

	// 1:1 over REST on C to a device on A.
	code, data := c.rest(cn, "POST", "/message/send", c.admin, nil,
		`{"targets":[`+num(uids[1])+`],"type":1,"content":"from C","content_type":0,"from_user_id":`+num(uids[0])+`}`)
	if code != 200 {
		t.Fatalf("send on C: %d %s", code, data)
	}
	got := d1.waitConv(t, uids[0], 1, 10*time.Second)
	if b := bodyOf(t, got[0]); b.Content != "from C" {
		t.Errorf("device on A got %q", b.Content)
	}
	// ...and the sender's device on B sees it too.
	d0.waitConv(t, uids[1], 1, 10*time.Second)

	// Group messages from B reach members on A, B and C once, in order.
	for i := range 5 {
		dl, err := d0.Send(context.Background(), d0.xid, g, text(xsync.MessageBody_GROUPCHAT, fmt.Sprint("g", i)))
		if err != nil || dl.Status.GetCode() != xsync.Status_OK {
			t.Fatalf("group send: %v %v", dl, err)
		}
	}
	// ...and a group message sent over REST on C.
	code, data = c.rest(cn, "POST", "/message/send", c.admin, nil,
		`{"targets":[`+num(g)+`],"type":2,"content":"g5","content_type":0,"from_user_id":`+num(uids[0])+`}`)
	if code != 200 {
		t.Fatalf("group send on C: %d %s", code, data)
	}
	for _, d := range []*device{d1, d2, d3, d4a, d4c} {
		got := d.waitConv(t, g, 6, 10*time.Second)
		var texts []string
		for _, m := range got {
			texts = append(texts, bodyOf(t, m).Content)
		}
		if strings.Join(texts, ",") != "g0,g1,g2,g3,g4,g5" {
			t.Errorf("device %v: %v", d.xid, texts)
		}
		d.Read(func(v client.View) {
			if v.Dups() != 0 {
				t.Errorf("device %v got %d metas twice", d.xid, v.Dups())
			}
		})
	}
}

func TestCrossNode(t *testing.T) {
	c := newCluster(t, 3, sharedRedis(t))
	crossNode(t, c)
	// Node A's devices got what B and C published: the bus lag between
	// nodes and A's group pushes are counted.
	a := c.nodes[0]
	if n := a.metric("imgate_bus_lag_seconds_count"); n < 1 {
		t.Errorf("bus lag observations on A: %v, want some", n)
	}
	if n := a.metric("imgate_bus_received_total"); n < 1 {
		t.Errorf("events received from Redis on A: %v", n)
	}
	// A holds d1 and d4a, each got 6 group messages pushed (or synced).
	push := a.metric(`imgate_deliveries_total{kind="group",path="push"}`)
	sync := a.metric(`imgate_deliveries_total{kind="group",path="sync"}`)
	if push+sync < 12 || a.metric(`imgate_fanout_latency_seconds_count{kind="group",path="push"}`) != push {
		t.Errorf("group deliveries on A: push %v sync %v, want 12 in all, each push in the fan-out histogram", push, sync)
	}
	if n := a.metric("imgate_ready"); n != 1 {
		t.Errorf("imgate_ready on A = %v", n)
	}
}

func TestPresenceAcrossNodes(t *testing.T) {
	c := newCluster(t, 3, sharedRedis(t), "--max-devices", "2", "--presence-ttl", "3s")
	a, b, cn := c.nodes[0], c.nodes[1], c.nodes[2]
	uid, tok := c.user("ann")
	online := func(n *node) bool {
		code, data := c.rest(n, "GET", "/user/online_status", c.admin, map[string]string{"user_id": num(uid)}, "")
		if code != 200 {
			t.Fatalf("online_status: %d %s", code, data)
		}
		return strings.Contains(string(data), `"online":true`)
	}
	if online(cn) {
		t.Fatal("online before any login")
	}
	d1 := c.login(a, uid, tok, "phone", 0)
	if !online(cn) {
		t.Error("online_status on C is false while a device is on A")
	}
	// The device limit counts devices on every node.
	tablet := c.login(b, uid, tok, "tablet", 0)
	if _, st := c.tryLogin(cn, uid, tok, "laptop", 0); st.GetCode() != xsync.Status_TOO_MANY_DEVICES {
		t.Errorf("a third device on C: %v, want TOO_MANY_DEVICES", st)
	}
	// The device list, asked on C, has the devices of A and B.
	code, data := c.rest(cn, "GET", "/user/device/list", tok, nil, "")
	if code != 200 || strings.Count(string(data), `"device_sn":`) != 2 {
		t.Errorf("device list on C: %d %s, want the 2 devices", code, data)
	}
	// The same device (guid) logging in on C kicks its session on A.
	phone := c.login(cn, uid, tok, "phone", 0)
	waitClosed(t, d1, 4003)
	// /user/kick on A closes the devices on B and C.
	if code, data := c.rest(a, "POST", "/user/kick", c.admin, map[string]string{"user_id": num(uid)}, ""); code != 200 {
		t.Fatalf("kick: %d %s", code, data)
	}
	waitClosed(t, tablet, 4003)
	waitClosed(t, phone, 4003)
	eventually(t, 5*time.Second, "offline after the kicks", func() bool { return !online(a) })

	// A node killed with its devices leaves no presence past the TTL.
	gid, gtok := c.user("ghost")
	c.login(b, gid, gtok, "g", 0)
	ghostOnline := func() bool {
		_, data := c.rest(a, "GET", "/user/online_status", c.admin, map[string]string{"user_id": num(gid)}, "")
		return strings.Contains(string(data), `"online":true`)
	}
	if !ghostOnline() {
		t.Fatal("ghost not online while its node runs")
	}
	b.kill()
	killed := time.Now()
	eventually(t, 10*time.Second, "the dead node's device expires", func() bool { return !ghostOnline() })
	if waited := time.Since(killed); waited > 3*time.Second+2*time.Second {
		t.Errorf("presence outlived its node by %s; the TTL is 3s", waited)
	}
}

// waitClosed waits until the device's connection ends with the code.
func waitClosed(t *testing.T, d *device, code int) {
	t.Helper()
	select {
	case <-d.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("device %v still connected", d.xid)
	}
	d.Read(func(v client.View) {
		if got := client.CloseStatus(v.Err()); got != code {
			t.Errorf("device %v closed with %d (%v), want %d", d.xid, got, v.Err(), code)
		}
	})
}

func bodyOf(t *testing.T, m *xsync.Meta) *xsync.MessageBody {
	t.Helper()
	var b xsync.MessageBody
	if err := protoUnmarshal(m.Payload, &b); err != nil {
		t.Fatal(err)
	}
	return &b
}
