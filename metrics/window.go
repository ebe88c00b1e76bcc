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

// HoldStats counts the Stored events a node's hub held because they came
// ahead of a gap in their conversation: Held in all, Late those
// delivered when the hold ran out (the gap never closed: the devices
// pull it).
type HoldStats struct {
	Held, Late int64
}

// WatchHolds exports the hub's holds (gateway's), read at scrape time.
func (m *Metrics) WatchHolds(stats func() HoldStats) {
	m.register(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "imgate_order_holds_total",
			Help: "Stored events the hub held because they came ahead of a gap in their conversation's order (for at most 200 ms).",
		}, func() float64 { return float64(stats().Held) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "imgate_order_holds_late_total",
			Help: "Held events delivered only when the hold ran out: the gap never closed (an event lost between nodes, or a node died before publishing), and devices pull.",
		}, func() float64 { return float64(stats().Late) }),
	)
}
