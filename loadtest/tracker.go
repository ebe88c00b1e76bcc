package loadtest

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
)

// A message's content is its stamp: "lt <seq> <unix ns sent>". Sequences
// count from 1 per sender.
const stampPrefix = "lt "

func stamp(seq uint32, at time.Time) string {
	b := make([]byte, 0, 32)
	b = append(b, stampPrefix...)
	b = strconv.AppendUint(b, uint64(seq), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, at.UnixNano(), 10)
	return string(b)
}

func parseStamp(s string) (seq uint32, sent int64, ok bool) {
	rest, found := strings.CutPrefix(s, stampPrefix)
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, " ")
	if !found {
		return 0, 0, false
	}
	n, err1 := strconv.ParseUint(a, 10, 32)
	ns, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || n == 0 {
		return 0, 0, false
	}
	return uint32(n), ns, true
}

// fate is what became of one send.
type fate uint8

const (
	unsent  fate = iota
	stored       // the server answered with a server_mid
	refused      // the server answered with a refusal
	unknown      // no answer: the connection or the request failed
)

// outbox is one sender's sends, by sequence. Only its sender goroutine
// writes it, and it is read after that goroutine ends.
type outbox struct {
	from  uint64
	fates []fate // fates[seq-1]
	first string // the first refusal or error
}

func (o *outbox) record(seq uint32, f fate, err error) {
	for uint32(len(o.fates)) < seq {
		o.fates = append(o.fates, unsent)
	}
	o.fates[seq-1] = f
	if err != nil && o.first == "" {
		o.first = err.Error()
	}
}

// stream is what one device received from one sender, by sequence.
type stream struct {
	got        []uint8 // got[seq]: how many times it came
	last       uint32  // highest sequence received
	outOfOrder int64   // receipts below last that were not seen before
}

// inbox is what one device received in the conversation it watches (the
// peer of a chat, or a group). Only the goroutine holding its session's
// lock touches it.
type inbox struct {
	conv    uint64
	next    int // metas of conv already read
	from    map[uint64]*stream
	foreign int64 // metas without a stamp
}

func newInbox(conv uint64) *inbox { return &inbox{conv: conv, from: map[uint64]*stream{}} }

// take reads the metas of the conversation received since the last call.
func (in *inbox) take(v client.View, t *tracker) {
	metas := v.Conv(in.conv)
	if in.next >= len(metas) {
		return
	}
	now := time.Now().UnixNano()
	for _, m := range metas[in.next:] {
		in.receive(m, t, now)
	}
	in.next = len(metas)
}

func (in *inbox) receive(m *xsync.Meta, t *tracker, now int64) {
	var body xsync.MessageBody
	if proto.Unmarshal(m.Payload, &body) != nil {
		in.foreign++
		return
	}
	seq, sent, ok := parseStamp(body.Content)
	if !ok {
		in.foreign++
		return
	}
	st := in.from[m.GetFrom().GetUid()]
	if st == nil {
		st = &stream{}
		in.from[m.GetFrom().GetUid()] = st
	}
	for uint32(len(st.got)) <= seq {
		st.got = append(st.got, 0)
	}
	st.got[seq]++
	if st.got[seq] > 1 {
		return
	}
	if seq < st.last {
		st.outOfOrder++
	}
	st.last = max(st.last, seq)
	t.arrived(now, sent)
}

// tracker gathers what every device received: the latency histogram and
// the counts the progress bar shows.
type tracker struct {
	mu   sync.Mutex
	hist *hdrhistogram.Histogram // microseconds

	received atomic.Int64 // first receipts
	lastAt   atomic.Int64 // unix ns of the latest first receipt
}

// maxLatency is the histogram's range; longer latencies count as this.
const maxLatency = time.Minute

func newTracker() *tracker { return &tracker{hist: newHistogram()} }

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, maxLatency.Microseconds(), 3)
}

// recordDuration records d in microseconds, clamped to the range.
func recordDuration(h *hdrhistogram.Histogram, d time.Duration) {
	h.RecordValue(min(max(d.Microseconds(), 1), maxLatency.Microseconds()))
}

// arrived records a first receipt at now of what was sent at sent (unix
// ns both).
func (t *tracker) arrived(now, sent int64) {
	t.mu.Lock()
	recordDuration(t.hist, time.Duration(now-sent))
	t.mu.Unlock()
	t.received.Add(1)
	t.lastAt.Store(now)
}

func (t *tracker) latency() *Latency {
	t.mu.Lock()
	defer t.mu.Unlock()
	return summarize(t.hist)
}

// summarize reads a histogram of microseconds in milliseconds.
func summarize(h *hdrhistogram.Histogram) *Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return &Latency{
		Count: h.TotalCount(), Mean: h.Mean() / 1000,
		P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()),
	}
}

// pair is a sender and a device that must receive everything it stored.
type pair struct {
	out *outbox
	dev *device
}

// account compares what was stored with what each device received.
// Duplicates include the metas the devices' sessions dropped as already
// held (client.View.Dups): the server sent them twice.
func account(pairs []pair, devs []*device) Deliveries {
	var d Deliveries
	expected := map[*device]map[uint64]bool{}
	for _, p := range pairs {
		if expected[p.dev] == nil {
			expected[p.dev] = map[uint64]bool{}
		}
		expected[p.dev][p.out.from] = true
		d.add(p.out, p.dev.in.from[p.out.from])
	}
	for _, dev := range devs {
		if dev == nil || dev.in == nil {
			continue
		}
		dev.sess.Read(func(v client.View) { d.Duplicates += int64(v.Dups()) })
		d.Unexpected += dev.in.foreign
		for from, st := range dev.in.from {
			if !expected[dev][from] {
				d.Unexpected += int64(st.distinct())
			}
		}
	}
	return d
}

func (st *stream) distinct() int {
	n := 0
	for _, g := range st.got {
		if g > 0 {
			n++
		}
	}
	return n
}

// add counts one pair: st may be nil when nothing arrived.
func (d *Deliveries) add(out *outbox, st *stream) {
	if st == nil {
		st = &stream{}
	}
	d.OutOfOrder += st.outOfOrder
	for i, f := range out.fates {
		seq := i + 1
		var got uint8
		if seq < len(st.got) {
			got = st.got[seq]
		}
		switch {
		case f == stored && got == 0:
			d.Expected++
			d.Lost++
		case f == stored:
			d.Expected++
			d.Delivered++
			d.Duplicates += int64(got - 1)
		case f == unknown && got > 0:
			// Sent without an answer, yet stored: the send failed, not
			// the delivery.
			d.Duplicates += int64(got - 1)
		case got > 0:
			d.Unexpected += int64(got)
		}
	}
	for seq := len(out.fates) + 1; seq < len(st.got); seq++ {
		d.Unexpected += int64(st.got[seq])
	}
}
