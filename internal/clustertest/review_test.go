package clustertest

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
)

func oper(typ xsync.MessageOperation_Type, mid, conv uint64) *xsync.MessageBody {
	return &xsync.MessageBody{
		Type: xsync.MessageBody_OPER, Ctype: xsync.MessageBody_COMMAND,
		Operation: &xsync.MessageOperation{Type: typ, Mid: mid, Xid: &xsync.XID{Uid: conv}},
	}
}

// hasOp tells whether the device holds an operation of the type on mid in
// the conversation with uid.
func hasOp(t *testing.T, v client.View, uid uint64, typ xsync.MessageOperation_Type, mid uint64) bool {
	for _, m := range v.Conv(uid) {
		if b := bodyOf(t, m); b.Type == xsync.MessageBody_OPER && b.Operation.GetType() == typ && b.Operation.GetMid() == mid {
			return true
		}
	}
	return false
}

func TestOperationOnceOnANodeWithBothUsers(t *testing.T) {
	// A read receipt goes live to the reader's other devices and to the
	// sender, on two user channels. A node holding devices of both users
	// receives it on both; each device must still get it once.
	c := newCluster(t, 2, sharedRedis(t))
	a, b := c.nodes[0], c.nodes[1]
	alice, atok := c.user("alice")
	bob, btok := c.user("bob")
	a1 := c.login(b, alice, atok, "a1", 0)
	b1 := c.login(a, bob, btok, "b1", 0)
	b2 := c.login(b, bob, btok, "b2", 0)
	dl, err := a1.Send(context.Background(), a1.xid, bob, text(xsync.MessageBody_CHAT, "hi"))
	if err != nil || dl.Status.GetCode() != xsync.Status_OK {
		t.Fatalf("send: %v %v", dl, err)
	}
	b1.waitConv(t, alice, 1, 10*time.Second)
	b2.waitConv(t, alice, 1, 10*time.Second)
	if dl, err := b1.Send(context.Background(), b1.xid, alice, oper(xsync.MessageOperation_READ_ACK, dl.ServerMid, alice)); err != nil || dl.Status.GetCode() != xsync.Status_OK {
		t.Fatalf("read ack: %v %v", dl, err)
	}
	for _, d := range []struct {
		dev  *device
		peer uint64
	}{{a1, bob}, {b2, alice}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := d.dev.Wait(ctx, func(v client.View) bool { return hasOp(t, v, d.peer, xsync.MessageOperation_READ_ACK, dl.ServerMid) }); err != nil {
			t.Fatalf("device %v: no READ_ACK: %v", d.dev.xid, err)
		}
		cancel()
	}
	time.Sleep(500 * time.Millisecond) // a second copy would be here by now
	for _, d := range []*device{a1, b2} {
		d.Read(func(v client.View) {
			if v.Dups() != 0 {
				t.Errorf("device %v got %d metas twice", d.xid, v.Dups())
			}
		})
	}
}

// hang freezes the Redis server (SIGSTOP): connections stay open and
// nothing answers, as with a network partition. Cleanup resumes it.
func (r *redisServer) hang() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		r.t.Fatal(err)
	}
	p := r.cmd.Process
	r.t.Cleanup(func() { p.Signal(syscall.SIGCONT) })
}

func TestDrainWhileRedisHangs(t *testing.T) {
	// SIGTERM while Redis does not answer: the node still drains and exits
	// within about its deadline (--shutdown-timeout 3s), rather than
	// waiting on Redis for every event it had queued for the other nodes.
	r := startRedis(t)
	c := newCluster(t, 1, []string{"--redis", r.url()})
	n := c.nodes[0]
	sender, _ := c.user("sender")
	uid, tok := c.user("reader")
	d := c.login(n, uid, tok, "phone", 0)
	r.hang()
	c.sendLoop(func(int) *node { return n }, sender, uid, 20, 0)
	start := time.Now()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, d, 1001)
	exited := make(chan error, 1)
	go func() { exited <- n.cmd.Wait() }()
	select {
	case err := <-exited:
		n.cmd = nil
		if err != nil {
			t.Errorf("node exited with %v, want status 0", err)
		}
		took := time.Since(start)
		t.Logf("drain took %s", took)
		if took > 9*time.Second {
			t.Errorf("drain took %s with Redis hung; the deadline is 3s", took)
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("node still running %s after SIGTERM with Redis hung", time.Since(start).Round(time.Second))
	}
}

// ready tells whether the node's /readyz answers 200.
func ready(n *node) bool {
	hc := http.Client{Timeout: 2 * time.Second} // a paused node never answers
	resp, err := hc.Get(n.http + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestNewConversationWhileRedisIsDown(t *testing.T) {
	// A user's first message to a device on another node, sent while Redis
	// is down, reaches the device once Redis is back: the node's resync
	// announces conversations the session did not know of, too.
	r := startRedis(t)
	c := newCluster(t, 2, []string{"--redis", r.url(), "--bus-probe-interval", "300ms"})
	a, b := c.nodes[0], c.nodes[1]
	uid, tok := c.user("reader")
	friend, _ := c.user("friend")
	newcomer, _ := c.user("newcomer")
	d := c.login(b, uid, tok, "phone", 0)
	// A conversation the device knows, for comparison.
	c.sendText(a, friend, uid, "before")
	d.waitConv(t, friend, 1, 10*time.Second)
	r.kill()
	eventually(t, 10*time.Second, "node B reports the bus degraded", func() bool { return !ready(b) })
	c.sendText(a, friend, uid, "during")
	c.sendText(a, newcomer, uid, "hello")
	r.start()
	eventually(t, 20*time.Second, "node B ready again", func() bool { return ready(b) })
	d.waitConv(t, friend, 2, 10*time.Second)
	d.waitConv(t, newcomer, 1, 10*time.Second)
}

// sendText sends a chat message through REST on the node.
func (c *cluster) sendText(n *node, from, to uint64, content string) {
	c.t.Helper()
	code, data := c.rest(n, "POST", "/message/send", c.admin, nil,
		`{"targets":[`+num(to)+`],"type":1,"content":"`+content+`","content_type":0,"from_user_id":`+num(from)+`}`)
	if code != 200 {
		c.t.Fatalf("send: %d %s", code, data)
	}
}

// startRedisCluster starts a three-shard Redis Cluster of the test's own
// and returns its shards and the --redis URL naming it.
func startRedisCluster(t *testing.T) ([]*redisServer, string) {
	t.Helper()
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
	defer rc.Close()
	eventually(t, 20*time.Second, "the cluster is ok", func() bool {
		info, err := rc.ClusterInfo(context.Background()).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	})
	return shards, "redis://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]
}

func TestRedisClusterShardConnectionCut(t *testing.T) {
	// Sharded pub/sub keeps one subscription connection per shard. When
	// the connection to a shard breaks, delivery through that shard must
	// resume (or what it lost be pulled) like through any other: the
	// node's probe must watch every shard's connection, not only the one
	// that carries its probe channel.
	shards, url := startRedisCluster(t)
	const prefix = "imgateshards"
	c := newCluster(t, 1, []string{"--redis", url, "--redis-cluster", "--redis-prefix", prefix, "--bus-probe-interval", "300ms"})
	a := c.nodes[0]
	sender, _ := c.user("sender")
	var uids []uint64
	var toks []string
	for i := range 12 {
		uid, tok := c.user(fmt.Sprint("r", i))
		uids, toks = append(uids, uid), append(toks, tok)
	}
	b := c.start("n1")

	var addrs []string
	for _, s := range shards {
		addrs = append(addrs, s.addr())
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer cc.Close()
	shardOf := func(ch string) string {
		n, err := cc.MasterForKey(context.Background(), ch)
		if err != nil {
			t.Fatal(err)
		}
		return n.Options().Addr
	}
	probeShard := shardOf(prefix + ":probe:n1")
	byShard := map[string][]int{}
	for i, uid := range uids {
		addr := shardOf(prefix + ":u:" + c.app + ":" + num(uid))
		byShard[addr] = append(byShard[addr], i)
	}

	devs := make([]*device, len(uids))
	for i := range uids {
		devs[i] = c.login(b, uids[i], toks[i], "", 0)
		c.sendText(a, sender, uids[i], "one")
	}
	for _, d := range devs {
		d.waitConv(t, sender, 1, 10*time.Second)
	}
	// Cut the subscription connections of the shards without node B's
	// probe channel.
	var cut []int
	for addr, idx := range byShard {
		if addr == probeShard {
			continue
		}
		rc := redis.NewClient(&redis.Options{Addr: addr})
		if err := rc.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		cut = append(cut, idx...)
	}
	if len(cut) == 0 {
		t.Fatal("every user's channel is on the probe's shard; pick more users")
	}
	time.Sleep(time.Second)
	for _, i := range cut {
		c.sendText(a, sender, uids[i], "two")
	}
	for _, i := range cut {
		devs[i].waitConv(t, sender, 2, 15*time.Second)
	}
}
