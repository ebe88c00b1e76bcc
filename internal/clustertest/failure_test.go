package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
)

// registerMany registers n users through /user/register/batch and returns
// their ids.
func (c *cluster) registerMany(prefix string, n int) []uint64 {
	c.t.Helper()
	var ids []uint64
	for start := 0; start < n; start += 500 {
		var list []map[string]string
		for i := start; i < min(n, start+500); i++ {
			list = append(list, map[string]string{"username": fmt.Sprint(prefix, i), "password": "pw"})
		}
		body, _ := json.Marshal(map[string]any{"list": list})
		code, data := c.rest(c.nodes[0], "POST", "/user/register/batch", c.admin, nil, string(body))
		var out []struct {
			UserID  uint64 `json:"user_id"`
			Success bool   `json:"success"`
		}
		if code != 200 || json.Unmarshal(data, &out) != nil {
			c.t.Fatalf("register batch: %d %s", code, data)
		}
		for _, r := range out {
			if !r.Success {
				c.t.Fatalf("register batch: %s", data)
			}
			ids = append(ids, r.UserID)
		}
	}
	return ids
}

func commandCalls(t *testing.T, rc *redis.Client, cmd string) int {
	t.Helper()
	info, err := rc.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
			return n
		}
	}
	return 0
}

func TestGroupMessageCostsOnePublish(t *testing.T) {
	// A message to a 1,000-member group with members on all three nodes
	// costs one PUBLISH, not one per member or per node.
	r := startRedis(t)
	c := newCluster(t, 3, []string{"--redis", r.url(), "--bus-probe-interval", "1h"})
	owner, otok := c.user("owner")
	members := c.registerMany("m", 999)
	g := c.createGroup(otok, members[:499]...)
	ids, _ := json.Marshal(members[499:])
	if code, data := c.rest(c.nodes[0], "POST", "/group/invite", c.admin, nil, `{"group_id":`+num(g)+`,"user_list":`+string(ids)+`}`); code != 200 {
		t.Fatalf("invite: %d %s", code, data)
	}
	// Twenty members online on each node.
	var devices []*device
	for i, n := range c.nodes {
		for j := range 20 {
			uid := members[i*300+j]
			_, data := c.rest(n, "POST", "/token/user", "", nil, `{"name":"m`+strconv.Itoa(i*300+j)+`","password":"pw"}`)
			var tok struct{ Token string }
			json.Unmarshal(data, &tok)
			devices = append(devices, c.login(n, uid, tok.Token, "", 0))
		}
	}
	rc := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer rc.Close()
	time.Sleep(500 * time.Millisecond) // subscriptions settle
	before := commandCalls(t, rc, "publish")
	code, data := c.rest(c.nodes[1], "POST", "/message/send", c.admin, nil,
		`{"targets":[`+num(g)+`],"type":2,"content":"to 1000","content_type":0,"from_user_id":`+num(owner)+`}`)
	if code != 200 {
		t.Fatalf("send: %d %s", code, data)
	}
	for _, d := range devices {
		d.waitConv(t, g, 1, 10*time.Second)
	}
	if n := commandCalls(t, rc, "publish") - before; n != 1 {
		t.Errorf("one message to a 1,000-member group took %d PUBLISH calls, want 1", n)
	}
}

// sendLoop sends n chat messages from one user to another through REST on
// the node, one after another, and returns their ids in order.
func (c *cluster) sendLoop(pick func(i int) *node, from, to uint64, n int, pause time.Duration) []uint64 {
	ids := make([]uint64, 0, n)
	for i := range n {
		nd := pick(i)
		req, _ := http.NewRequest("POST", nd.http+"/message/send", strings.NewReader(
			`{"targets":[`+num(to)+`],"type":1,"content":"m`+strconv.Itoa(i)+`","content_type":0,"from_user_id":`+num(from)+
				`,"transaction_id":"t`+strconv.Itoa(i)+`"}`))
		req.Header.Set("app_id", c.app)
		req.Header.Set("access-token", c.admin)
		for attempt := 0; ; attempt++ {
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				var env struct {
					Code int `json:"code"`
					Data struct {
						MsgIDs []uint64 `json:"msg_ids"`
					}
				}
				json.NewDecoder(resp.Body).Decode(&env)
				resp.Body.Close()
				if env.Code == 200 {
					break
				}
			}
			if attempt > 50 {
				c.t.Errorf("send %d failed: %v", i, err)
				return ids
			}
			time.Sleep(100 * time.Millisecond)
			req.Body, _ = req.GetBody()
		}
		ids = append(ids, uint64(i))
		time.Sleep(pause)
	}
	return ids
}

// checkAll checks that the device holds n messages from the peer, each
// once, in order m0, m1, …
func checkAll(t *testing.T, d *device, peer uint64, n int) {
	t.Helper()
	got := d.waitConv(t, peer, n, 30*time.Second)
	for i, m := range got {
		if b := bodyOf(t, m); b.Content != "m"+strconv.Itoa(i) {
			t.Fatalf("device %v: message %d is %q", d.xid, i, b.Content)
		}
	}
	d.Read(func(v client.View) {
		if len(v.Conv(peer)) != n || v.Dups() != 0 {
			t.Errorf("device %v: %d messages, %d twice; want %d once", d.xid, len(v.Conv(peer)), v.Dups(), n)
		}
	})
}

func TestNodeKilledWhileMessagesFlow(t *testing.T) {
	// kill -9 of the node holding a device, mid-stream: the device
	// reconnects to another node and ends with every message once, in
	// order; a device on a surviving node misses nothing either.
	c := newCluster(t, 3, sharedRedis(t), "--presence-ttl", "3s")
	a, b, cn := c.nodes[0], c.nodes[1], c.nodes[2]
	sender, _ := c.user("sender")
	uid, tok := c.user("reader")
	onB := c.login(b, uid, tok, "phone", 0)
	onC := c.login(cn, uid, tok, "tablet", 0)
	const n = 200
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.sendLoop(func(int) *node { return a }, sender, uid, n, 5*time.Millisecond)
	}()
	onB.waitConv(t, sender, 50, 20*time.Second)
	b.kill()
	// The app reconnects (to A) with its deviceSN and pulls from key 0.
	back := c.login(a, uid, tok, "phone", onB.xid.DeviceSN)
	if err := back.Pull(context.Background(), sender, 0); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	checkAll(t, onC, sender, n)
	// The reconnected device was sent what came after the read position:
	// all of it, since nothing was marked read.
	checkAll(t, back, sender, n)
}

func TestRedisRestartWhileMessagesFlow(t *testing.T) {
	// Redis dies and comes back while messages flow: sends keep working,
	// /readyz reports the bus degraded, and when Redis is back delivery
	// resumes by itself and devices end with every message once.
	r := startRedis(t)
	c := newCluster(t, 2, []string{"--redis", r.url(), "--bus-probe-interval", "500ms"})
	a, b := c.nodes[0], c.nodes[1]
	sender, _ := c.user("sender")
	uid, tok := c.user("reader")
	d := c.login(b, uid, tok, "phone", 0)
	const n = 150
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.sendLoop(func(int) *node { return a }, sender, uid, n, 20*time.Millisecond)
	}()
	d.waitConv(t, sender, 20, 20*time.Second)
	r.kill()
	eventually(t, 10*time.Second, "node B reports the bus degraded", func() bool {
		resp, err := http.Get(b.http + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	time.Sleep(time.Second)
	r.start()
	wg.Wait()
	checkAll(t, d, sender, n)
	eventually(t, 20*time.Second, "node B ready again", func() bool {
		resp, err := http.Get(b.http + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func TestRedisCluster(t *testing.T) {
	// The same cross-node delivery over a three-shard Redis Cluster with
	// sharded pub/sub.
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatalf("redis-cli is not installed: %v", err)
	}
	var shards []*redisServer
	var addrs []string
	for range 3 {
		s := startRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
		shards = append(shards, s)
		addrs = append(addrs, s.addr())
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v: %s", err, out)
	}
	rc := redis.NewClient(&redis.Options{Addr: addrs[0]})
	eventually(t, 20*time.Second, "the cluster is ok", func() bool {
		info, err := rc.ClusterInfo(context.Background()).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	})
	rc.Close()
	url := "redis://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]
	c := newCluster(t, 3, []string{"--redis", url, "--redis-cluster", "--redis-prefix", "imgatecluster"})
	crossNode(t, c)
	// Sharded pub/sub it is: the shards saw SPUBLISH, not PUBLISH.
	var spublish int
	for _, s := range shards {
		cl := redis.NewClient(&redis.Options{Addr: s.addr()})
		spublish += commandCalls(t, cl, "spublish")
		if n := commandCalls(t, cl, "publish"); n != 0 {
			t.Errorf("shard %s saw %d PUBLISH", s.addr(), n)
		}
		cl.Close()
	}
	if spublish == 0 {
		t.Error("no SPUBLISH on any shard")
	}
	_ = xsync.Status_OK
}

func TestGracefulDrain(t *testing.T) {
	// SIGTERM: the node closes its sessions with 1001 so that they
	// reconnect elsewhere, finishes what it was doing, and exits 0 within
	// its deadline (--shutdown-timeout 3s here); new connections are
	// refused meanwhile.
	c := newCluster(t, 2, sharedRedis(t))
	a, b := c.nodes[0], c.nodes[1]
	sender, _ := c.user("sender")
	uid, tok := c.user("reader")
	d := c.login(b, uid, tok, "phone", 0)
	c.sendLoop(func(int) *node { return b }, sender, uid, 20, 0)
	d.waitConv(t, sender, 20, 10*time.Second)
	start := time.Now()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, d, 1001)
	err := b.cmd.Wait()
	b.cmd = nil
	if err != nil {
		t.Errorf("node exited with %v, want status 0", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("drain took %s; the deadline is 3s", took)
	}
	// The device reconnects to the other node and gets what follows.
	back := c.login(a, uid, tok, "phone", d.xid.DeviceSN)
	c.sendLoop(func(int) *node { return a }, sender, uid, 1, 0)
	back.Pull(context.Background(), sender, 0)
	back.waitConv(t, sender, 1, 10*time.Second)
}
