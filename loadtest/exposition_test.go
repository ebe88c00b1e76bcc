package loadtest

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseExposition(t *testing.T) {
	text := `# HELP imgate_notices_total NOTICEs sent, by cause.
# TYPE imgate_notices_total counter
imgate_notices_total{cause="gap"} 150
imgate_notices_total{cause="no_cursor"} 50 1764104400000
imgate_notices_total_created{cause="gap"} 1.7e9
imgate_deliveries_total{kind="chat",path="push"} 900
imgate_deliveries_total{path="push",kind="group"} 1e3
imgate_deliveries_total{kind="chat",path="sync",} 25
imgate_store_round_trips_total{op="odd \"op\", with } and \\ and\nnewline"} 2
process_cpu_seconds_total 12.34
imgate_pulls_total{} 7
`
	// The label each metric is summed by.
	by := map[string]string{
		"imgate_notices_total":           "cause",
		"imgate_deliveries_total":        "path",
		"imgate_store_round_trips_total": "op",
		"process_cpu_seconds_total":      "",
		"imgate_pulls_total":             "source",
		"imgate_logins_total":            "",
	}
	var names []string
	for name := range by {
		names = append(names, name)
	}
	found, err := parseExposition(strings.NewReader(text), names...)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]float64{}
	for name, ss := range found {
		got[name] = byLabel(ss, by[name])
	}
	want := map[string]map[string]float64{
		"imgate_notices_total":           {"gap": 150, "no_cursor": 50},
		"imgate_deliveries_total":        {"push": 1900, "sync": 25},
		"imgate_store_round_trips_total": {"odd \"op\", with } and \\ and\nnewline": 2},
		"process_cpu_seconds_total":      {"": 12.34},
		"imgate_pulls_total":             {"": 7},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("by label (-want +got):\n%s", d)
	}
	if _, ok := found["imgate_logins_total"]; ok {
		t.Error("imgate_logins_total found, but the exposition has none")
	}
	if got := found["imgate_deliveries_total"][1].labels; !cmp.Equal(got, map[string]string{"path": "push", "kind": "group"}) {
		t.Errorf("labels %v, want path=push kind=group", got)
	}
}

func TestParseExpositionErrors(t *testing.T) {
	for _, line := range []string{
		`imgate_notices_total{cause="gap"`,
		`imgate_notices_total{cause="gap} 1`,
		`imgate_notices_total{cause=gap} 1`,
		`imgate_notices_total{cause="gap"}`,
		`imgate_notices_total{cause="gap"} one`,
	} {
		if _, err := parseExposition(strings.NewReader(line+"\n"), "imgate_notices_total"); err == nil {
			t.Errorf("parseExposition accepted %q", line)
		}
		// A malformed line of a metric not asked for costs nothing.
		if _, err := parseExposition(strings.NewReader(line+"\n"), "process_cpu_seconds_total"); err != nil {
			t.Errorf("parseExposition of %q for another metric: %v", line, err)
		}
	}
}

func TestSum(t *testing.T) {
	if v := sum(nil); !math.IsNaN(v) {
		t.Errorf("sum of no series = %g, want NaN", v)
	}
	if v := sum([]series{{value: 1}, {value: 2.5}}); v != 3.5 {
		t.Errorf("sum = %g, want 3.5", v)
	}
}
