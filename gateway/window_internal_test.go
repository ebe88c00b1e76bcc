package gateway

import (
	"slices"
	"testing"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/metrics"
)

// seqEvent is a Stored event of a chat between users 1 and 2 with Seqs
// first..last, ids 100+Seq; oper makes its last message an OPER.
func seqEvent(first, last int64, oper bool) *delivery.Event {
	e := &delivery.Event{Kind: delivery.Stored, App: "app", Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: 2}, From: 1, FirstSeq: first, LastSeq: last, LastID: 100 + last}
	for seq := first; seq <= last; seq++ {
		m := imgate.Message{ID: 100 + seq, Kind: imgate.ConvChat, Seq: seq, From: 1, To: 2, Type: imgate.TypeChat, Content: "x"}
		if oper && seq == last {
			m.Type, m.Op, m.OpMID = imgate.TypeOper, imgate.OpRecall, 100+first
		}
		e.Metas = append(e.Metas, delivery.MetaOf(m))
	}
	return e
}

var chatKey = windowKeyOf("app", 2, imgate.Conv{Kind: imgate.ConvChat, Peer: 1})

// run is what the window holds of the chat: its Seqs, and the Seq after
// the last it saw.
func run(w *window) ([]int64, int64) {
	c := w.convs[chatKey]
	if c == nil {
		return nil, 0
	}
	var seqs []int64
	for _, r := range c.entries {
		seqs = append(seqs, r.seq)
	}
	return seqs, c.next
}

func TestWindowRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []*delivery.Event
		seqs   []int64
		next   int64
	}{
		{"continues", []*delivery.Event{seqEvent(1, 2, false), seqEvent(3, 3, false)}, []int64{1, 2, 3}, 4},
		{"gap starts over", []*delivery.Event{seqEvent(1, 2, false), seqEvent(4, 5, false)}, []int64{4, 5}, 6},
		{"late one before the run", []*delivery.Event{seqEvent(1, 1, false), seqEvent(3, 3, false), seqEvent(2, 2, false)}, []int64{2, 3}, 4},
		{"copy ignored", []*delivery.Event{seqEvent(1, 3, false), seqEvent(2, 2, false)}, []int64{1, 2, 3}, 4},
		{"older ignored", []*delivery.Event{seqEvent(5, 6, false), seqEvent(1, 2, false)}, []int64{5, 6}, 7},
		{"oper empties", []*delivery.Event{seqEvent(1, 2, false), seqEvent(3, 3, true)}, nil, 4},
		{"oper, then on", []*delivery.Event{seqEvent(1, 2, false), seqEvent(3, 3, true), seqEvent(4, 4, false)}, []int64{4}, 5},
		{"message before an oper not taken back", []*delivery.Event{seqEvent(1, 1, false), seqEvent(3, 3, true), seqEvent(2, 2, false)}, nil, 4},
		{"overlap empties", []*delivery.Event{seqEvent(1, 2, false), seqEvent(2, 3, false)}, nil, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindow(1<<20, metrics.New(nil))
			for _, e := range tc.events {
				w.feed(e)
			}
			seqs, next := run(w)
			if !slices.Equal(seqs, tc.seqs) || next != tc.next {
				t.Errorf("run %v next %d; want %v next %d", seqs, next, tc.seqs, tc.next)
			}
		})
	}
}

func TestWindowRead(t *testing.T) {
	w := newWindow(1<<20, metrics.New(nil))
	w.feed(seqEvent(3, 6, false)) // Seqs 3..6, ids 103..106
	for _, tc := range []struct {
		name string
		r    windowRead
		want []int64 // Seqs; nil with ok false: not from the window
		ok   bool
	}{
		{"cursor before the run", windowRead{seq: 2}, []int64{3, 4, 5, 6}, true},
		{"cursor in the run", windowRead{seq: 4}, []int64{5, 6}, true},
		{"cursor at the end", windowRead{seq: 6}, nil, true},
		{"cursor too old", windowRead{seq: 1}, nil, false},
		{"cursor ahead", windowRead{seq: 7}, nil, false},
		{"heard of more", windowRead{seq: 4, heard: 7}, nil, false},
		{"heard of this much", windowRead{seq: 4, heard: 6}, []int64{5, 6}, true},
		{"key in the run", windowRead{id: 104, byID: true}, []int64{5, 6}, true},
		{"key of the first", windowRead{id: 103, byID: true}, []int64{4, 5, 6}, true},
		{"key before the run", windowRead{id: 102, byID: true}, nil, false},
		{"key ahead", windowRead{id: 107, byID: true}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, ok := w.read(chatKey, tc.r, 10)
			var got []int64
			for _, r := range page {
				got = append(got, r.seq)
			}
			if ok != tc.ok || !slices.Equal(got, tc.want) {
				t.Errorf("read %+v: %v %v; want %v %v", tc.r, got, ok, tc.want, tc.ok)
			}
		})
	}
	if page, _ := w.read(chatKey, windowRead{seq: 2}, 2); len(page) != 2 || page[1].seq != 4 {
		t.Errorf("read with limit 2: %v", page)
	}
}

func TestWindowBounded(t *testing.T) {
	one := seqEvent(1, 1, false)
	size := int64(convOverhead) + recentsSize(one)
	w := newWindow(3*size, metrics.New(nil))
	for peer := int64(10); peer < 20; peer++ {
		e := *one
		e.Conv.Peer = peer
		w.feed(&e)
		if w.bytes > w.max {
			t.Fatalf("window at %d bytes, over its %d", w.bytes, w.max)
		}
	}
	if st := w.stats(); st.Conversations != 3 {
		t.Errorf("window holds %d conversations, want the 3 last fed", st.Conversations)
	}
	// One conversation alone keeps at most windowConvMax messages.
	w = newWindow(1<<30, metrics.New(nil))
	w.feed(seqEvent(1, windowConvMax+50, false))
	if seqs, _ := run(w); len(seqs) != windowConvMax || seqs[0] != 51 {
		t.Errorf("run of %d from %d, want %d from 51", len(seqs), seqs[0], windowConvMax)
	}
	w.clear()
	if st := w.stats(); st.Bytes != 0 || st.Conversations != 0 || w.generation() != 1 {
		t.Errorf("after clear: %+v generation %d", st, w.generation())
	}
}

func recentsSize(e *delivery.Event) int64 {
	add, _ := recentsOf(e)
	var n int64
	for _, r := range add {
		n += r.size
	}
	return n
}
