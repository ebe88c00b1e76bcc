package clustertest

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/loadtest"
)

// private is a cluster on a Postgres and a Redis of its own, which the
// chaos suite and the soak stop, restart and pause (the machine's shared
// servers are never touched). Its nodes run the binary without the race
// detector: these tests measure behaviour under load.
type private struct {
	*cluster
	pg    *pgtest.Server
	redis *redisServer
}

// newPrivate starts a private Postgres and Redis and n nodes on them,
// logging to logDir (memory when empty), with the extra serve flags.
func newPrivate(t *testing.T, n int, logDir string, extra ...string) *private {
	t.Helper()
	bin, err := fastBinary()
	if err != nil {
		t.Fatal(err)
	}
	pg := pgtest.StartServer(t)
	rs := startRedis(t)
	c := &cluster{t: t, bin: bin, dsn: pg.DSN(), store: []string{"--postgres", pg.DSN()},
		redis: []string{"--redis", rs.url()}, extras: extra, logDir: logDir}
	c.createApp()
	for i := range n {
		c.start(fmt.Sprintf("n%d", i))
	}
	return &private{cluster: c, pg: pg, redis: rs}
}

// runner is a load tool on every node of the cluster.
func (c *cluster) runner(t *testing.T, grace time.Duration, faults bool) *loadtest.Runner {
	t.Helper()
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, n.http)
	}
	r, err := loadtest.New(loadtest.Config{URL: strings.Join(urls, ","), AppID: c.app, AdminToken: c.admin,
		Grace: grace, NoPostgresCPU: true, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sample is what one scrape of a node's /metrics said.
type sample struct {
	rss        float64 // process_resident_memory_bytes
	goroutines float64 // go_goroutines
	online     float64 // imgate_devices_online
}

// scrape reads a node's sample; an error when the node does not answer
// within 5 s (it is down or paused).
func (n *node) scrape() (sample, error) {
	hc := http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(n.metrics)
	if err != nil {
		return sample{}, err
	}
	defer resp.Body.Close()
	var s sample
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			s.rss = f
		case "go_goroutines":
			s.goroutines = f
		case "imgate_devices_online":
			s.online = f
		}
	}
	return s, sc.Err()
}

// pause stops the node's process (SIGSTOP): its connections stay open
// and nothing answers.
func (n *node) pause() {
	n.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) resume() {
	n.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		n.t.Fatal(err)
	}
}

// allReady waits until every node's /readyz answers 200 and says how
// long that took; an error after within.
func (c *cluster) allReady(within time.Duration) (time.Duration, error) {
	start := time.Now()
	for _, n := range c.nodes {
		for !ready(n) {
			if time.Since(start) > within {
				return time.Since(start), fmt.Errorf("node %s not ready within %s", n.name, within)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return time.Since(start), nil
}
