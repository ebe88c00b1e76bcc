package metrics

import "github.com/prometheus/client_golang/prometheus"

// NoticeCause is why a session sent its device a NOTICE (pull this
// conversation) instead of pushing a message.
type NoticeCause int

// Notice causes, the values of imgate_notices_total's "cause" label.
const (
	// NoticeNoCursor: the session holds no position in the conversation
	// (a group it was not routed yet, or cursors that failed to load).
	NoticeNoCursor NoticeCause = iota
	// NoticeGap: an event does not continue what the session was sent.
	NoticeGap
	// NoticePendingOverflow: more events came while the session loaded
	// its cursors than it keeps.
	NoticePendingOverflow
	// NoticeResync: the bus was cut off from the other nodes and is back.
	NoticeResync
	// NoticeLogin: an event that came during the login does not continue
	// the positions the login loaded.
	NoticeLogin
	// NoticeJoined: the user joined a group; the device pulls what it may
	// see of it.
	NoticeJoined
	nNoticeCauses
)

var noticeCauseNames = [nNoticeCauses]string{"no_cursor", "gap", "pending_overflow", "resync", "login", "joined"}

func (c NoticeCause) String() string { return noticeCauseNames[c] }

// PullSource is where a pull was answered from.
type PullSource int

// Pull sources, the values of imgate_pulls_total's "source" label.
const (
	// PullMemory: the node's window of recent messages.
	PullMemory PullSource = iota
	// PullStore: a store query.
	PullStore
	nPullSources
)

var pullSourceNames = [nPullSources]string{"memory", "store"}

func (p PullSource) String() string { return pullSourceNames[p] }

// deliveryCounters count the decisions of the delivery path that cost a
// round trip to the device or the store.
type deliveryCounters struct {
	notices [nNoticeCauses]prometheus.Counter
	pulls   [nPullSources]prometheus.Counter
}

func newDeliveryCounters(m *Metrics) deliveryCounters {
	notices := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_notices_total",
		Help: "NOTICEs sent to devices (pull this conversation) instead of a push, by cause: no_cursor, gap, pending_overflow, resync, login, joined.",
	}, []string{"cause"})
	pulls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgate_pulls_total",
		Help: "Forward pulls (sync requests after a NOTICE, a reconnect or a next_key) answered, by source: memory (the node's recent-message window) or store.",
	}, []string{"source"})
	var d deliveryCounters
	for c := range nNoticeCauses {
		d.notices[c] = notices.WithLabelValues(c.String())
	}
	for s := range nPullSources {
		d.pulls[s] = pulls.WithLabelValues(s.String())
	}
	m.register(notices, pulls)
	return d
}

// Noticed counts a NOTICE sent for the cause.
func (m *Metrics) Noticed(c NoticeCause) { m.delivery.notices[c].Inc() }

// Pulled counts a forward pull answered from the source.
func (m *Metrics) Pulled(s PullSource) { m.delivery.pulls[s].Inc() }
