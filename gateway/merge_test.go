package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/metrics"
)

// recordConn is a transport that keeps a copy of every message written.
type recordConn struct {
	discardConn
	mu   sync.Mutex
	msgs [][]byte
}

func (r *recordConn) write(_ context.Context, _ websocket.MessageType, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, append([]byte(nil), data...)) // the writer reuses its buffer
	return nil
}

// decodeDL decodes a server message as the client package does.
func decodeDL(t *testing.T, data []byte) proto.Message {
	t.Helper()
	var f xsync.Frame
	if err := proto.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	m, err := xsync.NewDown(f.Command)
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(f.Payload, m); err != nil {
		t.Fatal(err)
	}
	return m
}

// pushOf is the eager push of metas to xid on the codec, delivering them.
func pushOf(t *testing.T, c codec, xid uint64, metas []*xsync.Meta) outMsg {
	t.Helper()
	m, err := encodePush(c, &xsync.XID{Uid: xid}, metas)
	if err != nil {
		t.Fatal(err)
	}
	m.items = &delivered{kind: metrics.Group, path: metrics.Push, n: len(metas), at: time.Now().UnixNano()}
	return m
}

// drain queues msgs, runs a writer until it has written them, and
// returns what it wrote.
func drain(t *testing.T, m *metrics.Metrics, msgs []outMsg) ([][]byte, *writer) {
	t.Helper()
	conn := &recordConn{}
	w := newWriter(64<<20, m, conn, time.Second, &deadlines{}, func(err error) {
		if err != nil {
			t.Error(err)
		}
	})
	w.running = true // as if a drain ran: queue everything before writing
	for _, msg := range msgs {
		if !w.enqueue(msg) {
			t.Fatal("queue full")
		}
	}
	w.stopping = true
	w.drain() // write what is queued, then end
	if got := w.wrote.Load(); got != int64(len(msgs)) {
		t.Fatalf("wrote %d messages, want %d", got, len(msgs))
	}
	return conn.msgs, w
}

func TestWriterMergesPushes(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	metas := groupMetas(t, 5, 9)
	notices := groupMetas(t, 0, 3)
	noticeA, noticeB := pushOf(t, binaryCodec{}, 0, notices[:1]), pushOf(t, binaryCodec{}, 0, notices[1:])
	noticeA.notice, noticeB.notice = 41, 43
	_, noticeData, err := binaryCodec{}.encode(xsync.Frame_NOTICE, &xsync.Notice{Xid: &xsync.XID{Uid: 5}})
	if err != nil {
		t.Fatal(err)
	}
	jsonPush := pushOf(t, jsonCodec{}, 5, metas[8:9])
	if jsonPush.push != nil {
		t.Fatal("a JSON push is marked mergeable")
	}
	queue := []outMsg{
		pushOf(t, binaryCodec{}, 5, metas[0:1]),
		pushOf(t, binaryCodec{}, 5, metas[1:3]), // an event of two messages
		pushOf(t, binaryCodec{}, 5, metas[3:4]),
		{typ: websocket.MessageBinary, data: noticeData}, // ends the run
		pushOf(t, binaryCodec{}, 5, metas[4:5]),
		pushOf(t, binaryCodec{}, 6, metas[5:6]), // another conversation
		pushOf(t, binaryCodec{}, 6, metas[6:7]),
		noticeA, noticeB, // notices merge, and the cursor moves to the last
		pushOf(t, binaryCodec{}, 5, metas[7:8]),
	}
	want := []proto.Message{
		&xsync.SyncDL{Status: ok(), Xid: &xsync.XID{Uid: 5}, Metas: metas[0:4], IsEagerSync: true},
		&xsync.Notice{Xid: &xsync.XID{Uid: 5}},
		&xsync.SyncDL{Status: ok(), Xid: &xsync.XID{Uid: 5}, Metas: metas[4:5], IsEagerSync: true},
		&xsync.SyncDL{Status: ok(), Xid: &xsync.XID{Uid: 6}, Metas: metas[5:7], IsEagerSync: true},
		&xsync.SyncDL{Status: ok(), Xid: &xsync.XID{Uid: 0}, Metas: notices, IsEagerSync: true},
		&xsync.SyncDL{Status: ok(), Xid: &xsync.XID{Uid: 5}, Metas: metas[7:8], IsEagerSync: true},
	}
	got, w := drain(t, m, queue)
	if len(got) != len(want) {
		t.Fatalf("%d messages written, want %d", len(got), len(want))
	}
	for i := range want {
		if msg := decodeDL(t, got[i]); !proto.Equal(msg, want[i]) {
			t.Errorf("message %d:\n got %v\nwant %v", i, msg, want[i])
		}
	}
	// A merged frame is what encoding the merged SyncDL makes, byte for byte.
	if _, data, _ := (binaryCodec{}).encode(xsync.Frame_SYNC, want[0]); string(data) != string(got[0]) {
		t.Errorf("merged frame % x, want % x", got[0], data)
	}
	if w.noticeWritten() != 43 {
		t.Errorf("notice cursor %d after writing notices through 43", w.noticeWritten())
	}
	delivered := 0
	for _, q := range queue {
		if q.items != nil {
			delivered += q.items.n
		}
	}
	if got := Gathered(t, reg, "imgate_deliveries_total", map[string]string{"kind": "group", "path": "push"}); got != float64(delivered) {
		t.Errorf("imgate_deliveries_total %v, want %d", got, delivered)
	}
	if got := Gathered(t, reg, "imgate_fanout_latency_seconds", map[string]string{"kind": "group", "path": "push"}); got != float64(delivered) {
		t.Errorf("fan-out latency observed %v times, want %d", got, delivered)
	}
	if got := Gathered(t, reg, "imgate_session_queue_seconds", nil); got != float64(len(queue)) {
		t.Errorf("queue time observed %v times, want once per queued message (%d)", got, len(queue))
	}
}

func TestWriterMergeCaps(t *testing.T) {
	t.Run("metas", func(t *testing.T) {
		metas := groupMetas(t, 5, 2*mergeMaxMetas+50)
		var queue []outMsg
		for i := range metas {
			queue = append(queue, pushOf(t, binaryCodec{}, 5, metas[i:i+1]))
		}
		got, _ := drain(t, metrics.New(nil), queue)
		var all []*xsync.Meta
		for i, data := range got {
			dl := decodeDL(t, data).(*xsync.SyncDL)
			if len(dl.Metas) > mergeMaxMetas {
				t.Errorf("message %d carries %d metas, more than %d", i, len(dl.Metas), mergeMaxMetas)
			}
			all = append(all, dl.Metas...)
		}
		if len(got) != 3 {
			t.Errorf("%d messages, want 3", len(got))
		}
		if !proto.Equal(&xsync.SyncDL{Metas: all}, &xsync.SyncDL{Metas: metas}) {
			t.Error("the metas were not all written in order")
		}
	})
	t.Run("bytes", func(t *testing.T) {
		var queue []outMsg
		var metas []*xsync.Meta
		for i := range 10 {
			meta := groupMetas(t, 5, 1)[0]
			meta.Id = uint64(i + 1)
			meta.Payload = []byte(strings.Repeat(fmt.Sprint(i), 20<<10))
			metas = append(metas, meta)
			queue = append(queue, pushOf(t, binaryCodec{}, 5, []*xsync.Meta{meta}))
		}
		big := groupMetas(t, 5, 1)[0]
		big.Payload = make([]byte, 100<<10) // alone over the cap: written alone
		metas = append(metas, big)
		queue = append(queue, pushOf(t, binaryCodec{}, 5, []*xsync.Meta{big}))
		got, _ := drain(t, metrics.New(nil), queue)
		var all []*xsync.Meta
		for i, data := range got {
			dl := decodeDL(t, data).(*xsync.SyncDL)
			if len(data) > mergeMaxBytes && len(dl.Metas) > 1 {
				t.Errorf("merged message %d is %d bytes, more than %d", i, len(data), mergeMaxBytes)
			}
			all = append(all, dl.Metas...)
		}
		if len(got) != 4+1 { // three 20 KiB metas fit in 64 KiB: ten make four frames; the big one goes alone
			t.Errorf("%d messages, want 5", len(got))
		}
		if !proto.Equal(&xsync.SyncDL{Metas: all}, &xsync.SyncDL{Metas: metas}) {
			t.Error("the metas were not all written in order")
		}
	})
}

func TestSplitPushRefuses(t *testing.T) {
	meta := groupMetas(t, 5, 1)
	frame := func(f *xsync.Frame, dl *xsync.SyncDL) []byte {
		return fuzzFrame(t, f, dl)
	}
	eager := &xsync.SyncDL{Status: ok(), Xid: &xsync.XID{Uid: 5}, Metas: meta, IsEagerSync: true}
	for name, data := range map[string][]byte{
		"compressed": frame(&xsync.Frame{Command: xsync.Frame_SYNC, CompressMethod: xsync.Frame_ZLIB}, eager),
		"encrypted":  frame(&xsync.Frame{Command: xsync.Frame_SYNC, EncryptMethod: xsync.Frame_AES_CBC_128}, eager),
		"tagged":     frame(&xsync.Frame{Command: xsync.Frame_SYNC, Tag: "t"}, eager),
		"notice":     frame(&xsync.Frame{Command: xsync.Frame_NOTICE}, eager),
		"no metas":   frame(&xsync.Frame{Command: xsync.Frame_SYNC}, &xsync.SyncDL{Status: ok(), IsEagerSync: true}),
		"garbage":    []byte("\xff\xff\xff"),
	} {
		if splitPush(data) != nil {
			t.Errorf("%s: split as a mergeable push", name)
		}
	}
	if splitPush(frame(&xsync.Frame{Command: xsync.Frame_SYNC}, eager)) == nil {
		t.Error("an eager push is not mergeable")
	}
}
