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
// format). A metric with several series (labels) is summed.
const (
	metricRSS        = "process_resident_memory_bytes"
	metricGoroutines = "go_goroutines"
	metricDevices    = "imgate_devices_online"
)

// ServerSample is one scrape of the server's metrics; a metric the server
// did not expose is 0 and named in Missing.
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

// Server is what the server's metrics said before the devices logged in
// and while the scenario held them, and the difference per device.
type Server struct {
	URL    string        `json:"url"`
	Before *ServerSample `json:"before,omitempty"`
	During *ServerSample `json:"during,omitempty"`
	// Devices is the tool's devices online at the second scrape, the
	// divisor of the figures per device.
	Devices             int     `json:"devices"`
	RSSPerDeviceKiB     float64 `json:"rss_per_device_kib"`
	GoroutinesPerDevice float64 `json:"goroutines_per_device"`
	Error               string  `json:"error,omitempty"`
}

// scrape reads the three metrics from a Prometheus text exposition
// (parseExposition).
func scrape(ctx context.Context, hc *http.Client, url string) (*ServerSample, error) {
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
	vals, err := parseMetrics(resp.Body, metricRSS, metricGoroutines, metricDevices)
	if err != nil {
		return nil, fmt.Errorf("loadtest: metrics %s: %w", url, err)
	}
	var missing []string
	for i, n := range []string{metricRSS, metricGoroutines, metricDevices} {
		if math.IsNaN(vals[i]) {
			missing, vals[i] = append(missing, n), 0
		}
	}
	return &ServerSample{RSSBytes: vals[0], Goroutines: vals[1], DevicesOnline: vals[2], Missing: missing}, nil
}

// serverBefore scrapes the server's metrics before a scenario's devices
// log in; nil when no metrics URL is configured. An error here ends the
// run before it starts.
func (r *Runner) serverBefore(ctx context.Context) (*Server, error) {
	if r.cfg.MetricsURL == "" {
		return nil, nil
	}
	s, err := scrape(ctx, r.api.hc, r.cfg.MetricsURL)
	if err != nil {
		return nil, err
	}
	return &Server{URL: r.cfg.MetricsURL, Before: s}, nil
}

// serverDuring scrapes again while devices of the tool are online and
// fills the figures per device. A failure is noted in the report, not
// failed: the scenario itself ran.
func (r *Runner) serverDuring(ctx context.Context, srv *Server, devices int) {
	if srv == nil {
		return
	}
	s, err := scrape(ctx, r.api.hc, srv.URL)
	if err != nil {
		srv.Error = err.Error()
		return
	}
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
