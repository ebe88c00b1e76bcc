package metrics

import "github.com/prometheus/client_golang/prometheus"

func newConnRefusals(m *Metrics) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "imgate_connections_refused_total",
		Help: "TCP connections closed at accept because their source address already had --max-conns-per-ip open.",
	})
	m.register(c)
	return c
}

// ConnRefused counts a connection closed at accept for its source's cap.
func (m *Metrics) ConnRefused() { m.connRefusals.Inc() }
