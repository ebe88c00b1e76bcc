package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/imgate/imgate/client"
)

// Storm is a reconnection storm: Devices devices (one user each) log in
// and hold their connections for Hold, then all drop at once. While they
// are offline, Senders other users send each of them Messages messages
// through /message/send (one request carries a message to up to MaxList
// devices). Then every device reconnects at once, Wave logins in flight,
// and syncs as an app does: its first heartbeat's answer (UnreadDL) lists
// the conversation with its unread count, and it pulls it with key 0,
// following next_key. A device is synced when it holds every message it
// was sent, once each, in order.
type Storm struct {
	Devices  int
	Messages int           // per device, sent while all are offline; default 5
	Senders  int           // users sending them; default 10 (at most Devices)
	Hold     time.Duration // online before the drop; default 1s
	Wave     int           // logins in flight during the reconnect wave; 0: every device at once
}

// StormReport is what the reconnect wave measured.
type StormReport struct {
	Devices           int `json:"devices"`
	MessagesPerDevice int `json:"messages_per_device"`
	Senders           int `json:"senders"`
	// DropSeconds is how long closing every connection took.
	DropSeconds float64 `json:"drop_seconds"`
	// Wave is the logins in flight during the reconnect wave.
	Wave        int    `json:"wave"`
	Logins      int    `json:"logins"`
	LoginFailed int    `json:"login_failed"`
	FirstError  string `json:"first_error,omitempty"`
	// LoginSeconds runs from the wave's start to the last login (dial,
	// PROVISION, first UNREAD sent); LoginsPerSecond is Logins over it.
	LoginSeconds    float64 `json:"login_seconds"`
	LoginsPerSecond float64 `json:"logins_per_second"`
	// Synced counts devices that got all they were sent; SyncedSeconds
	// runs from the wave's start until the last of them did.
	Synced        int     `json:"synced"`
	SyncedSeconds float64 `json:"synced_seconds"`
	// SyncMs is, per device, the time from the wave's start until it
	// was synced.
	SyncMs *Latency `json:"sync_ms,omitempty"`
	// UnreadMismatches counts devices whose first UnreadDL did not give
	// the number of messages they were sent.
	UnreadMismatches    int    `json:"unread_mismatches"`
	FirstUnreadMismatch string `json:"first_unread_mismatch,omitempty"`
}

// Storm runs the storm scenario.
func (r *Runner) Storm(ctx context.Context, sc Storm) (*Report, error) {
	if sc.Devices < 1 {
		return nil, fmt.Errorf("loadtest: a storm needs devices")
	}
	sc.Messages = defaultInt(sc.Messages, 5)
	sc.Senders = min(defaultInt(sc.Senders, 10), sc.Devices)
	if sc.Hold <= 0 {
		sc.Hold = time.Second
	}
	if sc.Wave <= 0 || sc.Wave > sc.Devices {
		sc.Wave = sc.Devices
	}
	rep := &Report{Scenario: "storm", Users: sc.Devices + sc.Senders, Params: map[string]any{
		"devices": sc.Devices, "messages": sc.Messages, "senders": sc.Senders, "hold": sc.Hold.String(), "wave": sc.Wave,
	}}
	st := &StormReport{Devices: sc.Devices, MessagesPerDevice: sc.Messages, Senders: sc.Senders, Wave: sc.Wave}
	rep.Storm = st
	start := time.Now()
	us, err := r.users(ctx, sc.Devices+sc.Senders)
	if err != nil {
		return nil, err
	}
	rep.SetupSeconds = time.Since(start).Seconds()
	senders, users := us[:sc.Senders], us[sc.Senders:]
	srv, err := r.serverBefore(ctx)
	if err != nil {
		return nil, err
	}
	rep.Server = srv

	// Every device online, then all drop.
	devs, conn, err := r.connect(ctx, users, true)
	rep.Connect = conn
	if err != nil {
		return nil, err
	}
	srv.endPhase(ctx, phaseConnect).count(int64(conn.Devices), 0, 0)
	hctx, stopBeat := context.WithCancel(ctx)
	go heartbeat(hctx, devs)
	r.hold(ctx, sc.Hold)
	stopBeat()
	drop := time.Now()
	closeAll(devs)
	st.DropSeconds = time.Since(drop).Seconds()

	// Messages to the offline devices.
	srv.mark(ctx)
	pairs, send := r.sendOffline(ctx, senders, devs, sc.Messages)
	rep.Send = &send
	srv.endPhase(ctx, phaseSend).count(0, send.Stored, 0)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// The reconnect wave.
	t := newTracker()
	for _, p := range pairs {
		if p.dev.in == nil {
			p.dev.in = newInbox()
		}
		p.dev.in.expect(p.out.from, p.out.from, kindOffline)
		p.dev.in.sender = p.out.from
		for _, f := range p.out.fates {
			if f == stored {
				p.dev.in.want++
			}
		}
	}
	waveStart, phase, stopWatch := r.wave(ctx, st, srv, devs, t)
	defer closeAll(devs)
	rep.Disconnects, rep.FirstDisconnect = disconnects(devs)
	r.serverDuring(ctx, srv, st.Synced)
	stopWatch()

	h := newHistogram()
	for _, d := range devs {
		if d.in.doneAt > 0 {
			took := time.Duration(d.in.doneAt - waveStart.UnixNano())
			recordDuration(h, took)
			st.SyncedSeconds = max(st.SyncedSeconds, took.Seconds())
		}
	}
	st.SyncMs = summarize(h)
	del := account(pairs, devs)
	del.Seconds, del.PerSecond = st.SyncedSeconds, float64(del.Delivered)/max(st.SyncedSeconds, 1e-9)
	rep.Deliveries = &del
	phase.count(int64(st.Logins), 0, del.Delivered)
	rep.judge()
	return rep, nil
}

// sendOffline sends k messages to each device from the senders, device i
// getting them from sender i mod len(senders), MaxList devices per
// request. Each sender sends its sequence 1..k to each batch of its
// devices in order, so each device sees one ordered stream. It returns
// who must get what.
func (r *Runner) sendOffline(ctx context.Context, senders []user, devs []*device, k int) ([]pair, Send) {
	type batch struct {
		out  *outbox
		devs []*device
	}
	var batches []batch
	for s, from := range senders {
		var mine []*device
		for i := s; i < len(devs); i += len(senders) {
			mine = append(mine, devs[i])
		}
		for lo := 0; lo < len(mine); lo += r.cfg.MaxList {
			batches = append(batches, batch{&outbox{from: from.id, kind: kindOffline}, mine[lo:min(lo+r.cfg.MaxList, len(mine))]})
		}
	}
	total := int64(len(devs) * k)
	bar := r.bars.bar(total, "send offline", "msgs")
	defer end(bar)
	var mu sync.Mutex
	answers := newHistogram()
	start := time.Now()
	var g errgroup.Group
	g.SetLimit(r.cfg.Concurrency)
	for _, b := range batches {
		ids := make([]uint64, len(b.devs))
		for i, d := range b.devs {
			ids[i] = d.user.id
		}
		g.Go(func() error {
			for seq := uint32(1); seq <= uint32(k); seq++ {
				if ctx.Err() != nil {
					return nil
				}
				sctx, cancel := context.WithTimeout(ctx, sendTimeout)
				at := time.Now()
				err := r.api.sendMany(sctx, b.out.from, toUsers, ids, stamp(seq, at))
				cancel()
				mu.Lock()
				recordDuration(answers, time.Since(at))
				mu.Unlock()
				b.out.record(seq, fateOf(err), err)
				bar.Add(len(ids))
			}
			return nil
		})
	}
	g.Wait()
	elapsed := time.Since(start)
	s := Send{Planned: total, Seconds: elapsed.Seconds()}
	var pairs []pair
	for _, b := range batches {
		n := int64(len(b.devs))
		for _, f := range b.out.fates {
			switch f {
			case stored:
				s.Stored += n
			case refused:
				s.Refused += n
			case unknown:
				s.Unanswered += n
			}
		}
		if b.out.first != "" && s.FirstError == "" {
			s.FirstError = b.out.first
		}
		for _, d := range b.devs {
			pairs = append(pairs, pair{b.out, d})
		}
	}
	s.Attempted = s.Stored + s.Refused + s.Unanswered
	s.PerSecond = float64(s.Stored) / elapsed.Seconds()
	s.AnswerMs = summarize(answers)
	return pairs, s
}

// wave reconnects every device, st.Wave at a time, makes each sync what
// its first heartbeat's answer lists, and waits until every device is
// synced (then settle longer for duplicates), or Grace after the last
// login. It fills st's login and sync counts and returns when the wave
// started, the server's spending on it (ended when all synced: nil
// without a server to read) and a function that stops watching the
// devices.
func (r *Runner) wave(ctx context.Context, st *StormReport, srv *Server, devs []*device, t *tracker) (time.Time, *Phase, func()) {
	bar := r.bars.bar(int64(len(devs)), "reconnect+sync", "devices")
	defer end(bar)
	dl := r.dialers(len(devs))
	wctx, cancel := context.WithCancel(ctx)
	var watchers sync.WaitGroup
	var failed, mismatched atomic.Int64
	var firstErr, firstMismatch atomic.Pointer[string]
	var lastLogin atomic.Int64
	bctx, stopBar := context.WithCancel(ctx)
	barDone := make(chan struct{})
	go func() { defer close(barDone); follow(bctx, bar, &t.synced, nil) }()

	start := time.Now()
	var g errgroup.Group
	g.SetLimit(st.Wave)
	for _, d := range devs {
		g.Go(func() error {
			if err := r.reconnect(wctx, d, r.nodes.home(int(d.user.id%uint64(r.nodes.len()))), dl.pick()); err != nil {
				failed.Add(1)
				s := fmt.Sprintf("device of %s: %v", d.user.name, err)
				firstErr.CompareAndSwap(nil, &s)
				return nil
			}
			lastLogin.Store(time.Now().UnixNano())
			watchers.Go(func() { watchDevice(wctx, d, t) })
			watchers.Go(func() {
				n, err := syncUnread(wctx, d.session())
				if err != nil {
					if wctx.Err() == nil {
						mismatched.Add(1)
						s := fmt.Sprintf("device of %s: %v", d.user.name, err)
						firstMismatch.CompareAndSwap(nil, &s)
					}
					return
				}
				// Each device has one conversation, its sender's; want
				// is not written once the wave has begun.
				want := uint32(d.in.want)
				if got := n[d.in.sender]; got != want || len(n) != 1 {
					mismatched.Add(1)
					s := fmt.Sprintf("device of %s: UnreadDL counts %v, want %d from the sender", d.user.name, n, want)
					firstMismatch.CompareAndSwap(nil, &s)
				}
			})
			return nil
		})
	}
	g.Wait()
	st.Logins = len(devs) - int(failed.Load())
	st.LoginFailed = int(failed.Load())
	if p := firstErr.Load(); p != nil {
		st.FirstError = *p
	}
	if last := lastLogin.Load(); last > 0 {
		st.LoginSeconds = time.Duration(last - start.UnixNano()).Seconds()
		st.LoginsPerSecond = float64(st.Logins) / st.LoginSeconds
	}
	r.awaitCount(ctx, &t.synced, int64(st.Logins))
	phase := srv.endPhase(ctx, phaseReconnect)
	r.settle(ctx)
	stopBar()
	<-barDone
	st.Synced = int(t.synced.Load())
	st.UnreadMismatches = int(mismatched.Load())
	if p := firstMismatch.Load(); p != nil {
		st.FirstUnreadMismatch = *p
	}
	return start, phase, func() {
		cancel()
		watchers.Wait()
		for _, d := range devs {
			c := d.cur.Load()
			c.sess.Read(func(v client.View) { d.in.take(c.sess, c.since, v, t) })
		}
	}
}
