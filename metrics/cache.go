package metrics

import "github.com/prometheus/client_golang/prometheus"

// CacheCounters count the lookups of one in-memory cache: a hit answered
// from memory, a miss went to the store.
type CacheCounters struct {
	Hits, Misses prometheus.Counter
}

func newCacheLookups() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_cache_lookups_total",
		Help: "Lookups in an in-memory cache that spares the store a read, by cache (app, user, token, send_check) and result (hit: answered from memory; miss: read from the store).",
	}, []string{"cache", "result"})
}

// Cache returns the counters of the named cache.
func (m *Metrics) Cache(name string) CacheCounters {
	return CacheCounters{
		Hits:   m.cacheLookups.WithLabelValues(name, "hit"),
		Misses: m.cacheLookups.WithLabelValues(name, "miss"),
	}
}
