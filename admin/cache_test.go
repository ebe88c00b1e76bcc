package admin

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgate/imgate/metrics"
)

// clock is a hand-moved time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func testCache(t *testing.T, max int) (*ttlCache[string, int], *clock, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	clk := &clock{t: time.Unix(1_000_000, 0)}
	return newTTLCache[string, int](time.Minute, max, clk.now, metrics.New(reg).Cache("test")), clk, reg
}

func TestTTLCache(t *testing.T) {
	tests := []struct {
		name  string
		steps func(c *ttlCache[string, int], clk *clock)
		want  bool // whether "k" is then a hit
	}{
		{"never read", func(*ttlCache[string, int], *clock) {}, false},
		{"read and kept", func(c *ttlCache[string, int], _ *clock) { keep(c, "k", 1) }, true},
		{"just before the TTL", func(c *ttlCache[string, int], clk *clock) {
			keep(c, "k", 1)
			clk.t = clk.t.Add(time.Minute - time.Nanosecond)
		}, true},
		{"TTL passed", func(c *ttlCache[string, int], clk *clock) {
			keep(c, "k", 1)
			clk.t = clk.t.Add(time.Minute)
		}, false},
		{"forgotten", func(c *ttlCache[string, int], _ *clock) {
			keep(c, "k", 1)
			c.forget("k")
		}, false},
		{"read before a forget, kept after it", func(c *ttlCache[string, int], _ *clock) {
			_, gen, _ := c.get("k")
			c.forget("k") // the change commits while the old value is read
			c.put("k", 1, gen)
		}, false},
		{"another key forgotten", func(c *ttlCache[string, int], _ *clock) {
			keep(c, "k", 1)
			c.forget("other")
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk, _ := testCache(t, 10)
			tt.steps(c, clk)
			if _, _, got := c.get("k"); got != tt.want {
				t.Errorf("hit = %v, want %v", got, tt.want)
			}
		})
	}
}

// keep reads k as a miss would and keeps v.
func keep(c *ttlCache[string, int], k string, v int) {
	_, gen, _ := c.get(k)
	c.put(k, v, gen)
}

func TestTTLCacheCounts(t *testing.T) {
	c, _, reg := testCache(t, 10)
	keep(c, "k", 1) // one miss
	for range 3 {
		if v, _, ok := c.get("k"); !ok || v != 1 {
			t.Fatalf("get = %d, %v; want 1, true", v, ok)
		}
	}
	for result, want := range map[string]float64{"hit": 3, "miss": 1} {
		if got := gathered(t, reg, "test", result); got != want {
			t.Errorf("%s = %v, want %v", result, got, want)
		}
	}
}

func TestTTLCacheBound(t *testing.T) {
	c, clk, _ := testCache(t, 10)
	for i := range 100 {
		keep(c, string(rune('a'+i)), i)
		clk.t = clk.t.Add(time.Second)
		if n := len(c.entries); n > 10 {
			t.Fatalf("%d entries after %d puts, want at most 10", n, i+1)
		}
	}
}

// gathered reads imgate_cache_lookups_total of the cache and result.
func gathered(t *testing.T, reg *prometheus.Registry, cache, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "imgate_cache_lookups_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["cache"] == cache && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no imgate_cache_lookups_total{cache=%q,result=%q}", cache, result)
	return 0
}
