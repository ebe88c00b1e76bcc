package loadtest

import (
	"context"
	"fmt"
	"time"

	"github.com/imgate/imgate/gateway/xsync"
)

// Via is how senders send.
type Via string

// The ways to send.
const (
	ViaWS   Via = "ws"   // over the sender's WebSocket (XSYNC SyncUL)
	ViaREST Via = "rest" // POST /message/send with the admin token and from_user_id
)

func (v Via) check() (Via, error) {
	switch v {
	case "":
		return ViaWS, nil
	case ViaWS, ViaREST:
		return v, nil
	}
	return v, fmt.Errorf("loadtest: via %q: want ws or rest", v)
}

// Kinds of sends, as reports and inboxes name them.
const (
	kindChat     = "chat"      // one to one over WebSocket (or, in chat, as --via says)
	kindChatREST = "chat_rest" // one to one through /message/send
	kindGroup    = "group"     // to a group over WebSocket
	kindOffline  = "offline"   // to devices offline, through /message/send (storm)
)

func checkRate(rate float64, d time.Duration) error {
	if rate <= 0 || d <= 0 {
		return fmt.Errorf("loadtest: the rate and the duration must be positive")
	}
	if int64(rate*d.Seconds()) < 1 {
		return fmt.Errorf("loadtest: %g msgs/s for %s sends nothing", rate, d)
	}
	return nil
}

// Chat is one-to-one chat: Pairs pairs of users, the first of each pair
// sending to the second, Rate messages per second in all for Duration.
// Over WebSocket both devices of a pair are online; over REST only the
// receivers (imgate lets users message non-friends, so no friendship is
// made).
type Chat struct {
	Pairs    int
	Rate     float64
	Duration time.Duration
	Via      Via
}

// Chat runs the chat scenario.
func (r *Runner) Chat(ctx context.Context, sc Chat) (*Report, error) {
	via, err := sc.Via.check()
	if err != nil {
		return nil, err
	}
	if sc.Pairs < 1 {
		return nil, fmt.Errorf("loadtest: chat needs at least one pair")
	}
	if err := checkRate(sc.Rate, sc.Duration); err != nil {
		return nil, err
	}
	rep := &Report{Scenario: "chat", Via: string(via), Users: 2 * sc.Pairs,
		Params: map[string]any{"pairs": sc.Pairs, "rate": sc.Rate, "duration": sc.Duration.String(), "via": via}}
	start := time.Now()
	us, err := r.users(ctx, 2*sc.Pairs)
	if err != nil {
		return nil, err
	}
	rep.SetupSeconds = time.Since(start).Seconds()
	if rep.Server, err = r.serverBefore(ctx); err != nil {
		return nil, err
	}
	from, to := us[:sc.Pairs], us[sc.Pairs:]
	online := us
	if via == ViaREST {
		online = to
	}
	devs, conn, err := r.connect(ctx, online, true)
	rep.Connect = conn
	if err != nil {
		return nil, err
	}
	defer closeAll(devs)
	rep.Server.endPhase(ctx, phaseConnect).count(int64(conn.Devices), 0, 0)
	receivers := devs[len(devs)-sc.Pairs:]
	senders := make([]sender, sc.Pairs)
	ids := make([]uint64, sc.Pairs)
	for i := range senders {
		receivers[i].in = newInbox()
		receivers[i].in.expect(from[i].id, from[i].id, kindChat)
		ids[i] = from[i].id
		if via == ViaWS {
			senders[i] = wsSender{dev: devs[i], to: to[i].id, typ: xsync.MessageBody_CHAT}
		} else {
			senders[i] = restSender{api: r.api, from: from[i].id, target: toUsers, to: to[i].id}
		}
	}
	r.measure(ctx, rep, run{
		senders: senders, from: ids, kind: kindChat, watch: receivers, all: devs, fanout: 1, rate: sc.Rate, duration: sc.Duration,
		pairs: func(outs []*outbox) []pair {
			ps := make([]pair, len(outs))
			for i, o := range outs {
				ps[i] = pair{o, receivers[i]}
			}
			return ps
		},
	})
	r.serverDuring(ctx, rep.Server, rep.Connect.Devices-rep.Disconnects)
	return rep, nil
}

// Group is one group of Members users, all online; the owner sends Rate
// messages per second to it for Duration, and each other member must
// receive every one.
type Group struct {
	Members int
	// Senders are the members that send (default 1, the owner), Rate in
	// all, each waiting for its answers as an app does: one sender sends
	// at most one message per answer time, so high rates need several.
	// The other members receive; each must get every sender's messages.
	Senders  int
	Rate     float64
	Duration time.Duration
	Via      Via
}

// Group runs the group scenario.
func (r *Runner) Group(ctx context.Context, sc Group) (*Report, error) {
	via, err := sc.Via.check()
	if err != nil {
		return nil, err
	}
	if sc.Senders <= 0 {
		sc.Senders = 1
	}
	if sc.Members < sc.Senders+1 {
		return nil, fmt.Errorf("loadtest: a group needs more members than senders")
	}
	if err := checkRate(sc.Rate, sc.Duration); err != nil {
		return nil, err
	}
	rep := &Report{Scenario: "group", Via: string(via), Users: sc.Members,
		Params: map[string]any{"members": sc.Members, "senders": sc.Senders, "rate": sc.Rate, "duration": sc.Duration.String(), "via": via}}
	start := time.Now()
	us, err := r.users(ctx, sc.Members)
	if err != nil {
		return nil, err
	}
	gid, err := r.group(ctx, us[0], us[1:])
	if err != nil {
		return nil, err
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
	receivers := devs[sc.Senders:]
	senders := make([]sender, sc.Senders)
	from := make([]uint64, sc.Senders)
	for i := range senders {
		senders[i], from[i] = wsSender{dev: devs[i], to: gid, typ: xsync.MessageBody_GROUPCHAT}, us[i].id
		if via == ViaREST {
			senders[i] = restSender{api: r.api, from: us[i].id, target: toGroups, to: gid}
		}
	}
	for _, d := range receivers {
		d.in = newInbox()
		for _, f := range from {
			d.in.expect(gid, f, kindGroup)
		}
	}
	r.measure(ctx, rep, run{
		senders: senders, from: from, conv: gid, kind: kindGroup, watch: receivers, all: devs,
		fanout: int64(len(receivers)), rate: sc.Rate, duration: sc.Duration,
		pairs: func(outs []*outbox) []pair {
			ps := make([]pair, 0, len(receivers)*len(outs))
			for _, d := range receivers {
				for _, o := range outs {
					ps = append(ps, pair{o, d})
				}
			}
			return ps
		},
	})
	r.serverDuring(ctx, rep.Server, rep.Connect.Devices-rep.Disconnects)
	return rep, nil
}

// Idle is Devices logged-in devices held for Duration, heartbeating as
// MaxIM's SDKs do.
type Idle struct {
	Devices  int
	Duration time.Duration
}

// Idle runs the idle scenario: it reports how fast the devices logged in,
// whether all of them stayed connected and, with a metrics URL, the
// server's RSS and goroutines per device (scraped before the logins and
// at the end of the hold).
func (r *Runner) Idle(ctx context.Context, sc Idle) (*Report, error) {
	if sc.Devices < 1 || sc.Duration < 0 {
		return nil, fmt.Errorf("loadtest: idle needs devices and a duration")
	}
	rep := &Report{Scenario: "idle", Users: sc.Devices,
		Params: map[string]any{"devices": sc.Devices, "duration": sc.Duration.String()}}
	start := time.Now()
	us, err := r.users(ctx, sc.Devices)
	if err != nil {
		return nil, err
	}
	rep.SetupSeconds = time.Since(start).Seconds()
	if rep.Server, err = r.serverBefore(ctx); err != nil {
		return nil, err
	}
	devs, conn, err := r.connect(ctx, us, false)
	rep.Connect = conn
	if err != nil {
		return nil, err
	}
	defer closeAll(devs)
	rep.Server.endPhase(ctx, phaseConnect).count(int64(conn.Devices), 0, 0)
	hctx, stop := context.WithCancel(ctx)
	go heartbeat(hctx, devs)
	r.hold(ctx, sc.Duration)
	stop()
	rep.Server.endPhase(ctx, phaseHold)
	rep.Disconnects, rep.FirstDisconnect = disconnects(devs)
	r.serverDuring(ctx, rep.Server, rep.Connect.Devices-rep.Disconnects)
	rep.judge()
	return rep, nil
}

// hold waits for d or until ctx ends, with a progress bar in seconds.
func (r *Runner) hold(ctx context.Context, d time.Duration) {
	bar := r.bars.bar(int64(d.Seconds()), "hold (s)", "")
	defer end(bar)
	deadline := time.Now().Add(d)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			bar.Add(1)
		case <-time.After(time.Until(deadline)):
		}
	}
}
