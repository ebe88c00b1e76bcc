package loadtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgate/imgate/loadtest"
)

// server is an `imgate serve` subprocess on the embedded store, so that
// the test needs only the binary's flags, not the packages behind them.
type server struct {
	url, app, token string
}

// binary builds imgate once for all tests, under binDir.
var (
	binDir string
	binary = sync.OnceValues(func() (string, error) {
		bin := filepath.Join(binDir, "imgate")
		if out, err := exec.Command("go", "build", "-o", bin, "../cmd/imgate").CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build: %v: %s", err, out)
		}
		return bin, nil
	})
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imgate-loadtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func startServer(t *testing.T) server {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	out, err := exec.Command(bin, "app", "create", "--id", "loadtest", "--name", "loadtest", "--data-dir", data).Output()
	if err != nil {
		t.Fatalf("app create: %v", err)
	}
	var creds struct {
		AppID       string `json:"app_id"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(out, &creds); err != nil {
		t.Fatalf("app create printed %s", out)
	}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "serve", "--data-dir", data, "--listen", addr, "--password-cost", "4",
		"--send-rate", "100000", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("imgate serve logs:\n%s", logs.String())
		}
	})
	s := server{url: "http://" + addr, app: creds.AppID, token: creds.AccessToken}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("imgate serve did not answer on %s", addr)
		}
	}
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

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestScenarios runs short chat and group scenarios against a real
// imgate and requires every delivery exactly once and in order.
func TestScenarios(t *testing.T) {
	s := startServer(t)
	r, err := loadtest.New(loadtest.Config{URL: s.url, AppID: s.app, AdminToken: s.token, Grace: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tests := []struct {
		name   string
		run    func(context.Context) (*loadtest.Report, error)
		expect int64 // deliveries
	}{
		{"chat ws", func(ctx context.Context) (*loadtest.Report, error) {
			return r.Chat(ctx, loadtest.Chat{Pairs: 20, Rate: 200, Duration: 3 * time.Second})
		}, 600},
		{"chat rest", func(ctx context.Context) (*loadtest.Report, error) {
			return r.Chat(ctx, loadtest.Chat{Pairs: 10, Rate: 100, Duration: time.Second, Via: loadtest.ViaREST})
		}, 100},
		{"group ws", func(ctx context.Context) (*loadtest.Report, error) {
			return r.Group(ctx, loadtest.Group{Members: 50, Rate: 20, Duration: 3 * time.Second})
		}, 60 * 49},
		{"group ws, 3 senders", func(ctx context.Context) (*loadtest.Report, error) {
			return r.Group(ctx, loadtest.Group{Members: 30, Senders: 3, Rate: 30, Duration: 2 * time.Second})
		}, 60 * 27},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := tt.run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var table strings.Builder
			rep.WriteTable(&table)
			t.Logf("report:\n%s", table.String())
			d := rep.Deliveries
			if d.Lost != 0 || d.Duplicates != 0 || d.OutOfOrder != 0 || d.Unexpected != 0 {
				t.Errorf("lost %d, duplicates %d, out of order %d, unexpected %d; want none", d.Lost, d.Duplicates, d.OutOfOrder, d.Unexpected)
			}
			if d.Expected != tt.expect || d.Delivered != tt.expect {
				t.Errorf("delivered %d of %d, want %d of %d", d.Delivered, d.Expected, tt.expect, tt.expect)
			}
			if rep.Latency.Count != tt.expect {
				t.Errorf("latency recorded for %d deliveries, want %d", rep.Latency.Count, tt.expect)
			}
			if !rep.Pass {
				t.Errorf("the run failed: %s", strings.Join(rep.Failures, "; "))
			}
		})
	}
}

// fakeMetrics serves a Prometheus text exposition whose RSS grows by
// 10 KiB and goroutines by 2 per device from the first scrape to the next,
// until imgate serves its own.
func fakeMetrics(t *testing.T, devices int) string {
	var scrapes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 0
		if scrapes.Add(1) > 1 {
			n = devices
		}
		fmt.Fprintf(w, "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines %d\n", 20+2*n)
		fmt.Fprintf(w, "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %d\n", 50<<20+n*10<<10)
		fmt.Fprintf(w, "imgate_devices_online{node=\"a\"} %d\n", n)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

// TestIdle logs devices in over two source addresses and holds them,
// reading the server's figures per device from (fake) metrics.
func TestIdle(t *testing.T) {
	s := startServer(t)
	r, err := loadtest.New(loadtest.Config{URL: s.url, AppID: s.app, AdminToken: s.token, SourceAddrs: 2, MetricsURL: fakeMetrics(t, 40)})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Idle(t.Context(), loadtest.Idle{Devices: 40, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rep.Connect.Devices, rep.Connect.SourceAddrs, rep.Disconnects, rep.Pass); got != "40 2 0 true" {
		t.Errorf("devices, source addresses, disconnects, pass = %s, want 40 2 0 true (%v)", got, rep.Failures)
	}
	sv := rep.Server
	if sv == nil || sv.During == nil {
		t.Fatalf("server figures %+v, want before and during", sv)
	}
	if sv.RSSPerDeviceKiB != 10 || sv.GoroutinesPerDevice != 2 || sv.During.DevicesOnline != 40 || sv.Devices != 40 {
		t.Errorf("per device %.2f KiB, %.2f goroutines; devices online %g over %d; want 10, 2, 40 over 40",
			sv.RSSPerDeviceKiB, sv.GoroutinesPerDevice, sv.During.DevicesOnline, sv.Devices)
	}
}

// TestStorm drops every device at once, sends to them while offline and
// requires each to reconnect and sync everything exactly once, in order.
func TestStorm(t *testing.T) {
	s := startServer(t)
	r, err := loadtest.New(loadtest.Config{URL: s.url, AppID: s.app, AdminToken: s.token, Grace: 10 * time.Second, MaxList: 40})
	if err != nil {
		t.Fatal(err)
	}
	const devices, messages = 120, 3
	rep, err := r.Storm(t.Context(), loadtest.Storm{Devices: devices, Messages: messages, Senders: 2, Hold: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	st, d := rep.Storm, rep.Deliveries
	if st.Logins != devices || st.Synced != devices || st.UnreadMismatches != 0 || st.LoginsPerSecond <= 0 || st.SyncedSeconds <= 0 {
		t.Errorf("logins %d, synced %d, unread mismatches %d, %.0f logins/s, synced in %.2fs; want %d, %d, 0 and positive rates",
			st.Logins, st.Synced, st.UnreadMismatches, st.LoginsPerSecond, st.SyncedSeconds, devices, devices)
	}
	if rep.Send.Stored != devices*messages {
		t.Errorf("stored %d messages, want %d", rep.Send.Stored, devices*messages)
	}
	checkDeliveries(t, rep, d, devices*messages)
}

// TestMixed runs chat over WebSocket and REST, group messages and churn
// at once, and requires every delivery exactly once and in order.
func TestMixed(t *testing.T) {
	s := startServer(t)
	r, err := loadtest.New(loadtest.Config{URL: s.url, AppID: s.app, AdminToken: s.token, Grace: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Mixed(t.Context(), loadtest.Mixed{
		Pairs: 20, ChatRate: 100, RESTShare: 0.25, Groups: 2, GroupSize: 10, GroupRate: 10,
		Churn: 5, Offline: 300 * time.Millisecond, Duration: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	want := map[string]int64{"chat": 225, "chat_rest": 75, "group": 30 * 9}
	var total int64
	for _, k := range rep.Kinds {
		if k.Deliveries.Expected != want[k.Kind] || k.Deliveries.Delivered != want[k.Kind] {
			t.Errorf("%s: delivered %d of %d, want %d", k.Kind, k.Deliveries.Delivered, k.Deliveries.Expected, want[k.Kind])
		}
		total += want[k.Kind]
		delete(want, k.Kind)
	}
	if len(want) != 0 {
		t.Errorf("kinds missing from the report: %v", want)
	}
	if c := rep.Churn; c == nil || c.Reconnects < 3 || c.Failed != 0 {
		t.Errorf("churn %+v, want several reconnects and no failure", c)
	}
	checkDeliveries(t, rep, rep.Deliveries, total)
}

func logReport(t *testing.T, rep *loadtest.Report) {
	t.Helper()
	var table strings.Builder
	rep.WriteTable(&table)
	t.Logf("report:\n%s", table.String())
}

// checkDeliveries requires want deliveries exactly once, in order, and
// a passing run.
func checkDeliveries(t *testing.T, rep *loadtest.Report, d *loadtest.Deliveries, want int64) {
	t.Helper()
	if d.Lost != 0 || d.Duplicates != 0 || d.OutOfOrder != 0 || d.Unexpected != 0 {
		t.Errorf("lost %d, duplicates %d, out of order %d, unexpected %d; want none", d.Lost, d.Duplicates, d.OutOfOrder, d.Unexpected)
	}
	if d.Expected != want || d.Delivered != want {
		t.Errorf("delivered %d of %d, want %d of %d", d.Delivered, d.Expected, want, want)
	}
	if !rep.Pass {
		t.Errorf("the run failed: %s", strings.Join(rep.Failures, "; "))
	}
}

// TestFiles runs the files scenario: every file uploaded, downloaded and
// read back intact.
func TestFiles(t *testing.T) {
	s := startServer(t)
	r, err := loadtest.New(loadtest.Config{URL: s.url, AppID: s.app, AdminToken: s.token})
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range []loadtest.Files{
		{Devices: 4, Size: 100_003, Rate: 20, Duration: time.Second},
		{Devices: 4, ImageSide: 300, Rate: 20, Duration: time.Second},
	} {
		rep, err := r.Files(t.Context(), sc)
		if err != nil {
			t.Fatal(err)
		}
		logReport(t, rep)
		if f := rep.Files; f.Uploads != 20 || f.Downloads != 20 || f.Failed != 0 || !rep.Pass {
			t.Errorf("%+v: files %+v, failures %v; want 20 up and down, none failed", sc, f, rep.Failures)
		}
	}
}
