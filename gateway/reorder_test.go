package gateway

import (
	"testing"
	"time"

	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway/xsync"
)

// received decodes what a recordConn got into the metas pushed (by their
// ids) and the NOTICEs.
func received(t *testing.T, rc *recordConn) (ids []uint64, notices int) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, data := range rc.msgs {
		switch m := decodeDL(t, data).(type) {
		case *xsync.SyncDL:
			for _, meta := range m.Metas {
				ids = append(ids, meta.Id)
			}
		case *xsync.Notice:
			notices++
		}
	}
	return ids, notices
}

// TestReorder delivers a group's events out of order, as two store
// writers or two Redis channels can: the hub holds the early one and
// pushes both in order, with no NOTICE; an event whose predecessor never
// comes is delivered after the hold, and the session asks for a pull.
func TestReorder(t *testing.T) {
	srv := deliveryServer(Config{})
	rc := &recordConn{}
	s := loggedIn(t, srv, rc, binaryCodec{}, 5, 42)
	metas := groupMetas(t, 42, 4)
	ev := func(seq int64) *delivery.Event { return groupEvent(42, seq, metas[seq-1:seq]) }
	srv.hub.Deliver(ev(1))
	srv.hub.Deliver(ev(3)) // ahead of 2: held
	srv.hub.Deliver(ev(2)) // fills the gap: 2 then 3
	waitWritten(t, []*session{s}, 3)
	ids, notices := received(t, rc)
	if len(ids) != 3 || ids[0] != metas[0].Id || ids[1] != metas[1].Id || ids[2] != metas[2].Id || notices != 0 {
		t.Fatalf("pushed %v with %d NOTICEs, want the first three metas in order and none", ids, notices)
	}
	// Seq 5 comes without 4: after the hold it is delivered, and the
	// session, seeing the gap, sends a NOTICE instead.
	sent := time.Now()
	srv.hub.Deliver(groupEvent(42, 5, groupMetas(t, 42, 1)))
	time.Sleep(holdEarly / 2)
	// On a loaded machine the sleep may outlast the hold: only a NOTICE
	// seen before the hold could have run out is wrong.
	if _, n := received(t, rc); n != 0 && time.Since(sent) < holdEarly {
		t.Fatalf("NOTICE before the hold ran out")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, n := received(t, rc); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no NOTICE after the hold")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ids, _ := received(t, rc); len(ids) != 3 {
		t.Errorf("pushed %d metas, want 3: seq 5 follows a gap", len(ids))
	}
}
