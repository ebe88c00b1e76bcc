// Package clustertest runs several imgate serve processes on one Postgres
// and one Redis and checks that they behave as one server.
package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/internal/pgtest"
)

// binary builds imgate with the race detector once for all tests;
// fastBinary without it, for tests whose load the race detector's
// overhead would turn into minutes (they check behaviour under load, not
// data races, which the others cover).
var (
	binary     = sync.OnceValues(func() (string, error) { return build("-race") })
	fastBinary = sync.OnceValues(func() (string, error) { return build() })
)

func build(flags ...string) (string, error) {
	dir, err := os.MkdirTemp("", "imgate-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "imgate")
	args := append(append([]string{"build"}, flags...), "-o", bin, "../../cmd/imgate")
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, out)
	}
	return bin, nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// redisServer is a Redis of the test's own, so that it can be restarted
// and its command counts read without other tests' traffic.
type redisServer struct {
	t    *testing.T
	port int
	args []string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T, args ...string) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (scripts/services.sh installs it): %v", err)
	}
	r := &redisServer{t: t, port: freePort(t), args: args}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) start() {
	r.t.Helper()
	dir := r.t.TempDir()
	args := append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}, r.args...)
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer c.Close()
	eventually(r.t, 10*time.Second, "redis answers", func() bool { return c.Ping(context.Background()).Err() == nil })
}

func (r *redisServer) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }
func (r *redisServer) url() string  { return "redis://" + r.addr() + "/0" }

// node is one imgate serve process.
type node struct {
	t       *testing.T
	name    string
	args    []string
	cmd     *exec.Cmd
	http    string // http://127.0.0.1:port
	metrics string // http://127.0.0.1:port/metrics
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cluster is nodes sharing one Postgres database and one Redis.
type cluster struct {
	t      *testing.T
	bin    string
	dsn    string
	store  []string // flags naming the store
	redis  []string // flags naming the Redis
	app    string
	admin  string
	nodes  []*node
	extras []string
	// logDir, when set, holds the nodes' logs (at level info) rather
	// than memory.
	logDir string
}

// newCluster creates the app on a fresh database and starts n nodes with
// the Redis flags and any extra serve flags.
func newCluster(t *testing.T, n int, redisFlags []string, extra ...string) *cluster {
	t.Helper()
	return newClusterOf(t, binary, n, redisFlags, extra...)
}

// newClusterOf is newCluster with the binary bin builds.
func newClusterOf(t *testing.T, bin func() (string, error), n int, redisFlags []string, extra ...string) *cluster {
	t.Helper()
	path, err := bin()
	if err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DSN(t)
	c := &cluster{t: t, bin: path, dsn: dsn, store: []string{"--postgres", dsn}, redis: redisFlags, extras: extra}
	c.createApp()
	for i := range n {
		c.start(fmt.Sprintf("n%d", i))
	}
	return c
}

// newEmbedded starts one node on a fresh embedded store, with the extra
// serve flags.
func newEmbedded(t *testing.T, bin func() (string, error), extra ...string) *cluster {
	t.Helper()
	path, err := bin()
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, bin: path, store: []string{"--data-dir", filepath.Join(t.TempDir(), "data")}, extras: extra}
	c.createApp()
	c.start("n0")
	return c
}

// createApp creates the app the tests use on the cluster's store.
func (c *cluster) createApp() {
	c.t.Helper()
	out, err := exec.Command(c.bin, append([]string{"app", "create", "--id", "clusterapp", "--name", "cluster"}, c.store...)...).Output()
	if err != nil {
		c.t.Fatalf("app create: %v", err)
	}
	var creds struct {
		AppID       string `json:"app_id"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(out, &creds); err != nil {
		c.t.Fatalf("app create printed %s", out)
	}
	c.app, c.admin = creds.AppID, creds.AccessToken
}

// start starts a node and waits until it answers.
func (c *cluster) start(name string) *node {
	c.t.Helper()
	port, mport := freePort(c.t), freePort(c.t)
	level := "debug"
	if c.logDir != "" {
		level = "info"
	}
	args := append([]string{"serve", "--listen", "127.0.0.1:" + strconv.Itoa(port),
		"--metrics-listen", "127.0.0.1:" + strconv.Itoa(mport),
		"--node", name, "--password-cost", "4", "--log-level", level, "--send-rate", "100000", "--user-send-rate", "0", "--max-conns-per-ip", "0", "--shutdown-timeout", "3s"}, c.redis...)
	args = append(append(args, c.store...), c.extras...)
	n := &node{t: c.t, name: name, args: args, http: "http://127.0.0.1:" + strconv.Itoa(port),
		metrics: "http://127.0.0.1:" + strconv.Itoa(mport) + "/metrics", logs: &syncBuffer{}}
	c.run(n)
	c.t.Cleanup(func() {
		n.kill()
		if c.t.Failed() && c.logDir == "" {
			c.t.Logf("logs of node %s:\n%s", n.name, lastLines(n.logs.String(), 40))
		}
	})
	c.nodes = append(c.nodes, n)
	return n
}

// run starts the node's process, on the ports it had if it ran before,
// and waits until it answers. With the cluster's logDir its output goes
// to NAME.log there (appended), else to memory.
func (c *cluster) run(n *node) {
	c.t.Helper()
	n.cmd = exec.Command(c.bin, n.args...)
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if c.logDir != "" {
		f, err := os.OpenFile(filepath.Join(c.logDir, n.name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			c.t.Fatal(err)
		}
		defer f.Close() // the child holds its own descriptor
		n.cmd.Stdout, n.cmd.Stderr = f, f
	}
	if err := n.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	eventually(c.t, 20*time.Second, "node "+n.name+" answers", func() bool {
		resp, err := http.Get(n.http + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// metric is the value of one series on the node's /metrics, written as
// it appears there (name{labels}); -1 when absent.
func (n *node) metric(series string) float64 {
	n.t.Helper()
	resp, err := http.Get(n.metrics)
	if err != nil {
		n.t.Fatalf("scrape %s: %v", n.name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				n.t.Fatalf("%s on %s: %q", series, n.name, line)
			}
			return f
		}
	}
	return -1
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// kill ends the node at once, as kill -9 does.
func (n *node) kill() {
	if n.cmd != nil && n.cmd.Process != nil {
		n.cmd.Process.Signal(syscall.SIGCONT) // a paused node dies too
		n.cmd.Process.Kill()
		n.cmd.Wait()
		n.cmd = nil
	}
}

func (n *node) ws() string { return "ws" + strings.TrimPrefix(n.http, "http") + "/ws" }

// rest calls a node's REST API and returns the envelope's code and data.
func (c *cluster) rest(n *node, method, path, token string, extra map[string]string, body string) (int, json.RawMessage) {
	c.t.Helper()
	req, _ := http.NewRequest(method, n.http+path, strings.NewReader(body))
	req.Header.Set("app_id", c.app)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("access-token", token)
	}
	for k, v := range extra {
		req.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Code int             `json:"code"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		c.t.Fatalf("%s %s: %s", method, path, raw)
	}
	return env.Code, env.Data
}

// user registers a user and returns its id and token.
func (c *cluster) user(name string) (uint64, string) {
	c.t.Helper()
	n := c.nodes[0]
	if code, data := c.rest(n, "POST", "/user/register/v2", "", nil, `{"username":"`+name+`","password":"pw"}`); code != 200 {
		c.t.Fatalf("register %s: %d %s", name, code, data)
	}
	var tok struct {
		Token  string `json:"token"`
		UserID uint64 `json:"user_id"`
	}
	_, data := c.rest(n, "POST", "/token/user", "", nil, `{"name":"`+name+`","password":"pw"}`)
	if err := json.Unmarshal(data, &tok); err != nil || tok.Token == "" {
		c.t.Fatalf("token of %s: %s", name, data)
	}
	return tok.UserID, tok.Token
}

// device is a logged-in session on one node.
type device struct {
	*client.Session
	xid *xsync.XID
}

// login connects a device of the user to a node; it fails the test unless
// the login succeeds.
func (c *cluster) login(n *node, uid uint64, tok, guid string, sn uint32) *device {
	c.t.Helper()
	d, st := c.tryLogin(n, uid, tok, guid, sn)
	if st.GetCode() != xsync.Status_OK {
		c.t.Fatalf("login of %d on %s: %v", uid, n.name, st)
	}
	return d
}

func (c *cluster) tryLogin(n *node, uid uint64, tok, guid string, sn uint32) (*device, *xsync.Status) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, n.ws(), client.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	p, err := conn.Login(ctx, uid, sn, tok, guid)
	if err != nil {
		c.t.Fatal(err)
	}
	if p.Status.GetCode() != xsync.Status_OK {
		conn.Close()
		return nil, p.Status
	}
	c.t.Cleanup(func() { conn.Close() })
	return &device{Session: client.Start(conn, false), xid: p.Xid}, p.Status
}

// waitConv waits until the device holds n metas of a conversation.
func (d *device) waitConv(t *testing.T, uid uint64, n int, within time.Duration) []*xsync.Meta {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got []*xsync.Meta
	err := d.Wait(ctx, func(v client.View) bool {
		got = v.Conv(uid)
		return len(got) >= n
	})
	if err != nil {
		t.Fatalf("device %v: %d of %d metas of %d: %v", d.xid, len(got), n, uid, err)
	}
	return got
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

func num(n uint64) string { return strconv.FormatUint(n, 10) }

func text(typ xsync.MessageBody_Type, content string) *xsync.MessageBody {
	return &xsync.MessageBody{Type: typ, Ctype: xsync.MessageBody_TEXT, Content: content}
}
