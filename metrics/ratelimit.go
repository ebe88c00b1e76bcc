package metrics

import "github.com/prometheus/client_golang/prometheus"

// newRateLimited makes imgate_rate_limited_total: refusals of requests
// over a user's or an app's limit.
func newRateLimited(m *Metrics) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_rate_limited_total",
		Help: "Requests refused over a rate (code 10028, or RATE_LIMIT_EXCEEDED on a WebSocket), by limit: user or app (messages per second, --user-send-rate, --app-send-rate), unread (a session's heartbeats over one a second, bursts of 10).",
	}, []string{"limit"})
	m.register(v)
	return v
}

// RateLimited is the counter of requests refused over the limit
// ("user", "app" or "unread").
func (m *Metrics) RateLimited(limit string) prometheus.Counter {
	return m.rateLimited.WithLabelValues(limit)
}
