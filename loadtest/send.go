package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/imgate/imgate/gateway/xsync"
)

// sender sends one message whose content is given.
type sender interface {
	send(ctx context.Context, content string) (fate, error)
}

// wsSender sends from a device over its WebSocket.
type wsSender struct {
	dev *device
	to  uint64
	typ xsync.MessageBody_Type
}

// send sends once the device is connected: while it is coming back
// after the server dropped it, the send waits, as an app's would.
func (s wsSender) send(ctx context.Context, content string) (fate, error) {
	sess, err := s.dev.live(ctx)
	if err != nil {
		return unknown, err
	}
	body := &xsync.MessageBody{Type: s.typ, Ctype: xsync.MessageBody_TEXT, Content: content}
	dl, err := sess.Send(ctx, s.dev.xid(), s.to, body)
	if err != nil {
		return unknown, err
	}
	if st := dl.GetStatus(); st.GetCode() != xsync.Status_OK || dl.ServerMid == 0 {
		return refused, &wsRefusal{from: s.dev.user.name, code: st.GetCode(), reason: st.GetReason()}
	}
	return stored, nil
}

// wsRefusal is a send over XSYNC answered with a status other than OK
// (or without a server id).
type wsRefusal struct {
	from   string
	code   xsync.Status_ErrorCode
	reason string
}

func (e *wsRefusal) Error() string {
	return fmt.Sprintf("loadtest: send from %s refused: %s %s", e.from, e.code, e.reason)
}

func (e *wsRefusal) refusal() string { return "xsync " + e.code.String() }

// restSender sends through /message/send with the admin token, naming the
// sender in from_user_id.
type restSender struct {
	api    *api
	from   uint64
	target int // toUsers or toGroups
	to     uint64
}

func (s restSender) send(ctx context.Context, content string) (fate, error) {
	err := s.api.send(ctx, s.from, s.target, s.to, content)
	return fateOf(err), err
}

// fateOf is the fate of a REST send that answered err.
func fateOf(err error) fate {
	var re refusal
	switch {
	case err == nil:
		return stored
	case errors.As(err, &re):
		return refused
	default:
		return unknown
	}
}

// sendTimeout bounds one send's wait for its answer.
const sendTimeout = 30 * time.Second

// pacer sends total messages at rate per second, evenly spaced and round
// robin over its senders. Each sender sends in order and waits for each
// answer, as one app does, so its messages have one order in the store;
// a sender that falls behind its schedule sends at once to catch up, and
// the lag is reported.
type pacer struct {
	rate  float64
	total int64
	sent  atomic.Int64 // sends answered (or failed) so far

	mu       sync.Mutex
	answers  *hdrhistogram.Histogram // microseconds from send to answer
	refusals *hdrhistogram.Histogram // the same, of the sends refused
}

func newPacer(rate float64, d time.Duration) *pacer {
	return &pacer{rate: rate, total: int64(rate * d.Seconds()), answers: newHistogram(), refusals: newHistogram()}
}

// run runs the senders, recording their sends in outs (one each).
func (p *pacer) run(ctx context.Context, senders []sender, outs []*outbox) Send {
	lags := make([]time.Duration, len(senders))
	start := time.Now()
	var wg sync.WaitGroup
	for i, s := range senders {
		wg.Go(func() { lags[i] = p.sender(ctx, start, i, len(senders), s, outs[i]) })
	}
	wg.Wait()
	return p.summary(outs, lags, time.Since(start))
}

// sender runs the i-th of n senders and returns how far behind schedule
// it fell at worst.
func (p *pacer) sender(ctx context.Context, start time.Time, i, n int, s sender, out *outbox) time.Duration {
	var lag time.Duration
	for k := int64(0); ; k++ {
		g := k*int64(n) + int64(i)
		if g >= p.total {
			return lag
		}
		at := start.Add(time.Duration(float64(g) / p.rate * float64(time.Second)))
		if !sleepUntil(ctx, at) {
			return lag
		}
		now := time.Now()
		lag = max(lag, now.Sub(at))
		seq := uint32(k + 1)
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		f, err := s.send(sctx, stamp(seq, now))
		cancel()
		p.mu.Lock()
		recordDuration(p.answers, time.Since(now))
		if f == refused {
			recordDuration(p.refusals, time.Since(now))
		}
		p.mu.Unlock()
		out.record(seq, f, err)
		p.sent.Add(1)
	}
}

func sleepUntil(ctx context.Context, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (p *pacer) summary(outs []*outbox, lags []time.Duration, elapsed time.Duration) Send {
	s := Send{TargetRate: p.rate, Planned: p.total, Seconds: elapsed.Seconds()}
	for i, o := range outs {
		for _, f := range o.fates {
			switch f {
			case stored:
				s.Stored++
			case refused:
				s.Refused++
			case unknown:
				s.Unanswered++
			}
		}
		if o.first != "" && s.FirstError == "" {
			s.FirstError = o.first
		}
		for code, n := range o.refusedBy {
			if s.RefusedBy == nil {
				s.RefusedBy = map[string]int64{}
			}
			s.RefusedBy[code] += n
		}
		s.MaxLagMs = max(s.MaxLagMs, float64(lags[i].Microseconds())/1000)
	}
	s.Attempted = s.Stored + s.Refused + s.Unanswered
	p.mu.Lock()
	s.AnswerMs = summarize(p.answers)
	if s.Refused > 0 {
		s.RefusedAnswerMs = summarize(p.refusals)
	}
	p.mu.Unlock()
	s.PerSecond = float64(s.Stored) / elapsed.Seconds()
	return s
}
