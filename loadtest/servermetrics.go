package loadtest

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// The server's Prometheus metrics the tool reads (text exposition
// format), each summed over its series and over the nodes scraped.
const (
	metricRSS        = "process_resident_memory_bytes"
	metricGoroutines = "go_goroutines"
	metricDevices    = "imgate_devices_online"
	metricCPU        = "process_cpu_seconds_total"
	metricDeliveries = "imgate_deliveries_total"        // {kind,path}
	metricNotices    = "imgate_notices_total"           // {cause}
	metricPulls      = "imgate_pulls_total"             // {source}
	metricRoundTrips = "imgate_store_round_trips_total" // {op}
	metricLogins     = "imgate_logins_total"
)

// gauges are the metrics read into a ServerSample.
func gauges() []string { return []string{metricRSS, metricGoroutines, metricDevices} }

// counters are the metrics whose increase over a phase is reported.
func counters() []string {
	return []string{metricCPU, metricDeliveries, metricNotices, metricPulls, metricRoundTrips, metricLogins}
}

// breakdown is the label a counter is reported by; "" sums its series.
func breakdown(metric string) string {
	switch metric {
	case metricDeliveries:
		return "path"
	case metricNotices:
		return "cause"
	case metricPulls:
		return "source"
	case metricRoundTrips:
		return "op"
	}
	return ""
}

// ServerSample is one scrape of the server's metrics, summed over its
// nodes; a metric no node exposed is 0 and named in Missing.
type ServerSample struct {
	RSSBytes      float64  `json:"rss_bytes"`
	Goroutines    float64  `json:"goroutines"`
	DevicesOnline float64  `json:"devices_online"`
	Missing       []string `json:"missing,omitempty"`
}

// String is the sample on one line.
func (s *ServerSample) String() string {
	out := fmt.Sprintf("RSS %.1f MiB, %.0f goroutines, %.0f devices online", s.RSSBytes/(1<<20), s.Goroutines, s.DevicesOnline)
	if len(s.Missing) > 0 {
		out += " (not exposed: " + strings.Join(s.Missing, ", ") + ")"
	}
	return out
}

func (s *ServerSample) has(name string) bool {
	for _, m := range s.Missing {
		if m == name {
			return false
		}
	}
	return true
}

// sampleOf reads the gauges of a scrape.
func sampleOf(found map[string][]series) *ServerSample {
	s := &ServerSample{}
	for _, g := range []struct {
		name string
		v    *float64
	}{{metricRSS, &s.RSSBytes}, {metricGoroutines, &s.Goroutines}, {metricDevices, &s.DevicesOnline}} {
		v := sum(found[g.name])
		if math.IsNaN(v) {
			s.Missing, v = append(s.Missing, g.name), 0
		}
		*g.v = v
	}
	return s
}

// Server is what the server's metrics said before the devices logged in
// and while the scenario held them, the difference per device, and what
// the server (and Postgres, on this machine) spent on each phase.
type Server struct {
	// URL is the metrics endpoints, comma-separated as given.
	URL string `json:"url"`
	// Nodes is how many endpoints were scraped; every figure is their
	// sum.
	Nodes int `json:"nodes"`
	// PostgresProcesses is how many processes named postgres ran on this
	// machine when the run began; 0 when their CPU was not read.
	PostgresProcesses int           `json:"postgres_processes,omitempty"`
	Before            *ServerSample `json:"before,omitempty"`
	During            *ServerSample `json:"during,omitempty"`
	// Devices is the tool's devices online at the second scrape, the
	// divisor of the figures per device.
	Devices             int     `json:"devices"`
	RSSPerDeviceKiB     float64 `json:"rss_per_device_kib"`
	GoroutinesPerDevice float64 `json:"goroutines_per_device"`
	// Phases are what the server spent on each phase of the run, in
	// order.
	Phases []*Phase `json:"phases,omitempty"`
	// Error is the first failed reading after the run began; the phases
	// it would have ended are missing.
	Error string `json:"error,omitempty"`

	probe *probe
	last  *reading // the start of the phase under way; nil after a failure
}

// probe reads the server's metrics from every node's endpoint and
// Postgres's CPU from /proc.
type probe struct {
	hc      *http.Client
	urls    []string
	procDir string // "" when not reading Postgres's CPU
}

// reading is the server's metrics and Postgres's CPU at one moment.
type reading struct {
	at     time.Time
	sample *ServerSample // nil without metrics endpoints
	// counts holds each counter some node exposed, by the value of its
	// breakdown label ("" when it has none), summed over the nodes; a
	// counter no node exposed is absent. (A labelled counter that has
	// not counted anything yet has no series, and looks the same.)
	counts map[string]map[string]float64
	// pg is each Postgres process's CPU ticks by PID; nil when not read.
	pg map[int]uint64
}

// read takes a reading: every endpoint in turn, then /proc.
func (p *probe) read(ctx context.Context) (*reading, error) {
	rd := &reading{at: time.Now(), counts: map[string]map[string]float64{}}
	if len(p.urls) > 0 {
		found, err := p.scrape(ctx)
		if err != nil {
			return nil, err
		}
		rd.sample = sampleOf(found)
		for _, c := range counters() {
			if ss, ok := found[c]; ok {
				rd.counts[c] = byLabel(ss, breakdown(c))
			}
		}
	}
	if p.procDir != "" {
		pg, err := postgresTicks(p.procDir)
		if err != nil {
			return nil, err
		}
		rd.pg = pg
	}
	return rd, nil
}

// scrape reads every node's metrics and merges their series.
func (p *probe) scrape(ctx context.Context) (map[string][]series, error) {
	names := append(gauges(), counters()...)
	all := map[string][]series{}
	for _, u := range p.urls {
		found, err := scrapeOne(ctx, p.hc, u, names)
		if err != nil {
			return nil, err
		}
		for n, ss := range found {
			all[n] = append(all[n], ss...)
		}
	}
	return all, nil
}

// scrapeOne reads the named metrics from one Prometheus endpoint.
func scrapeOne(ctx context.Context, hc *http.Client, url string, names []string) (map[string][]series, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("loadtest: metrics %s: %w", url, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loadtest: metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadtest: metrics %s: HTTP %d", url, resp.StatusCode)
	}
	found, err := parseExposition(resp.Body, names...)
	if err != nil {
		return nil, fmt.Errorf("loadtest: metrics %s: %w", url, err)
	}
	return found, nil
}

// serverBefore takes the first reading, before a scenario's devices log
// in: the start of its first phase. It is nil with neither metrics
// endpoints nor Postgres processes to read. An error here ends the run
// before it starts.
func (r *Runner) serverBefore(ctx context.Context) (*Server, error) {
	p := &probe{hc: r.api.hc, urls: r.metrics}
	if !r.cfg.NoPostgresCPU {
		// Read Postgres's CPU only where it runs: elsewhere "+ 0 µs in
		// Postgres" would say something false.
		if pg, err := postgresTicks(r.procDir); err == nil && len(pg) > 0 {
			p.procDir = r.procDir
		}
	}
	if len(p.urls) == 0 && p.procDir == "" {
		return nil, nil
	}
	rd, err := p.read(ctx)
	if err != nil {
		return nil, err
	}
	return &Server{URL: r.cfg.MetricsURL, Nodes: len(p.urls), PostgresProcesses: len(rd.pg), Before: rd.sample, probe: p, last: rd}, nil
}

// serverDuring scrapes again while devices of the tool are online and
// fills the figures per device. A failure is noted in the report, not
// failed: the scenario itself ran.
func (r *Runner) serverDuring(ctx context.Context, srv *Server, devices int) {
	if srv == nil || len(srv.probe.urls) == 0 {
		return
	}
	found, err := srv.probe.scrape(ctx)
	if err != nil {
		srv.note(err)
		return
	}
	s := sampleOf(found)
	srv.During, srv.Devices = s, devices
	if devices <= 0 {
		return
	}
	if s.has(metricRSS) && srv.Before.has(metricRSS) {
		srv.RSSPerDeviceKiB = (s.RSSBytes - srv.Before.RSSBytes) / 1024 / float64(devices)
	}
	if s.has(metricGoroutines) && srv.Before.has(metricGoroutines) {
		srv.GoroutinesPerDevice = (s.Goroutines - srv.Before.Goroutines) / float64(devices)
	}
}

// note keeps the first error of a reading during the run.
func (s *Server) note(err error) {
	if s.Error == "" {
		s.Error = err.Error()
	}
}
