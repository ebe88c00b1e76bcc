package gateway

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway/xsync"
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

// run is the Seqs the window holds of the chat.
func run(w *window) []int64 {
	c := w.convs[chatKey]
	if c == nil {
		return nil
	}
	var seqs []int64
	for _, r := range c.entries {
		seqs = append(seqs, r.seq)
	}
	return seqs
}

func TestWindowRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []*delivery.Event
		seqs   []int64
	}{
		{"continues", []*delivery.Event{seqEvent(1, 2, false), seqEvent(3, 3, false)}, []int64{1, 2, 3}},
		{"gap kept", []*delivery.Event{seqEvent(1, 2, false), seqEvent(4, 5, false)}, []int64{1, 2, 4, 5}},
		{"late one fills the gap", []*delivery.Event{seqEvent(1, 1, false), seqEvent(3, 3, false), seqEvent(2, 2, false)}, []int64{1, 2, 3}},
		{"copy ignored", []*delivery.Event{seqEvent(1, 3, false), seqEvent(2, 2, false)}, []int64{1, 2, 3}},
		{"overlap", []*delivery.Event{seqEvent(1, 2, false), seqEvent(2, 3, false)}, []int64{1, 2, 3}},
		{"oper empties", []*delivery.Event{seqEvent(1, 2, false), seqEvent(3, 3, true)}, nil},
		{"oper, then on", []*delivery.Event{seqEvent(1, 2, false), seqEvent(3, 3, true), seqEvent(4, 4, false)}, []int64{4}},
		{"oper keeps what is after it", []*delivery.Event{seqEvent(4, 5, false), seqEvent(3, 3, true)}, []int64{4, 5}},
		{"message before an oper not taken back", []*delivery.Event{seqEvent(1, 1, false), seqEvent(3, 3, true), seqEvent(2, 2, false)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindow(1<<20, metrics.New(nil))
			for _, e := range tc.events {
				w.feed(e)
			}
			if seqs := run(w); !slices.Equal(seqs, tc.seqs) {
				t.Errorf("run %v, want %v", seqs, tc.seqs)
			}
		})
	}
}

func TestWindowRead(t *testing.T) {
	w := newWindow(1<<20, metrics.New(nil))
	w.feed(seqEvent(3, 6, false)) // Seqs 3..6, ids 103..106
	w.feed(seqEvent(8, 8, false)) // 7 not seen yet
	for _, tc := range []struct {
		name string
		r    windowRead
		want []int64 // Seqs; nil with ok false: not from the window
		ok   bool
	}{
		{"cursor before the run", windowRead{seq: 2, heard: 6}, []int64{3, 4, 5, 6}, true},
		{"cursor in the run", windowRead{seq: 4, heard: 5}, []int64{5, 6}, true},
		{"nothing heard past the cursor", windowRead{seq: 4, heard: 4}, nil, false},
		{"cursor too old", windowRead{seq: 1, heard: 6}, nil, false},
		{"heard past the gap", windowRead{seq: 4, heard: 8}, nil, false},
		{"after the gap", windowRead{seq: 7, heard: 8}, []int64{8}, true},
		{"heard of more than seen", windowRead{seq: 8, heard: 9}, nil, false},
		{"key in the run", windowRead{id: 104, byID: true, heard: 6}, []int64{5, 6}, true},
		{"key of the first", windowRead{id: 103, byID: true, heard: 6}, []int64{4, 5, 6}, true},
		{"key before the run", windowRead{id: 102, byID: true, heard: 6}, nil, false},
		{"key before the gap", windowRead{id: 106, byID: true, heard: 8}, nil, false},
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
	if page, _ := w.read(chatKey, windowRead{seq: 2, heard: 3}, 2); len(page) != 2 || page[1].seq != 4 {
		t.Errorf("read with limit 2: %v", page)
	}
	w.feed(seqEvent(7, 7, false))
	if page, ok := w.read(chatKey, windowRead{seq: 4, heard: 8}, 10); !ok || len(page) != 4 {
		t.Errorf("read once the gap filled: %v %v", page, ok)
	}
	w.feed(seqEvent(9, 9, true))
	if _, ok := w.read(chatKey, windowRead{seq: 4, heard: 8}, 10); ok {
		t.Error("read answered after an OPER changed what it holds")
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
	if seqs := run(w); len(seqs) != windowConvMax || seqs[0] != 51 {
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

func TestBodyType(t *testing.T) {
	for _, b := range []*xsync.MessageBody{
		{Type: xsync.MessageBody_CHAT, Content: "hello", Ext: "{}"},
		{Type: xsync.MessageBody_OPER, Operation: &xsync.MessageOperation{Type: xsync.MessageOperation_RECALL, Mid: 7}},
		{Content: "no type: NORMAL"},
	} {
		payload, err := proto.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if typ, ok := bodyType(payload); !ok || typ != b.Type {
			t.Errorf("bodyType of %v: %v %v", b, typ, ok)
		}
	}
	if _, ok := bodyType([]byte{0x0a, 0x05, 'a'}); ok {
		t.Error("bodyType took a truncated payload")
	}
}
