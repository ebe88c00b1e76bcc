package loadtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fakeNode serves one node's metrics: the exposition of the step the
// test has reached.
func fakeNode(t *testing.T, step *atomic.Int64, steps ...string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 10\n")
		fmt.Fprint(w, steps[step.Load()])
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

// TestPhases reads two fake nodes and a fake /proc whose counters change
// between readings, and checks each phase's increases and figures per
// unit: summed over the nodes, by label, with a counter one node does
// not expose, a label that appears, a Postgres backend that ends and
// one that starts.
func TestPhases(t *testing.T) {
	var step atomic.Int64
	a := fakeNode(t, &step,
		`process_cpu_seconds_total 10
imgate_deliveries_total{kind="chat",path="push"} 100
imgate_notices_total{cause="gap"} 1
imgate_store_round_trips_total{op="login"} 5
imgate_logins_total 5
`, `process_cpu_seconds_total 10.5
imgate_deliveries_total{kind="chat",path="push"} 100
imgate_notices_total{cause="gap"} 1
imgate_notices_total{cause="login"} 100
imgate_store_round_trips_total{op="login"} 105
imgate_store_round_trips_total{op="unread"} 100
imgate_logins_total 105
`, `process_cpu_seconds_total 12.5
imgate_deliveries_total{kind="chat",path="push"} 1050
imgate_deliveries_total{kind="chat",path="sync"} 40
imgate_notices_total{cause="gap"} 21
imgate_notices_total{cause="login"} 100
imgate_pulls_total{source="memory"} 15
imgate_pulls_total{source="store"} 5
imgate_store_round_trips_total{op="login"} 105
imgate_store_round_trips_total{op="unread"} 100
imgate_store_round_trips_total{op="send"} 400
imgate_store_round_trips_total{op="pull"} 5
imgate_logins_total 105
`)
	b := fakeNode(t, &step,
		`process_cpu_seconds_total 20
imgate_deliveries_total{kind="chat",path="push"} 50
imgate_store_round_trips_total{op="send"} 2
`, `process_cpu_seconds_total 20.25
imgate_deliveries_total{kind="chat",path="push"} 50
imgate_store_round_trips_total{op="send"} 2
imgate_store_round_trips_total{op="login"} 100
imgate_logins_total 100
`, `process_cpu_seconds_total 21.25
imgate_deliveries_total{kind="chat",path="push"} 60
imgate_store_round_trips_total{op="send"} 602
imgate_store_round_trips_total{op="login"} 100
imgate_logins_total 100
`)
	proc := newFakeProc(t)
	proc.set(100, "postgres", 400, 100)
	proc.set(101, "postgres", 7, 3)
	proc.set(200, "imgate", 1, 1)

	r, err := New(Config{URL: "http://127.0.0.1:1,http://127.0.0.1:2", AppID: "a", AdminToken: "t", MetricsURL: a + ", " + b})
	if err != nil {
		t.Fatal(err)
	}
	r.procDir = proc.dir
	ctx := t.Context()
	srv, err := r.serverBefore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Nodes != 2 || srv.PostgresProcesses != 2 || srv.Before.Goroutines != 20 {
		t.Errorf("nodes %d, postgres processes %d, goroutines %g; want 2, 2, 20", srv.Nodes, srv.PostgresProcesses, srv.Before.Goroutines)
	}

	// Connect: 200 logins. Backend 101 ends (its 10 ticks since are
	// lost), 102 starts and counts from 0.
	step.Store(1)
	proc.set(100, "postgres", 410, 110)
	proc.end(101)
	proc.set(102, "postgres", 4, 1)
	srv.endPhase(ctx, phaseConnect).count(200, 0, 0)

	// Send: 1000 messages stored, 1000 delivered.
	step.Store(2)
	proc.set(100, "postgres", 460, 160)
	proc.set(102, "postgres", 4, 1)
	srv.endPhase(ctx, phaseSend).count(0, 1000, 1000)

	pct := func(v float64) *float64 { return &v }
	want := []*Phase{{
		Name: phaseConnect, Logins: 200,
		ServerCPUMicros:   &Spend{Total: 750000, PerLogin: 3750},
		PostgresCPUMicros: &Spend{Total: 250000, PerLogin: 1250},
		StoreRoundTrips:   &Spend{Total: 300, PerLogin: 1.5},
		RoundTripsByOp:    map[string]float64{"login": 200, "unread": 100, "send": 0},
		DeliveriesByPath:  map[string]float64{"push": 0},
		NoticesByCause:    map[string]float64{"gap": 0, "login": 100},
		ServerLogins:      pct(200),
		NotExposed:        []string{metricPulls},
	}, {
		Name: phaseSend, Messages: 1000, Deliveries: 1000,
		ServerCPUMicros:   &Spend{Total: 3e6, PerMessage: 3000, PerDelivery: 3000},
		PostgresCPUMicros: &Spend{Total: 1e6, PerMessage: 1000, PerDelivery: 1000},
		StoreRoundTrips:   &Spend{Total: 1005, PerMessage: 1.005, PerDelivery: 1.005},
		RoundTripsByOp:    map[string]float64{"login": 0, "unread": 0, "send": 1000, "pull": 5},
		DeliveriesByPath:  map[string]float64{"push": 960, "sync": 40},
		PushPercent:       pct(96),
		NoticesByCause:    map[string]float64{"gap": 20, "login": 0},
		PullsBySource:     map[string]float64{"memory": 15, "store": 5},
		ServerLogins:      pct(0),
	}}
	if d := cmp.Diff(want, srv.Phases, cmpopts.IgnoreFields(Phase{}, "Seconds")); d != "" {
		t.Errorf("phases (-want +got):\n%s", d)
	}

	var table strings.Builder
	rep := &Report{Scenario: "chat", Server: srv}
	rep.judge()
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("table:\n%s", table.String())
	for _, line := range []string{
		"server           metrics of 2 node(s); CPU of 2 postgres processes on this machine",
		"  connect        200 logins in ",
		"    CPU          server 0.750s, Postgres 0.250s: 3750 µs/login + 1250 µs in Postgres",
		"    round trips  300 = 1.50/login: login 200, unread 100",
		"    notices      login 100",
		"  not exposed    imgate_pulls_total",
		"    CPU          server 3.000s, Postgres 1.000s: 3000 µs/msg + 1000 µs in Postgres; 3000 µs/delivery + 1000 µs in Postgres",
		"    round trips  1005 = 1.00/msg, 1.00/delivery: send 1000, pull 5",
		"    deliveries   push 96.0%: push 960, sync 40",
		"    notices      gap 20",
		"    pulls        memory 15, store 5",
	} {
		if !strings.Contains(table.String(), line) {
			t.Errorf("the table lacks %q:\n%s", line, table.String())
		}
	}
}

// TestPhasesWithoutMetrics reads Postgres alone: no endpoint, so no
// server figures, but Postgres's CPU per login.
func TestPhasesWithoutMetrics(t *testing.T) {
	proc := newFakeProc(t)
	proc.set(100, "postgres", 10, 0)
	r, err := New(Config{URL: "http://127.0.0.1:1", AppID: "a", AdminToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	r.procDir = proc.dir
	srv, err := r.serverBefore(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	proc.set(100, "postgres", 20, 0)
	ph := srv.endPhase(t.Context(), phaseConnect)
	ph.count(10, 0, 0)
	if ph == nil || ph.ServerCPUMicros != nil || ph.PostgresCPUMicros == nil || ph.PostgresCPUMicros.PerLogin != 10000 || ph.NotExposed != nil {
		t.Errorf("phase %+v, want Postgres's CPU alone, 10000 µs per login", ph)
	}
	var table strings.Builder
	srv.writeTable(func(k, format string, args ...any) {
		fmt.Fprintf(&table, "%s\t"+format+"\n", append([]any{k}, args...)...)
	})
	if want := "CPU\tPostgres 0.100s: 10000 µs/login in Postgres"; !strings.Contains(table.String(), want) {
		t.Errorf("the table lacks %q:\n%s", want, table.String())
	}

	// Without Postgres processes, or with --postgres-cpu=false, there
	// is nothing to read.
	for _, cfg := range []Config{{NoPostgresCPU: true}, {}} {
		cfg.URL, cfg.AppID, cfg.AdminToken = "http://127.0.0.1:1", "a", "t"
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r.procDir = proc.dir
		if !cfg.NoPostgresCPU {
			proc.end(100)
		}
		if srv, err := r.serverBefore(t.Context()); srv != nil || err != nil {
			t.Errorf("%+v: serverBefore = %+v, %v; want nil, nil", cfg, srv, err)
		}
	}
}

func TestMetricsURLs(t *testing.T) {
	tests := []struct {
		list  string
		nodes int
		want  []string
		ok    bool
	}{
		{"", 3, nil, true},
		{"http://a:1/metrics", 3, []string{"http://a:1/metrics"}, true},
		{"http://a:1/metrics, http://b:1/metrics", 2, []string{"http://a:1/metrics", "http://b:1/metrics"}, true},
		{"http://a:1/metrics,http://b:1/metrics", 3, nil, false},
		{"a:1/metrics", 1, nil, false},
	}
	for _, tt := range tests {
		got, err := metricsURLs(tt.list, tt.nodes)
		if (err == nil) != tt.ok || !cmp.Equal(got, tt.want) {
			t.Errorf("metricsURLs(%q, %d) = %v, %v; want %v, ok %v", tt.list, tt.nodes, got, err, tt.want, tt.ok)
		}
	}
}

func TestPhaseCPUNotExposed(t *testing.T) {
	ph := &Phase{Logins: 4, NotExposed: []string{metricCPU}, PostgresCPUMicros: &Spend{Total: 80}}
	ph.count(4, 0, 0)
	if got, want := ph.cpu(ph.units()), "server not exposed, Postgres 0.000s: 20 µs/login in Postgres"; got != want {
		t.Errorf("cpu = %q, want %q", got, want)
	}
}
