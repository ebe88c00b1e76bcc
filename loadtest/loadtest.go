// Package loadtest drives a running imgate the way many apps would and
// checks what it delivers. It sets up users, tokens and groups through the
// REST API, logs devices in over XSYNC (package client), runs a scenario
// (chat, group, idle, storm or mixed), and reports throughput, end-to-end
// latency from an HDR histogram, and correctness: every expected delivery
// must arrive exactly once and in order per sender and receiver, whether
// pushed live or synced after a reconnect. With a metrics URL it also
// reports the server's RSS and goroutines per device, and for each phase
// (logins, sending, a storm's reconnect wave) its CPU per login, message
// and delivery, how it delivered (push or sync), why it sent NOTICEs,
// where pulls were answered from and its store round trips; with
// Postgres on the same machine, Postgres's CPU per unit too.
//
// Latency is measured from the sender's clock to the receiving device's,
// both in this process: a sender writes its send time and a sequence
// number in each message's content.
package loadtest

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imgate/imgate"
)

// Config says where imgate is and how to set a scenario up. A zero field
// takes the default in its comment.
type Config struct {
	// URL is imgate's REST base, e.g. http://127.0.0.1:8080; the
	// WebSocket is its /ws.
	URL string
	// AppID and AdminToken are an app's id and admin access token.
	AppID, AdminToken string
	// Prefix starts every username of the run (letters, digits and
	// underscores); default "lt_" and random letters, unique per run.
	Prefix string
	// Password of every user; default "loadtest".
	Password string
	// MaxList is the longest list in one REST call (imgate's --max-list);
	// default 500.
	MaxList int
	// Concurrency is how many REST calls and logins run at once during
	// setup; default 64.
	Concurrency int
	// SourceAddrs spreads connections over 127.0.0.1..127.0.0.N when the
	// URL's host is an IPv4 loopback address; 0 picks one address per
	// 20,000 devices.
	SourceAddrs int
	// Grace is how long to wait after the last send for deliveries still
	// missing; default 10s.
	Grace time.Duration
	// MetricsURL is the server's Prometheus endpoint (e.g.
	// http://127.0.0.1:9464/metrics, from imgate serve --metrics-listen),
	// or one per node, comma-separated, as many as URL's nodes; figures
	// are summed over them. When set, reports carry the RSS, goroutines
	// and devices online before the devices logged in and while they
	// were held, and each phase's CPU and counters (Phase).
	MetricsURL string
	// NoPostgresCPU turns off reading the CPU time of the processes named
	// postgres on this machine at each phase's start and end, which is
	// otherwise done when there are such processes.
	NoPostgresCPU bool
	// Faults says that the run is meant to meet failures (a node killed
	// or paused, the store or Redis down): refused and unanswered sends
	// and devices the server dropped are counted, by code and reason,
	// but fail the run only when a device could not come back; lost,
	// duplicated, reordered and unexpected deliveries still fail it.
	Faults bool
	// Progress receives progress bars; nil shows none.
	Progress io.Writer
}

// portsPerAddr is how many connections one source address is given when
// SourceAddrs is 0: below Linux's default ephemeral port range (28,232).
const portsPerAddr = 20000

func (c Config) withDefaults() (Config, error) {
	if c.URL == "" || c.AppID == "" || c.AdminToken == "" {
		return c, fmt.Errorf("loadtest: the URL, the app id and an admin token are required")
	}
	if c.Prefix == "" {
		c.Prefix = "lt_" + randomLetters(8) + "_"
	}
	if err := imgate.ValidUsername(c.Prefix + "0"); err != nil {
		return c, fmt.Errorf("loadtest: prefix %q: %w", c.Prefix, err)
	}
	if c.Password == "" {
		c.Password = "loadtest"
	}
	c.MaxList = defaultInt(c.MaxList, 500)
	c.Concurrency = defaultInt(c.Concurrency, 64)
	if c.Grace <= 0 {
		c.Grace = 10 * time.Second
	}
	return c, nil
}

func defaultInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func randomLetters(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// Runner runs scenarios against one imgate.
type Runner struct {
	cfg Config
	api *api
	// nodes are the nodes' REST and WebSocket URLs, and which are down.
	nodes *nodes
	host  *url.URL // the first node's REST base, parsed
	// metrics are the metrics endpoints, one or one per node.
	metrics []string
	// procDir is where to read processes' CPU time: /proc, but for tests.
	procDir string
	bars    progress
	made    atomic.Int64 // users registered so far, numbering usernames
}

// New checks cfg and makes a Runner.
func New(cfg Config) (*Runner, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var bases, wss []string
	var first *url.URL
	for _, raw := range strings.Split(cfg.URL, ",") {
		u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("loadtest: URL %q is not http(s)://host[:port]", raw)
		}
		ws := *u
		ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
		ws.Path = strings.TrimRight(u.Path, "/") + "/ws"
		bases, wss = append(bases, u.String()), append(wss, ws.String())
		if first == nil {
			first = u
		}
	}
	metrics, err := metricsURLs(cfg.MetricsURL, len(bases))
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute,
	}}
	ns := newNodes(bases, wss)
	return &Runner{
		cfg:     cfg,
		api:     &api{nodes: ns, app: cfg.AppID, token: cfg.AdminToken, hc: hc},
		nodes:   ns,
		host:    first,
		metrics: metrics,
		procDir: "/proc",
		bars:    progress{w: cfg.Progress},
	}, nil
}

// metricsURLs splits the comma-separated metrics endpoints: none, one
// (a single node's, or the only one there is), or one per node.
func metricsURLs(list string, nodes int) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var urls []string
	for _, raw := range strings.Split(list, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("loadtest: metrics URL %q is not http(s)://host[:port]/path", raw)
		}
		urls = append(urls, u.String())
	}
	if len(urls) > 1 && len(urls) != nodes {
		return nil, fmt.Errorf("loadtest: %d metrics URLs for %d nodes: give one, or one per node", len(urls), nodes)
	}
	return urls, nil
}

// Prefix is the username prefix of this runner's users.
func (r *Runner) Prefix() string { return r.cfg.Prefix }
