package clustertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/loadtest"
)

// soakShape is the mixed scenario of the soak and its capacity steps at
// a chat rate: a quarter of the chat through REST, four groups of 50
// whose messages make about half as many deliveries again as the chat,
// and two devices a second dropping and coming back.
func soakShape(rate float64, d time.Duration) loadtest.Mixed {
	return loadtest.Mixed{Pairs: 200, ChatRate: rate, RESTShare: 0.25, Groups: 4, GroupSize: 50,
		GroupRate: max(rate/100, 1), Churn: 2, Offline: time.Second, Duration: d}
}

// capacitySteps are the chat rates the soak tries, 15 s each, before it
// soaks at half the highest one the cluster keeps up with.
var capacitySteps = []float64{250, 500, 1000, 2000, 4000}

// keptUp tells whether a run kept up with its rate: it passed, no send
// started over a second late, and live deliveries took under a second
// at p99.
func keptUp(rep *loadtest.Report) bool {
	if !rep.Pass || rep.Latency == nil || rep.Latency.P99 >= 1000 {
		return false
	}
	for _, k := range rep.Kinds {
		if k.Send.MaxLagMs >= 1000 {
			return false
		}
	}
	return true
}

// TestSoak is scripts/soak.sh: three nodes on a private Postgres and
// Redis; it measures the chat rate they keep up with (capacitySteps),
// then runs the mixed scenario at half that for IMGATE_SOAK (e.g. 1h),
// sampling every node's RSS and goroutines each minute, and fails unless
// the run passes and the samples are flat (flat). IMGATE_SOAK_RATE sets
// the rate instead of measuring it; IMGATE_SOAK_OUT is where the logs,
// the samples and the report go.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("IMGATE_SOAK"))
	if err != nil {
		t.Skip("IMGATE_SOAK=1h runs the soak (scripts/soak.sh)")
	}
	out := os.Getenv("IMGATE_SOAK_OUT")
	if out == "" {
		out = t.TempDir()
	}
	p := newPrivate(t, 3, out)
	r := p.runner(t, 30*time.Second, false)
	var rate float64
	if _, err := fmt.Sscan(os.Getenv("IMGATE_SOAK_RATE"), &rate); err != nil {
		rate = soakCapacity(t, r, out) / 2
	}
	if rate <= 0 {
		t.Fatal("the cluster kept up with no rate tried")
	}
	t.Logf("soaking at %.0f chat msgs/s for %s", rate, d)
	ctx, stop := context.WithCancel(t.Context())
	samples := make(chan []sample, 1)
	go func() { samples <- sampleEvery(ctx, p.cluster, time.Minute, filepath.Join(out, "samples.tsv")) }()
	rep, err := r.Mixed(t.Context(), soakShape(rate, d))
	stop()
	got := <-samples
	if err != nil {
		t.Fatal(err)
	}
	writeReport(t, rep, filepath.Join(out, "report.txt"))
	if !rep.Pass {
		t.Errorf("the soak failed: %v", rep.Failures)
	}
	verdict, ok := flat(got)
	t.Log(verdict)
	os.WriteFile(filepath.Join(out, "verdict.txt"), []byte(verdict+"\n"), 0o644)
	if !ok {
		t.Error("RSS or goroutines grew")
	}
}

// soakCapacity runs capacitySteps and answers the highest rate kept up
// with (0: none).
func soakCapacity(t *testing.T, r *loadtest.Runner, out string) float64 {
	var best float64
	for _, rate := range capacitySteps {
		rep, err := r.Mixed(t.Context(), soakShape(rate, 15*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		writeReport(t, rep, filepath.Join(out, fmt.Sprintf("capacity-%.0f.txt", rate)))
		if !keptUp(rep) {
			t.Logf("capacity: %.0f chat msgs/s not kept up with (%v)", rate, rep.Failures)
			break
		}
		t.Logf("capacity: %.0f chat msgs/s kept up with", rate)
		best = rate
	}
	return best
}

func writeReport(t *testing.T, rep *loadtest.Report, path string) {
	var b strings.Builder
	rep.WriteTable(&b)
	t.Logf("report:\n%s", b.String())
	os.WriteFile(path, []byte(b.String()), 0o644)
}

// sampleEvery scrapes every node each period until ctx ends, writing
// one line per node and scrape to path, and answers the sums over the
// nodes, one per scrape at which every node answered.
func sampleEvery(ctx context.Context, c *cluster, period time.Duration, path string) []sample {
	f, err := os.Create(path)
	if err == nil {
		defer f.Close()
		fmt.Fprintln(f, "minute\tnode\trss_mib\tgoroutines\tdevices_online")
	}
	var all []sample
	start := time.Now()
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return all
		case <-tick.C:
		}
		var sum sample
		ok := true
		for _, n := range c.nodes {
			s, err := n.scrape()
			if err != nil {
				ok = false
				continue
			}
			if f != nil {
				fmt.Fprintf(f, "%.0f\t%s\t%.1f\t%.0f\t%.0f\n", time.Since(start).Minutes(), n.name, s.rss/(1<<20), s.goroutines, s.online)
			}
			sum.rss += s.rss
			sum.goroutines += s.goroutines
			sum.online += s.online
		}
		if ok {
			all = append(all, sum)
		}
	}
}

// Flatness: after soakWarmup samples, the mean of the last soakWindow
// samples may exceed the mean of the first soakWindow by at most 10 %
// (+ 16 MiB) in RSS and 5 % (+ 30) in goroutines, summed over the
// nodes.
const (
	soakWarmup = 10
	soakWindow = 10
)

// flat judges the samples by the rule above, and says why.
func flat(ss []sample) (string, bool) {
	if len(ss) < soakWarmup+2*soakWindow {
		return fmt.Sprintf("flat: not judged, %d samples (want %d)", len(ss), soakWarmup+2*soakWindow), len(ss) > 0
	}
	mean := func(w []sample) sample {
		var m sample
		for _, s := range w {
			m.rss += s.rss / float64(len(w))
			m.goroutines += s.goroutines / float64(len(w))
			m.online += s.online / float64(len(w))
		}
		return m
	}
	first, last := mean(ss[soakWarmup:soakWarmup+soakWindow]), mean(ss[len(ss)-soakWindow:])
	rssOK := last.rss <= first.rss*1.10+16<<20
	gOK := last.goroutines <= first.goroutines*1.05+30
	verdict := fmt.Sprintf("flat=%v: RSS %.1f → %.1f MiB (limit %.1f), goroutines %.0f → %.0f (limit %.0f), devices online %.0f → %.0f; %d samples, minutes %d-%d against the last %d",
		rssOK && gOK, first.rss/(1<<20), last.rss/(1<<20), (first.rss*1.10+16<<20)/(1<<20),
		first.goroutines, last.goroutines, first.goroutines*1.05+30, first.online, last.online,
		len(ss), soakWarmup, soakWarmup+soakWindow-1, soakWindow)
	return verdict, rssOK && gOK
}
