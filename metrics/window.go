package metrics

import "github.com/prometheus/client_golang/prometheus"

// WindowStats is the size of a node's window of recent messages.
type WindowStats struct {
	Bytes, Conversations int64
}

// WatchWindow exports the size of the node's window of recent messages
// (gateway's), read at scrape time. Its lookups count as the cache
// "window" (imgate_cache_lookups_total), the pulls it answers as
// imgate_pulls_total{source="memory"}.
func (m *Metrics) WatchWindow(stats func() WindowStats) {
	m.register(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "imgate_window_bytes",
			Help: "Estimated memory held by the node's window of recent messages (bounded by --window-bytes).",
		}, func() float64 { return float64(stats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "imgate_window_conversations",
			Help: "Conversations the node's window of recent messages holds.",
		}, func() float64 { return float64(stats().Conversations) }),
	)
}
