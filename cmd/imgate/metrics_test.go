package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
)

var metricsListening = regexp.MustCompile(`metrics listening"? addr=(\S+)`)

// scrape reads the node's /metrics and returns it raw and parsed.
func scrape(t *testing.T, addr string) ([]byte, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return raw, families
}

// series is the series of a family with the labels (name, value pairs),
// nil when absent.
func series(families map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	f := families[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is the value of the series of a family with the labels (a
// counter's or gauge's value, a histogram's count); -1 when absent.
func value(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	m := series(families, name, labels...)
	switch {
	case m == nil:
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

// TestServeMetrics drives a message through a node and reads what its
// metrics listener tells an SRE: the fan-out histogram counts the push to
// the online device and the sync to the device that logs in later, the
// REST request is counted by route and code, the gauges follow the
// connections, and promtool accepts the output.
func TestServeMetrics(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}}
	var creds struct {
		AppID       string `json:"app_id"`
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(c.must("app", "create", "--id", "metricsapp", "--name", "metrics")), &creds)
	url, logs, stop := c.serve("--metrics-listen", "127.0.0.1:0", "--pprof")
	defer stop()
	maddr := logs.await(t, metricsListening)
	app := map[string]string{"app_id": creds.AppID}
	users := map[string]int64{}
	tokens := map[string]string{}
	for _, name := range []string{"alice", "bob"} {
		code, data := post(t, "POST", url+"/user/register/v2", app, `{"username":"`+name+`","password":"pw"}`)
		var reg struct {
			UserID int64 `json:"user_id"`
		}
		if json.Unmarshal(data, &reg); code != 200 {
			t.Fatalf("register %s: %d %s", name, code, data)
		}
		users[name] = reg.UserID
		var tok struct {
			Token string `json:"token"`
		}
		_, data = post(t, "POST", url+"/token/user", app, `{"name":"`+name+`","password":"pw"}`)
		json.Unmarshal(data, &tok)
		tokens[name] = tok.Token
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	login := func(name string) *client.Session {
		conn, err := client.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/ws", client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := conn.Login(ctx, uint64(users[name]), 0, tokens[name], ""); err != nil || p.Status.GetCode() != xsync.Status_OK {
			t.Fatalf("login %s: %v %v", name, p, err)
		}
		return client.Start(conn, false)
	}
	has := func(s *client.Session, n int) func(client.View) bool {
		return func(v client.View) bool { return len(v.Conv(uint64(imgate.SystemUser))) >= n }
	}

	// Alice is online; the quick start's /message/send (an admin token,
	// no from_user_id: the system user sends) is pushed to her.
	alice := login("alice")
	admin := map[string]string{"app_id": creds.AppID, "access-token": creds.AccessToken}
	body := fmt.Sprintf(`{"targets":[%d,%d],"type":1,"content":"hello","content_type":0}`, users["alice"], users["bob"])
	if code, data := post(t, "POST", url+"/message/send", admin, body); code != 200 {
		t.Fatalf("/message/send: %d %s", code, data)
	}
	if err := alice.Wait(ctx, has(alice, 1)); err != nil {
		t.Fatalf("alice never got the message: %v", err)
	}
	// Bob logs in afterwards and pulls it: a sync.
	bob := login("bob")
	if err := bob.Pull(ctx, uint64(imgate.SystemUser), 0); err != nil {
		t.Fatal(err)
	}
	if err := bob.Wait(ctx, has(bob, 1)); err != nil {
		t.Fatalf("bob never synced the message: %v", err)
	}
	// A frame is counted once written; poll until the scrape shows it.
	var raw []byte
	var fam map[string]*dto.MetricFamily
	want := func(name string, v float64, labels ...string) bool {
		return value(fam, name, labels...) == v
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			raw, fam = scrape(t, maddr)
			if cond() {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: never; /metrics:\n%s", what, grepImgate(raw))
			}
		}
	}
	eventually("a push and a sync counted", func() bool {
		return want("imgate_fanout_latency_seconds", 1, "kind", "chat", "path", "push") &&
			want("imgate_fanout_latency_seconds", 1, "kind", "chat", "path", "sync")
	})
	for _, c := range []struct {
		name   string
		v      float64
		labels []string
	}{
		{"imgate_deliveries_total", 1, []string{"kind", "chat", "path", "push"}},
		{"imgate_deliveries_total", 1, []string{"kind", "chat", "path", "sync"}},
		{"imgate_deliveries_total", 0, []string{"kind", "group", "path", "push"}},
		// Two targets: one message per conversation.
		{"imgate_messages_accepted_total", 2, []string{"kind", "chat"}},
		{"imgate_http_requests_total", 1, []string{"route", "/message/send", "method", "POST", "code", "200"}},
		{"imgate_http_request_duration_seconds", 1, []string{"route", "/message/send", "method", "POST"}},
		{"imgate_http_requests_total", 2, []string{"route", "/user/register/v2", "method", "POST", "code", "200"}},
		{"imgate_store_commit_seconds", 1, nil},
		{"imgate_connections", 2, nil},
		{"imgate_devices_online", 2, nil},
		{"imgate_ready", 1, nil},
		{"imgate_build_info", 1, nil},
	} {
		if got := value(fam, c.name, c.labels...); got != c.v {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.v)
		}
	}
	// The push reached Alice within the test's lifetime: its latency is
	// under the 10 s bucket.
	if le := bucket(fam, "imgate_fanout_latency_seconds", 10, "kind", "chat", "path", "push"); le != 1 {
		t.Errorf("fan-out push under 10 s: %v, want 1", le)
	}

	// A refused request is counted with its MaxIM code.
	if code, _ := post(t, "GET", url+"/user/settings", map[string]string{"app_id": creds.AppID, "access-token": "bad"}, ""); code != imgate.CodeInvalidToken {
		t.Errorf("bad token: %d", code)
	}
	alice.Conn().Close()
	eventually("alice's close counted", func() bool {
		return want("imgate_session_closes_total", 1, "reason", "client") && want("imgate_devices_online", 1) &&
			want("imgate_connections", 1) &&
			want("imgate_http_requests_total", 1, "route", "/user/settings", "method", "GET", "code", fmt.Sprint(imgate.CodeInvalidToken))
	})
	bob.Conn().Close()

	if resp, err := http.Get("http://" + maddr + "/debug/pprof/"); err != nil || resp.StatusCode != 200 {
		t.Errorf("GET /debug/pprof/ with --pprof: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	promtoolCheck(t, raw)
}

// bucket is a histogram's cumulative count at the bucket of bound le.
func bucket(families map[string]*dto.MetricFamily, name string, le float64, labels ...string) float64 {
	for _, b := range series(families, name, labels...).GetHistogram().GetBucket() {
		if b.GetUpperBound() == le {
			return float64(b.GetCumulativeCount())
		}
	}
	return -1
}

func grepImgate(raw []byte) string {
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "imgate_") && !strings.Contains(l, "_bucket") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// promtoolCheck runs promtool check metrics on a scrape. The test command
// installs promtool and requires it (IMGATE_REQUIRE_PROMTOOL=1).
func promtoolCheck(t *testing.T, raw []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("IMGATE_REQUIRE_PROMTOOL") == "1" {
			t.Fatalf("promtool not found (IMGATE_REQUIRE_PROMTOOL=1): %v", err)
		}
		t.Skip("promtool not installed; scripts/services.sh installs it")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(raw)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
