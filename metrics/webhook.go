package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// WebhookFailureReasons are the values of imgate_webhook_failures_total's
// "reason" label.
var WebhookFailureReasons = []string{"timeout", "network", "status", "config"}

// webhookCounters count the webhook dispatcher's calls and what waits in
// the outbox.
type webhookCounters struct {
	calls    *prometheus.CounterVec
	failures *prometheus.CounterVec
	latency  prometheus.Histogram
	pending  prometheus.Gauge
	parked   prometheus.Gauge
	oldest   prometheus.Gauge
}

func newWebhookCounters(m *Metrics) webhookCounters {
	w := webhookCounters{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imgate_webhook_calls_total",
			Help: "Webhook calls, by result (ok: the endpoint answered 2xx; failed).",
		}, []string{"result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imgate_webhook_failures_total",
			Help: "Failed webhook calls, by reason (timeout, network, status: a non-2xx answer, config: the app's webhook is gone).",
		}, []string{"reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "imgate_webhook_call_seconds",
			Help:    "Time from a webhook call's start to its answer or failure.",
			Buckets: stageBuckets,
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "imgate_webhook_outbox_events",
			Help: "Events waiting in the webhook outbox, parked ones included (as last counted by this node's dispatcher).",
		}),
		parked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "imgate_webhook_outbox_parked_events",
			Help: "Events in the webhook outbox that failed the parking number of times and wait for their endpoint to answer again.",
		}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "imgate_webhook_outbox_oldest_seconds",
			Help: "Age of the oldest event waiting in the webhook outbox, 0 when none waits.",
		}),
	}
	for _, r := range []string{"ok", "failed"} {
		w.calls.WithLabelValues(r)
	}
	for _, r := range WebhookFailureReasons {
		w.failures.WithLabelValues(r)
	}
	m.register(w.calls, w.failures, w.latency, w.pending, w.parked, w.oldest)
	return w
}

// WebhookSent counts a call its endpoint answered 2xx, after took.
func (m *Metrics) WebhookSent(took time.Duration) {
	m.webhooks.calls.WithLabelValues("ok").Inc()
	m.webhooks.latency.Observe(took.Seconds())
}

// WebhookFailed counts a failed call, after took, for the reason (one of
// WebhookFailureReasons).
func (m *Metrics) WebhookFailed(reason string, took time.Duration) {
	m.webhooks.calls.WithLabelValues("failed").Inc()
	m.webhooks.failures.WithLabelValues(reason).Inc()
	m.webhooks.latency.Observe(took.Seconds())
}

// WebhookOutbox sets the outbox gauges: events waiting, those parked, and
// the age of the oldest.
func (m *Metrics) WebhookOutbox(pending, parked int64, oldest time.Duration) {
	m.webhooks.pending.Set(float64(pending))
	m.webhooks.parked.Set(float64(parked))
	m.webhooks.oldest.Set(oldest.Seconds())
}
