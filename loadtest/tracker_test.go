package loadtest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate/gateway/xsync"
)

func TestStamp(t *testing.T) {
	at := time.Unix(1764104400, 123456789)
	seq, sent, ok := parseStamp(stamp(42, at))
	if !ok || seq != 42 || sent != at.UnixNano() {
		t.Errorf("parseStamp(stamp(42, %v)) = %d, %d, %v", at, seq, sent, ok)
	}
	for _, bad := range []string{"", "hello", "lt ", "lt 1", "lt 0 5", "lt x 5", "lt 1 y"} {
		if _, _, ok := parseStamp(bad); ok {
			t.Errorf("parseStamp(%q) accepted", bad)
		}
	}
}

func meta(t *testing.T, from uint64, seq uint32) *xsync.Meta {
	t.Helper()
	payload, err := proto.Marshal(&xsync.MessageBody{Type: xsync.MessageBody_CHAT, Content: stamp(seq, time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	return &xsync.Meta{From: &xsync.XID{Uid: from}, Payload: payload}
}

// TestAccount checks the correctness counts from what a sender stored
// and the order in which a device received it.
func TestAccount(t *testing.T) {
	const from = 7
	tests := []struct {
		name     string
		fates    []fate
		received []uint32 // sequences, in the order received
		want     Deliveries
	}{
		{"all once in order", []fate{stored, stored, stored}, []uint32{1, 2, 3},
			Deliveries{Expected: 3, Delivered: 3}},
		{"one lost", []fate{stored, stored, stored}, []uint32{1, 3},
			Deliveries{Expected: 3, Delivered: 2, Lost: 1}},
		{"one twice", []fate{stored, stored}, []uint32{1, 2, 1},
			Deliveries{Expected: 2, Delivered: 2, Duplicates: 1}},
		{"reordered", []fate{stored, stored, stored}, []uint32{1, 3, 2},
			Deliveries{Expected: 3, Delivered: 3, OutOfOrder: 1}},
		{"a refused one arrives", []fate{stored, refused}, []uint32{1, 2},
			Deliveries{Expected: 1, Delivered: 1, Unexpected: 1}},
		{"an unanswered one arrives", []fate{stored, unknown}, []uint32{1, 2},
			Deliveries{Expected: 1, Delivered: 1}},
		{"one never sent arrives", []fate{stored}, []uint32{1, 5},
			Deliveries{Expected: 1, Delivered: 1, Unexpected: 1}},
		{"nothing arrives", []fate{stored, stored}, nil,
			Deliveries{Expected: 2, Lost: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &outbox{from: from}
			for i, f := range tt.fates {
				out.record(uint32(i+1), f, nil)
			}
			in, tr := newInbox(from), newTracker()
			for _, seq := range tt.received {
				in.receive(meta(t, from, seq), tr, time.Now().UnixNano())
			}
			var got Deliveries
			got.add(out, in.from[from])
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("deliveries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestForeign(t *testing.T) {
	in, tr := newInbox(7), newTracker()
	payload, _ := proto.Marshal(&xsync.MessageBody{Content: "not a stamp"})
	in.receive(&xsync.Meta{From: &xsync.XID{Uid: 7}, Payload: payload}, tr, 0)
	if in.foreign != 1 || tr.received.Load() != 0 {
		t.Errorf("foreign %d, received %d; want 1, 0", in.foreign, tr.received.Load())
	}
}
