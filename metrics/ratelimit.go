package metrics

import "github.com/prometheus/client_golang/prometheus"

// newRateLimited makes imgate_sends_rate_limited_total: refusals of sends
// over a user's or an app's limit.
func newRateLimited(m *Metrics) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_sends_rate_limited_total",
		Help: "Sends refused (code 10028, or RATE_LIMIT_EXCEEDED on a WebSocket) because they would take a user or an app over its messages per second (--user-send-rate, --app-send-rate), by limit: user or app.",
	}, []string{"limit"})
	m.register(v)
	return v
}

// RateLimited is the counter of sends refused over the limit ("user" or
// "app").
func (m *Metrics) RateLimited(limit string) prometheus.Counter {
	return m.rateLimited.WithLabelValues(limit)
}
