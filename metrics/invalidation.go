package metrics

import "github.com/prometheus/client_golang/prometheus"

// invalidationCounters count the invalidations of cached checks and users
// that roster, group and user changes send between nodes.
type invalidationCounters struct {
	published, received prometheus.Counter
}

func newInvalidationCounters(m *Metrics) invalidationCounters {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_invalidations_total",
		Help: "Invalidations of cached send checks and users, by direction: published (a change on this node, sent to the others) or received (from another node, or a resync of the bus, which clears the caches).",
	}, []string{"direction"})
	m.register(v)
	return invalidationCounters{published: v.WithLabelValues("published"), received: v.WithLabelValues("received")}
}

// Invalidated counts an invalidation published by this node (published
// true) or received from another.
func (m *Metrics) Invalidated(published bool) {
	if published {
		m.invalidations.published.Inc()
	} else {
		m.invalidations.received.Inc()
	}
}
