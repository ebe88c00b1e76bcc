package loadtest

import (
	"math"
	"strings"
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
				in.receive(from, meta(t, from, seq), tr, time.Now().UnixNano())
			}
			var got Deliveries
			got.add(out, in.from[out.key()])
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("deliveries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestForeign(t *testing.T) {
	in, tr := newInbox(7), newTracker()
	payload, _ := proto.Marshal(&xsync.MessageBody{Content: "not a stamp"})
	in.receive(7, &xsync.Meta{From: &xsync.XID{Uid: 7}, Payload: payload}, tr, 0)
	if in.foreign != 1 || tr.received.Load() != 0 {
		t.Errorf("foreign %d, received %d; want 1, 0", in.foreign, tr.received.Load())
	}
}

// TestResynced checks that a meta held from an earlier connection, sent
// again after a reconnect, is neither a duplicate nor a new receipt, and
// that a message stored twice (two ids, one sequence) is a duplicate.
func TestResynced(t *testing.T) {
	const from, group = 7, 90
	in, tr := newInbox(), newTracker()
	in.expect(group, from, kindGroup)
	in.want = 2
	m1, m2 := meta(t, from, 1), meta(t, from, 2)
	m1.Id, m2.Id = 1001, 1002
	now := time.Now().UnixNano()
	in.receive(group, m1, tr, now)
	in.receive(group, m1, tr, now) // the same id again: a resync
	in.receive(group, m2, tr, now)
	again := meta(t, from, 2)
	again.Id = 1003 // the same message stored twice
	in.receive(group, again, tr, now)
	out := &outbox{from: from, conv: group, kind: kindGroup}
	out.record(1, stored, nil)
	out.record(2, stored, nil)
	var got Deliveries
	got.add(out, in.from[out.key()])
	want := Deliveries{Expected: 2, Delivered: 2, Duplicates: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	if in.resynced != 1 || tr.resynced.Load() != 1 || tr.received.Load() != 2 {
		t.Errorf("resynced %d/%d, received %d; want 1/1, 2", in.resynced, tr.resynced.Load(), tr.received.Load())
	}
	if in.doneAt != now || tr.synced.Load() != 1 {
		t.Errorf("doneAt %d, synced %d; want %d, 1", in.doneAt, tr.synced.Load(), now)
	}
	if l := tr.kindLatency(kindGroup); l == nil || l.Count != 2 {
		t.Errorf("group latency %+v, want 2 receipts", l)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 42
go_goroutines_other 7
process_resident_memory_bytes 1.2345e+07 1764104400000
imgate_devices_online{node="a",note="odd } \" value"} 3
imgate_devices_online{node="b"} 4
`
	got, err := parseMetrics(strings.NewReader(text), metricGoroutines, metricRSS, metricDevices, "absent")
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 42 || got[1] != 12345000 || got[2] != 7 || !math.IsNaN(got[3]) {
		t.Errorf("parseMetrics = %v, want [42 12345000 7 NaN]", got)
	}
	if _, err := parseMetrics(strings.NewReader("go_goroutines{x=\"1\"\n"), metricGoroutines); err == nil {
		t.Error("parseMetrics accepted an unclosed label set")
	}
}
