package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fileCounters count the file API's traffic: what was stored and served,
// how long uploads took, and what was refused and why.
type fileCounters struct {
	bytes    *prometheus.CounterVec
	files    *prometheus.CounterVec
	upload   prometheus.Histogram
	refusals *prometheus.CounterVec
}

func newFileCounters(m *Metrics) fileCounters {
	f := fileCounters{
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imgate_file_bytes_total",
			Help: "Bytes of files stored (direction up) and served (direction down), thumbnails included.",
		}, []string{"direction"}),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imgate_files_total",
			Help: "Files stored (direction up) and served (direction down).",
		}, []string{"direction"}),
		upload: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "imgate_file_upload_seconds",
			Help:    "Time from the start of an upload's body to the file and its thumbnail being stored.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imgate_file_refusals_total",
			Help: "Uploads and downloads refused, by reason (bad_sign, expired, too_large, bad_type, bad_body, forbidden, not_found, bad_param, used).",
		}, []string{"reason"}),
	}
	for _, d := range []string{"up", "down"} {
		f.bytes.WithLabelValues(d)
		f.files.WithLabelValues(d)
	}
	m.register(f.bytes, f.files, f.upload, f.refusals)
	return f
}

// FileUploaded counts a stored upload of n bytes that took took.
func (m *Metrics) FileUploaded(n int64, took time.Duration) {
	m.files.bytes.WithLabelValues("up").Add(float64(n))
	m.files.files.WithLabelValues("up").Inc()
	m.files.upload.Observe(took.Seconds())
}

// FileServed counts a download of n bytes.
func (m *Metrics) FileServed(n int64) {
	m.files.bytes.WithLabelValues("down").Add(float64(n))
	m.files.files.WithLabelValues("down").Inc()
}

// FileRefused counts an upload or download refused for the reason.
func (m *Metrics) FileRefused(reason string) { m.files.refusals.WithLabelValues(reason).Inc() }
