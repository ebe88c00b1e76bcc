package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway/xsync"
)

// discardConn is a transport that drops what is written: the whole write
// path but the socket. It counts the WebSocket messages it was given.
type discardConn struct{ writes atomic.Int64 }

func (d *discardConn) read(ctx context.Context) (websocket.MessageType, []byte, error) {
	<-ctx.Done()
	return 0, nil, ctx.Err()
}

func (d *discardConn) write(context.Context, websocket.MessageType, []byte) error {
	d.writes.Add(1)
	return nil
}

func (d *discardConn) close(websocket.StatusCode, string) error { return nil }
func (d *discardConn) closeNow() error                          { return nil }

// deliveryServer is a Server with just what delivering to sessions
// needs: a hub, limits and metrics; no store, no core.
func deliveryServer(cfg Config) *Server {
	return &Server{
		cfg: cfg.withDefaults(), hub: NewHub(), log: slog.New(slog.DiscardHandler), now: time.Now,
		live: map[*session]struct{}{},
	}
}

// loggedIn returns a session of user on conn as login and setup leave
// it: registered in the hub, routed the groups with cursors at their
// start, its writer idle. It ends with the test.
func loggedIn(tb testing.TB, srv *Server, conn transport, c codec, user int64, groups ...int64) *session {
	tb.Helper()
	s := newSession(srv, conn, c)
	s.app, s.user, s.sn, s.since = "app", user, 1, time.Now()
	if _, ok := srv.hub.login(s, srv.cfg.MaxDevices); !ok {
		tb.Fatalf("login of %d refused", user)
	}
	s.mu.Lock()
	for _, g := range groups {
		s.groups[g] = true
		srv.hub.subscribe(s, g)
		s.cursors[imgate.Conv{Kind: imgate.ConvGroup, Peer: g}] = &cursor{}
	}
	s.groupsReady, s.settled, s.primed = true, true, true
	s.mu.Unlock()
	tb.Cleanup(func() {
		s.stop(closeShutdown)
		<-s.w.ended
		s.logout(context.Background())
	})
	return s
}

// groupMetas are n metas of group messages of a typical length.
func groupMetas(tb testing.TB, group int64, n int) []*xsync.Meta {
	tb.Helper()
	metas := make([]*xsync.Meta, n)
	for i := range metas {
		body, err := proto.Marshal(&xsync.MessageBody{Type: xsync.MessageBody_GROUPCHAT, Content: fmt.Sprintf("message %d to the group, of a typical length", i)})
		if err != nil {
			tb.Fatal(err)
		}
		metas[i] = &xsync.Meta{
			Id: uint64(100000000 + i), From: &xsync.XID{Uid: 7, DeviceSN: 1}, To: &xsync.XID{Uid: uint64(group)},
			Timestamp: uint64(time.Now().UnixMilli()), Ns: xsync.Meta_MESSAGE, Payload: body,
		}
	}
	return metas
}

// groupEvent is the Stored event of the group's message of Seq seq.
func groupEvent(group, seq int64, metas []*xsync.Meta) *delivery.Event {
	return &delivery.Event{
		Kind: delivery.Stored, App: "app", Conv: imgate.Conv{Kind: imgate.ConvGroup, Peer: group},
		From: 7, FromDevice: 1, FirstSeq: seq, LastSeq: seq, LastID: seq, Metas: metas,
		Accepted: time.Now().UnixNano(),
	}
}

// waitWritten waits until the writers of every session have written n
// queued messages.
func waitWritten(tb testing.TB, sessions []*session, n int64) {
	for _, s := range sessions {
		for s.w.wrote.Load() < n {
			if s.ctx.Err() != nil {
				tb.Fatalf("session of %d stopped (%v) with %d of %d messages written", s.user, s.reason, s.w.wrote.Load(), n)
			}
			runtime.Gosched()
		}
	}
}

// BenchmarkHubBroadcast delivers a group's messages, one event each, to
// its members' sessions, through the writers to a transport that drops
// the bytes. An op is one group message; ns/delivery and allocs/delivery
// divide by the sessions it reaches. The sender runs at most
// broadcastLag messages ahead of the slowest writer, as a steady stream
// of messages would, and the time includes writing all of them.
func BenchmarkHubBroadcast(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) { benchBroadcast(b, n) })
	}
}

const broadcastLag = 64

func benchBroadcast(b *testing.B, n int) {
	const group = 5
	srv := deliveryServer(Config{})
	conn := &discardConn{}
	sessions := make([]*session, n)
	for i := range sessions {
		sessions[i] = loggedIn(b, srv, conn, binaryCodec{}, int64(1000+i), group)
	}
	metas := groupMetas(b, group, 1)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		srv.hub.Deliver(groupEvent(group, int64(i+1), metas))
		if i%16 == 15 && i >= broadcastLag {
			waitWritten(b, sessions, int64(i+1-broadcastLag))
		}
	}
	waitWritten(b, sessions, int64(b.N))
	b.StopTimer()
	runtime.ReadMemStats(&after)
	d := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/d, "ns/delivery")
	b.ReportMetric(d/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/d, "allocs/delivery")
	b.ReportMetric(float64(conn.writes.Load())/d, "writes/delivery")
}

// BenchmarkEncode encodes an eager SyncDL of a group's metas, once per
// group message in the hub, with each codec.
func BenchmarkEncode(b *testing.B) {
	for _, c := range []struct {
		name  string
		codec codec
	}{{"binary", binaryCodec{}}, {"json", jsonCodec{}}} {
		for _, n := range []int{1, 10} {
			b.Run(fmt.Sprintf("%s/metas=%d", c.name, n), func(b *testing.B) {
				dl := &xsync.SyncDL{Status: ok(), Xid: &xsync.XID{Uid: 5}, Metas: groupMetas(b, 5, n), IsEagerSync: true}
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := c.codec.encode(xsync.Frame_SYNC, dl); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
