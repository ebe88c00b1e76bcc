package loadtest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/imgate/imgate/gateway/xsync"
)

// Mixed is a blend of traffic at once over one set of users, 2×Pairs of
// them, all online:
//
//   - one-to-one chat at ChatRate messages per second in all: the first
//     user of each pair sends to the second, over its WebSocket, or, for
//     the RESTShare of the pairs (and so of the messages), through
//     /message/send;
//   - Groups groups of GroupSize members drawn from the same users, each
//     owned by a chat sender, whose owners send GroupRate messages per
//     second in all over their WebSockets;
//   - churn: Churn times per second a random chat receiver (a device that
//     never sends) closes its connection, stays away for Offline, logs in
//     again and syncs what it missed as an app does (UNREAD's answer,
//     then pulls with key 0).
//
// Every stored message must reach every device that should get it exactly
// once and in order, whether pushed or synced after a reconnect.
type Mixed struct {
	Pairs     int
	ChatRate  float64
	RESTShare float64 // 0..1
	Groups    int
	GroupSize int // members with the owner
	GroupRate float64
	Churn     float64       // drops per second
	Offline   time.Duration // how long a dropped device stays away; default 1s
	Duration  time.Duration
}

// kindRun is one kind of send of the mixed scenario.
type kindRun struct {
	kind    string
	rate    float64
	fanout  int64
	senders []sender
	outs    []*outbox
	pairs   []pair
	send    Send
}

// Mixed runs the mixed scenario.
func (r *Runner) Mixed(ctx context.Context, sc Mixed) (*Report, error) {
	if err := sc.check(); err != nil {
		return nil, err
	}
	if sc.Offline <= 0 {
		sc.Offline = time.Second
	}
	p := sc.Pairs
	nREST := int(math.Round(sc.RESTShare * float64(p)))
	if sc.RESTShare > 0 {
		nREST = max(nREST, 1)
	}
	if sc.RESTShare < 1 && sc.ChatRate > 0 && nREST == p {
		nREST = p - 1
	}
	if sc.ChatRate > 0 && (nREST == 0 && sc.RESTShare > 0 || nREST == p && sc.RESTShare < 1) {
		return nil, fmt.Errorf("loadtest: %d pairs cannot split %g of the chat to REST", p, sc.RESTShare)
	}
	rep := &Report{Scenario: "mixed", Users: 2 * p, Params: map[string]any{
		"pairs": p, "chat_rate": sc.ChatRate, "rest_share": sc.RESTShare, "groups": sc.Groups, "group_size": sc.GroupSize,
		"group_rate": sc.GroupRate, "churn": sc.Churn, "offline": sc.Offline.String(), "duration": sc.Duration.String(),
	}}
	start := time.Now()
	us, err := r.users(ctx, 2*p)
	if err != nil {
		return nil, err
	}
	a, b := us[:p], us[p:]
	type group struct {
		id      uint64
		owner   int   // index in us
		members []int // indexes in us, the owner excluded
	}
	groups := make([]group, sc.Groups)
	for g := range groups {
		owner := g % p
		var ms []int
		for k := 0; len(ms) < sc.GroupSize-1; k++ {
			// Members start among the receivers, whom churn drops,
			// so that groups are synced after reconnects too.
			if i := (p + g*(sc.GroupSize-1) + k) % (2*p - 1); i < owner {
				ms = append(ms, i)
			} else {
				ms = append(ms, i+1) // skips the owner
			}
		}
		members := make([]user, len(ms))
		for i, m := range ms {
			members[i] = us[m]
		}
		gid, err := r.group(ctx, us[owner], members)
		if err != nil {
			return nil, err
		}
		groups[g] = group{gid, owner, ms}
	}
	rep.SetupSeconds = time.Since(start).Seconds()
	if rep.Server, err = r.serverBefore(ctx); err != nil {
		return nil, err
	}
	devs, conn, err := r.connect(ctx, us, true)
	rep.Connect = conn
	if err != nil {
		return nil, err
	}
	defer closeAll(devs)
	rep.Server.endPhase(ctx, phaseConnect).count(int64(conn.Devices), 0, 0)
	for _, d := range devs {
		d.in = newInbox()
	}

	chatWS := &kindRun{kind: kindChat, rate: sc.ChatRate * (1 - sc.RESTShare), fanout: 1}
	chatREST := &kindRun{kind: kindChatREST, rate: sc.ChatRate * sc.RESTShare, fanout: 1}
	grp := &kindRun{kind: kindGroup, rate: sc.GroupRate, fanout: int64(sc.GroupSize - 1)}
	for i := range p {
		k := chatWS
		var s sender = wsSender{dev: devs[i], to: b[i].id, typ: xsync.MessageBody_CHAT}
		if i < nREST {
			k, s = chatREST, restSender{api: r.api, from: a[i].id, target: toUsers, to: b[i].id}
		}
		out := &outbox{from: a[i].id, kind: k.kind}
		devs[p+i].in.expect(a[i].id, a[i].id, k.kind)
		k.senders, k.outs = append(k.senders, s), append(k.outs, out)
		k.pairs = append(k.pairs, pair{out, devs[p+i]})
	}
	for _, g := range groups {
		owner := devs[g.owner]
		out := &outbox{from: owner.user.id, conv: g.id, kind: kindGroup}
		grp.senders = append(grp.senders, wsSender{dev: owner, to: g.id, typ: xsync.MessageBody_GROUPCHAT})
		grp.outs = append(grp.outs, out)
		for _, m := range g.members {
			devs[m].in.expect(g.id, owner.user.id, kindGroup)
			grp.pairs = append(grp.pairs, pair{out, devs[m]})
		}
	}
	var kinds []*kindRun
	for _, k := range []*kindRun{chatWS, chatREST, grp} {
		if k.rate > 0 && len(k.senders) > 0 {
			kinds = append(kinds, k)
		}
	}

	t := newTracker()
	stopWatch := watch(ctx, devs, t)
	stopRedial := r.redial(ctx, devs)
	defer stopRedial()
	hctx, stopBeat := context.WithCancel(ctx)
	defer stopBeat()
	go heartbeat(hctx, devs)

	var planned int64
	pacers := make([]*pacer, len(kinds))
	for i, k := range kinds {
		pacers[i] = newPacer(k.rate, sc.Duration)
		planned += pacers[i].total * k.fanout
	}
	bar := r.bars.bar(planned, "deliver", "msgs")
	bctx, stopBar := context.WithCancel(ctx)
	barDone := make(chan struct{})
	go func() {
		defer close(barDone)
		follow(bctx, bar, &t.received, nil)
	}()
	sendStart := time.Now()
	var stopChurn func() *Churn
	if sc.Churn > 0 {
		stopChurn = r.churn(ctx, devs[p:], sc.Churn, sc.Offline)
	}
	var wg sync.WaitGroup
	for i, k := range kinds {
		wg.Go(func() { k.send = pacers[i].run(ctx, k.senders, k.outs) })
	}
	wg.Wait()
	if stopChurn != nil {
		rep.Churn = stopChurn()
	}
	var want int64
	for _, k := range kinds {
		want += k.send.Stored * k.fanout
	}
	r.await(ctx, t, want)
	phase := rep.Server.endPhase(ctx, phaseSend)
	r.settle(ctx)
	stopBar()
	<-barDone
	end(bar)
	rep.Redials = stopRedial()
	rep.Disconnects, rep.FirstDisconnect = disconnects(devs)
	r.serverDuring(ctx, rep.Server, rep.Connect.Devices-rep.Disconnects)
	stopWatch()

	var all []pair
	var total Deliveries
	var stored int64
	for _, k := range kinds {
		stored += k.send.Stored
		d := tally(k.pairs)
		total.Expected += d.Expected
		total.Delivered += d.Delivered
		total.Lost += d.Lost
		total.Duplicates += d.Duplicates
		total.OutOfOrder += d.OutOfOrder
		total.Unexpected += d.Unexpected
		rep.Kinds = append(rep.Kinds, KindReport{Kind: k.kind, Send: &k.send, Deliveries: &d, Latency: t.kindLatency(k.kind)})
		all = append(all, k.pairs...)
	}
	faults(&total, all, devs)
	if last := t.lastAt.Load(); last > 0 {
		total.Seconds = time.Unix(0, last).Sub(sendStart).Seconds()
		total.PerSecond = float64(total.Delivered) / total.Seconds
	}
	rep.Deliveries, rep.Latency = &total, t.latency()
	phase.count(0, stored, total.Delivered)
	rep.Faults = r.cfg.Faults
	rep.judge()
	return rep, nil
}

func (sc Mixed) check() error {
	switch {
	case sc.Pairs < 1:
		return fmt.Errorf("loadtest: mixed needs at least one pair")
	case sc.Duration <= 0:
		return fmt.Errorf("loadtest: the duration must be positive")
	case sc.ChatRate < 0 || sc.GroupRate < 0 || sc.Churn < 0:
		return fmt.Errorf("loadtest: rates cannot be negative")
	case sc.RESTShare < 0 || sc.RESTShare > 1:
		return fmt.Errorf("loadtest: the REST share %g is not within 0..1", sc.RESTShare)
	case sc.Groups < 0:
		return fmt.Errorf("loadtest: groups cannot be negative")
	case sc.Groups > 0 && (sc.GroupSize < 2 || sc.GroupSize > 2*sc.Pairs):
		return fmt.Errorf("loadtest: a group of %d is not within 2..%d (the users)", sc.GroupSize, 2*sc.Pairs)
	case sc.GroupRate > 0 && sc.Groups == 0:
		return fmt.Errorf("loadtest: a group rate needs groups")
	}
	if sc.ChatRate == 0 && sc.GroupRate == 0 {
		return fmt.Errorf("loadtest: mixed needs a chat rate or a group rate")
	}
	for _, rate := range []float64{sc.ChatRate, sc.GroupRate} {
		if rate > 0 && int64(rate*sc.Duration.Seconds()) < 1 {
			return fmt.Errorf("loadtest: %g msgs/s for %s sends nothing", rate, sc.Duration)
		}
	}
	return nil
}

// churn drops and brings back random devices of devs, rate per second,
// until the returned function is called; that function waits for the
// devices away to come back and says how it went. A device is dropped
// again only once it is back.
func (r *Runner) churn(ctx context.Context, devs []*device, rate float64, offline time.Duration) func() *Churn {
	cctx, cancel := context.WithCancel(ctx)
	dl := r.dialers(len(devs))
	var wg sync.WaitGroup
	ret := newReturns()
	back := func(d *device) {
		d.session().Conn().Close()
		sleepUntil(cctx, time.Now().Add(offline))
		// The device comes back even when the run is ending, to any
		// node up, within comeBackWithin.
		at := time.Now()
		err := r.comeBack(context.Background(), d, r.nodes.pick(), dl.pick())
		ret.add(time.Since(at), err)
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	var loop sync.WaitGroup
	loop.Go(func() {
		defer tick.Stop()
		for {
			select {
			case <-cctx.Done():
				return
			case <-tick.C:
			}
			d := devs[rand.IntN(len(devs))]
			// A device already away, or that the server dropped
			// (redial brings it back), is left alone.
			if !d.busy.CompareAndSwap(false, true) {
				continue
			}
			select {
			case <-d.session().Done():
				d.busy.Store(false)
				continue
			default:
			}
			wg.Go(func() {
				defer d.busy.Store(false)
				back(d)
			})
		}
	})
	return func() *Churn {
		cancel()
		loop.Wait()
		wg.Wait()
		return &Churn{Reconnects: ret.back, Failed: ret.failed, FirstError: ret.first, LoginMs: summarize(ret.took)}
	}
}
