// Package metrics defines what imgate exports to Prometheus. One Metrics
// value holds every collector; the command registers it on a registry of
// its own and hands it to the parts that count (the delivery core, the
// gateway, the REST API, the Redis bus). Nothing is global: tests build as
// many as they like.
//
// Every latency is a histogram, not a summary, so that percentiles
// aggregate across nodes. No label carries a user, group or app id.
package metrics

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Kind is the kind of what reaches a device: a message (or operation) of
// a 1:1 chat, one of a group, or a notice.
type Kind int

// Kinds, the values of the "kind" label.
const (
	Chat Kind = iota
	Group
	Notice
	nKinds
)

var kindNames = [nKinds]string{"chat", "group", "notice"}

func (k Kind) String() string { return kindNames[k] }

// Path is how something reached a device: pushed by the server as it
// happened, or in the answer to the device's pull (after a NOTICE, a gap,
// or a reconnect).
type Path int

// Paths, the values of the "path" label.
const (
	Push Path = iota
	Sync
	nPaths
)

var pathNames = [nPaths]string{"push", "sync"}

func (p Path) String() string { return pathNames[p] }

// Close reasons, the values of imgate_session_closes_total's "reason"
// label; the gateway maps its close codes to these.
var CloseReasons = []string{
	"client", "shutdown", "login_timeout", "login_failed", "kicked", "idle",
	"slow", "protocol", "too_big", "framing", "write_error", "token",
}

// LatencyBuckets are the fan-out histogram's bounds in seconds: fine
// below a second, where pushes land, and coarse up to an hour, where
// devices that were offline sync.
var LatencyBuckets = []float64{
	0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
}

// stageBuckets are the bounds of the stage histograms (store commit, bus
// lag, queue time, REST requests).
var stageBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// Metrics holds imgate's collectors. Its methods are safe for concurrent
// use and cheap enough for the per-delivery path: the labelled children
// are resolved once, here, not per observation.
type Metrics struct {
	fanout     [nKinds][nPaths]prometheus.Observer
	deliveries [nKinds][nPaths]prometheus.Counter
	accepted   [nKinds]prometheus.Counter

	// StoreCommit is the time to store one batch of messages in one
	// transaction; StoreBatch how many messages the batch held.
	StoreCommit prometheus.Histogram
	StoreBatch  prometheus.Histogram
	storeErrors *prometheus.CounterVec

	// BusLag is the time from an event's publish on one node to its
	// receipt on another.
	BusLag prometheus.Histogram
	// QueueTime is the time a frame waits in a session's write queue.
	QueueTime prometheus.Histogram
	// WriteBatch is how many frames one wake of a session's writer
	// wrote, and how many metas they carried.
	WriteBatch prometheus.Histogram

	// Connections are open WebSocket connections, logged in or not;
	// Devices the logged-in ones.
	Connections prometheus.Gauge
	Devices     prometheus.Gauge
	closes      map[string]prometheus.Counter

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	cacheLookups *prometheus.CounterVec

	delivery      deliveryCounters
	invalidations invalidationCounters
	rateLimited   *prometheus.CounterVec
	passwords     [nPasswordResults]prometheus.Counter
	connRefusals  prometheus.Counter
	files         fileCounters
	webhooks      webhookCounters

	roundTrips map[string]prometheus.Counter // by store operation
	logins     prometheus.Counter

	reg prometheus.Registerer
}

// New returns imgate's collectors, registered on reg. A nil reg leaves
// them unregistered: they count, and nobody sees it (parts built without
// metrics use that).
func New(reg prometheus.Registerer) *Metrics {
	fanout := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "imgate_fanout_latency_seconds",
		Help:    "Time from a message's acceptance (REST or WebSocket) to the write of its frame to each recipient device's socket, by kind (chat, group, notice) and path (push: sent as it happened; sync: in the answer to the device's pull).",
		Buckets: LatencyBuckets,
	}, []string{"kind", "path"})
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_deliveries_total",
		Help: "Messages, operations and notices written to device sockets, one per device, by kind and path.",
	}, []string{"kind", "path"})
	accepted := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_messages_accepted_total",
		Help: "Messages stored for the first time (resends that were deduplicated do not count), by kind (chat, group).",
	}, []string{"kind"})
	roundTrips := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_store_round_trips_total",
		Help: "Calls into the database driver (Exec, Query, Begin, Commit, Rollback), by operation: login, send, pull, unread, notices, rest, other.",
	}, []string{"op"})
	closes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_session_closes_total",
		Help: "WebSocket sessions ended, by reason: client, shutdown, login_timeout, login_failed, kicked, idle, slow (slow consumer), protocol, too_big, framing, write_error.",
	}, []string{"reason"})
	m := &Metrics{
		StoreCommit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imgate_store_commit_seconds", Help: "Time to store one batch of messages in one transaction.",
			Buckets: stageBuckets,
		}),
		StoreBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imgate_store_batch_messages", Help: "Messages stored per transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imgate_store_errors_total",
			Help: "Failed store operations, by operation: append (a batch of messages) and request (a REST request or WebSocket frame answered with an internal error).",
		}, []string{"op"}),
		BusLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imgate_bus_lag_seconds", Help: "Time from an event's publish on one node to its receipt from Redis on another.",
			Buckets: stageBuckets,
		}),
		QueueTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imgate_session_queue_seconds", Help: "Time a frame waits in a session's write queue before its write begins.",
			Buckets: stageBuckets,
		}),
		WriteBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "imgate_session_write_frames", Help: "Frames a session's writer found queued at one wake, before merging them into fewer WebSocket messages.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		Connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "imgate_connections", Help: "Open WebSocket connections, logged in or not.",
		}),
		Devices: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "imgate_devices_online", Help: "Logged-in WebSocket sessions (devices) on this node.",
		}),
		closes: map[string]prometheus.Counter{},
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imgate_http_requests_total",
			Help: "REST requests, by route template, method and MaxIM code of the answer (200: success).",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "imgate_http_request_duration_seconds", Help: "Time to answer a REST request, by route template and method.",
			Buckets: stageBuckets,
		}, []string{"route", "method"}),
		cacheLookups: newCacheLookups(),
		roundTrips:   map[string]prometheus.Counter{},
		logins: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imgate_logins_total", Help: "WebSocket logins (PROVISION) accepted.",
		}),
		reg: reg,
	}
	for _, op := range StoreOps {
		m.roundTrips[op] = roundTrips.WithLabelValues(op)
	}
	for k := range nKinds {
		m.accepted[k] = accepted.WithLabelValues(k.String())
		for p := range nPaths {
			m.fanout[k][p] = fanout.WithLabelValues(k.String(), p.String())
			m.deliveries[k][p] = deliveries.WithLabelValues(k.String(), p.String())
		}
	}
	for _, r := range CloseReasons {
		m.closes[r] = closes.WithLabelValues(r)
	}
	for _, op := range []string{"append", "request"} {
		m.storeErrors.WithLabelValues(op)
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "imgate_build_info", Help: "Always 1; the labels tell the version, revision and Go version of the running binary.",
	}, []string{"version", "revision", "goversion"})
	buildInfo.WithLabelValues(build()).Set(1)
	m.delivery = newDeliveryCounters(m)
	m.invalidations = newInvalidationCounters(m)
	m.rateLimited = newRateLimited(m)
	m.rateLimited.WithLabelValues("user")
	m.rateLimited.WithLabelValues("app")
	m.rateLimited.WithLabelValues("unread")
	m.passwords = newPasswordCounters(m)
	m.connRefusals = newConnRefusals(m)
	m.files = newFileCounters(m)
	m.webhooks = newWebhookCounters(m)
	m.register(fanout, deliveries, accepted, closes, m.StoreCommit, m.StoreBatch, m.storeErrors, m.BusLag,
		m.QueueTime, m.WriteBatch, m.Connections, m.Devices, m.httpRequests, m.httpDuration, m.cacheLookups, buildInfo,
		roundTrips, m.logins)
	return m
}

// NewRegistry returns a registry holding imgate's collectors and the Go
// runtime's and the process's (memory, goroutines, file descriptors),
// and the Metrics to count with.
func NewRegistry() (*prometheus.Registry, *Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg, New(reg)
}

func (m *Metrics) register(cs ...prometheus.Collector) {
	if m.reg == nil {
		return
	}
	for _, c := range cs {
		m.reg.MustRegister(c)
	}
}

// build is the binary's version, VCS revision and Go version.
func build() (version, revision, goversion string) {
	version, revision, goversion = "devel", "unknown", runtime.Version()
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		version = v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return
}

// Delivered counts n items of a kind written to one device by a path,
// accepted at the time given (unix nanoseconds), and observes their
// fan-out latency.
func (m *Metrics) Delivered(k Kind, p Path, accepted int64, n int, now time.Time) {
	if n <= 0 {
		return
	}
	m.deliveries[k][p].Add(float64(n))
	if accepted <= 0 {
		return
	}
	d := max(now.Sub(time.Unix(0, accepted)).Seconds(), 0)
	o := m.fanout[k][p]
	for range n {
		o.Observe(d)
	}
}

// Accepted counts n messages of a kind stored for the first time.
func (m *Metrics) Accepted(k Kind, n int) {
	if n > 0 {
		m.accepted[k].Add(float64(n))
	}
}

// Closed counts a session ended for the reason, one of CloseReasons.
func (m *Metrics) Closed(reason string) {
	if c, ok := m.closes[reason]; ok {
		c.Inc()
	}
}

// StoreError counts a failed store operation: "append" or "request".
func (m *Metrics) StoreError(op string) { m.storeErrors.WithLabelValues(op).Inc() }

// Request counts a REST request to a route template with the MaxIM code
// of its answer, and observes how long it took.
func (m *Metrics) Request(route, method string, code int, took time.Duration) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(took.Seconds())
}

// BusStats are a bus's running counts.
type BusStats struct {
	Published, PublishErrors, Received, Dropped, Resubscribed int64
}

// WatchBus exports a bus's counters, read from stats at each scrape.
func (m *Metrics) WatchBus(stats func() BusStats) {
	counter := func(name, help string, get func(BusStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(get(stats())) })
	}
	m.register(
		counter("imgate_bus_published_total", "Events published to Redis.", func(s BusStats) int64 { return s.Published }),
		counter("imgate_bus_publish_errors_total", "Events that could not be published to Redis (their devices on other nodes sync instead).", func(s BusStats) int64 { return s.PublishErrors }),
		counter("imgate_bus_received_total", "Events received from Redis.", func(s BusStats) int64 { return s.Received }),
		counter("imgate_bus_dropped_total", "Events received from Redis and dropped because a channel's queue was full (their devices sync instead).", func(s BusStats) int64 { return s.Dropped }),
		counter("imgate_bus_resubscriptions_total", "Times the bus remade its Redis subscriptions after losing them (reconnects); each resyncs the node's sessions.", func(s BusStats) int64 { return s.Resubscribed }),
	)
}

// WatchReady exports imgate_ready, 1 when check (what /readyz runs)
// passes at scrape time, else 0.
func (m *Metrics) WatchReady(check func() error) {
	m.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "imgate_ready", Help: "1 when the node is ready (store and bus reachable, as /readyz), 0 when not.",
	}, func() float64 {
		if check() != nil {
			return 0
		}
		return 1
	}))
}
