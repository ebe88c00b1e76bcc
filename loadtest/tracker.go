package loadtest

import (
	"errors"
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
	conv  uint64 // the conversation as the receivers see it: from, or a group
	kind  string
	fates []fate // fates[seq-1]
	first string // the first refusal or error
	// refusedBy counts refusals by code (refusal.refusal()).
	refusedBy map[string]int64
}

// key is the stream a receiver gets this outbox's sends in.
func (o *outbox) key() streamKey {
	if o.conv == 0 {
		return streamKey{o.from, o.from}
	}
	return streamKey{o.conv, o.from}
}

func (o *outbox) record(seq uint32, f fate, err error) {
	for uint32(len(o.fates)) < seq {
		o.fates = append(o.fates, unsent)
	}
	o.fates[seq-1] = f
	if err != nil && o.first == "" {
		o.first = err.Error()
	}
	var re refusal
	if f == refused && errors.As(err, &re) {
		if o.refusedBy == nil {
			o.refusedBy = map[string]int64{}
		}
		o.refusedBy[re.refusal()]++
	}
}

// stream is what one device received from one sender in one
// conversation, by sequence.
type stream struct {
	kind       string  // what sends it carries (chat, group, …); "" unexpected
	got        []uint8 // got[seq]: how many times it came
	last       uint32  // highest sequence received
	outOfOrder int64   // receipts below last that were not seen before
}

// streamKey names a stream: the conversation as the receiver sees it (the
// peer of a chat, or a group) and the sender.
type streamKey struct{ conv, from uint64 }

// inbox is what one device received in the conversations it watches,
// across its connections: a device that reconnects keeps its inbox, as an
// app keeps its messages. Only the goroutine watching the device touches
// it (under its session's lock), and the scenario once watching ended.
type inbox struct {
	convs   map[uint64]int // watched conversations: metas of each read from cur
	cur     *client.Session
	since   int64           // unix ns cur's login began: what was sent before is synced, not pushed
	retired *client.Session // the last session whose end was counted

	from map[streamKey]*stream
	held map[streamKey]bool // {conv, server id} of every meta held, across connections

	foreign  int64 // metas without a stamp
	resynced int64 // metas held from an earlier connection, sent again after a reconnect
	oldDups  int64 // duplicates that the device's earlier sessions dropped

	sender uint64 // storm: the user whose messages the device syncs
	want   int64  // distinct deliveries after which the device is synced (0: none)
	have   int64  // distinct deliveries so far
	doneAt int64  // unix ns have reached want
}

func newInbox(convs ...uint64) *inbox {
	in := &inbox{convs: map[uint64]int{}, from: map[streamKey]*stream{}, held: map[streamKey]bool{}}
	for _, c := range convs {
		in.convs[c] = 0
	}
	return in
}

// expect watches conv for what from sends, of kind.
func (in *inbox) expect(conv, from uint64, kind string) {
	in.convs[conv] = 0
	in.from[streamKey{conv, from}] = &stream{kind: kind}
}

// take reads the metas of the watched conversations that s (whose login
// began at since) received since the last call. A new session starts
// over: its conversations hold only what it received.
func (in *inbox) take(s *client.Session, since int64, v client.View, t *tracker) {
	if s == in.retired {
		return
	}
	if s != in.cur {
		in.cur, in.since = s, since
		for c := range in.convs {
			in.convs[c] = 0
		}
	}
	var now int64
	for conv, next := range in.convs {
		metas := v.Conv(conv)
		if next >= len(metas) {
			continue
		}
		if now == 0 {
			now = time.Now().UnixNano()
		}
		for _, m := range metas[next:] {
			in.receive(conv, m, t, now)
		}
		in.convs[conv] = len(metas)
	}
}

// retire counts the duplicates that an ended session dropped, once.
func (in *inbox) retire(s *client.Session, v client.View) {
	if s != in.retired {
		in.oldDups += int64(v.Dups())
		in.retired = s
	}
}

func (in *inbox) receive(conv uint64, m *xsync.Meta, t *tracker, now int64) {
	if m.Id != 0 {
		k := streamKey{conv, m.Id}
		if in.held[k] {
			in.resynced++
			t.resynced.Add(1)
			return
		}
		in.held[k] = true
	}
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
	key := streamKey{conv, m.GetFrom().GetUid()}
	st := in.from[key]
	if st == nil {
		st = &stream{}
		in.from[key] = st
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
	t.arrived(st.kind, now, sent, sent >= in.since)
	in.have++
	if in.want > 0 && in.have == in.want {
		in.doneAt = now
		t.synced.Add(1)
	}
}

// tracker gathers what every device received: latency histograms, and
// the counts the progress bars show.
type tracker struct {
	mu    sync.Mutex
	all   *hdrhistogram.Histogram            // microseconds, every pushed first receipt
	kinds map[string]*hdrhistogram.Histogram // the same by the stream's kind

	received atomic.Int64 // first receipts
	lastAt   atomic.Int64 // unix ns of the latest first receipt
	resynced atomic.Int64 // receipts of what a device held before reconnecting
	synced   atomic.Int64 // devices that have all they want (inbox.want)
}

// maxLatency is the histogram's range; longer latencies count as this.
const maxLatency = time.Minute

func newTracker() *tracker {
	return &tracker{all: newHistogram(), kinds: map[string]*hdrhistogram.Histogram{}}
}

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, maxLatency.Microseconds(), 3)
}

// recordDuration records d in microseconds, clamped to the range.
func recordDuration(h *hdrhistogram.Histogram, d time.Duration) {
	h.RecordValue(min(max(d.Microseconds(), 1), maxLatency.Microseconds()))
}

// arrived records a first receipt at now of what was sent at sent (unix
// ns both). Only a live receipt, sent while the device's connection was
// up, has a latency: the rest waited for the device to reconnect.
func (t *tracker) arrived(kind string, now, sent int64, live bool) {
	if live {
		t.mu.Lock()
		recordDuration(t.all, time.Duration(now-sent))
		if kind != "" {
			h := t.kinds[kind]
			if h == nil {
				h = newHistogram()
				t.kinds[kind] = h
			}
			recordDuration(h, time.Duration(now-sent))
		}
		t.mu.Unlock()
	}
	t.received.Add(1)
	t.lastAt.Store(now)
}

func (t *tracker) latency() *Latency {
	t.mu.Lock()
	defer t.mu.Unlock()
	return summarize(t.all)
}

// kindLatency is the latency of one kind's live receipts; nil when none.
func (t *tracker) kindLatency(kind string) *Latency {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h := t.kinds[kind]; h != nil {
		return summarize(h)
	}
	return nil
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
// held (client.View.Dups): the server sent them twice on one connection.
func account(pairs []pair, devs []*device) Deliveries {
	d := tally(pairs)
	faults(&d, pairs, devs)
	return d
}

// tally counts what the pairs' devices received of what was stored.
func tally(pairs []pair) Deliveries {
	var d Deliveries
	for _, p := range pairs {
		d.add(p.out, p.dev.in.from[p.out.key()])
	}
	return d
}

// faults adds to d what the devices received that no pair explains, and
// the duplicates their sessions dropped.
func faults(d *Deliveries, pairs []pair, devs []*device) {
	expected := map[*device]map[streamKey]bool{}
	for _, p := range pairs {
		if expected[p.dev] == nil {
			expected[p.dev] = map[streamKey]bool{}
		}
		expected[p.dev][p.out.key()] = true
	}
	for _, dev := range devs {
		if dev == nil || dev.in == nil {
			continue
		}
		s := dev.session()
		s.Read(func(v client.View) { dev.in.retire(s, v) })
		d.Duplicates += dev.in.oldDups
		d.Unexpected += dev.in.foreign
		d.Resynced += dev.in.resynced
		for k, st := range dev.in.from {
			if !expected[dev][k] {
				d.Unexpected += int64(st.distinct())
			}
		}
	}
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
