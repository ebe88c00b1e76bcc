package delivery

import (
	"context"
	"sync"
)

// A login reads the state a device starts from after its session's
// topics are subscribed, so that what is sent later reaches the session
// on the bus. Redis subscribes asynchronously: Subscribe returns before
// the SUBSCRIBE is even sent, and an event published before Redis has
// taken it is lost for this node. The bus therefore records, per
// channel, when Redis confirms the subscription (each subscriber reads
// the confirmations among its messages), and Subscribed waits for that.

// subReady is whether a channel's subscription is live; set once.
type subReady struct {
	ch   chan struct{}
	once sync.Once
}

func newSubReady() *subReady { return &subReady{ch: make(chan struct{})} }

func (r *subReady) set() { r.once.Do(func() { close(r.ch) }) }

// Subscribed waits until Redis has confirmed the subscriptions of the
// topics, which the caller subscribed (Subscribe), or until ctx ends:
// nil once events published to them from now on reach this node. A
// topic nobody on the node is subscribed to is not waited for.
func (b *RedisBus) Subscribed(ctx context.Context, topics ...Topic) error {
	for _, t := range topics {
		b.mu.Lock()
		r := b.ready[b.channel(t)]
		b.mu.Unlock()
		if r == nil {
			continue
		}
		select {
		case <-r.ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// expected is one sent command's confirmation: a subscription made sets
// ready (nil for an unsubscription).
type expected struct{ ready []*subReady }

// expectConfirmation queues the wait for the confirmation of a command
// about to be sent on the channel; ready nil: an unsubscription.
func (s *subscriber) expectConfirmation(ch string, ready *subReady) {
	e := expected{}
	if ready != nil {
		e.ready = []*subReady{ready}
	}
	s.expectMu.Lock()
	s.expect[ch] = append(s.expect[ch], e)
	s.expectMu.Unlock()
}

// confirmWith sets ready once the channel's subscription, already sent,
// is confirmed: at once if it is.
func (s *subscriber) confirmWith(ch string, ready *subReady) {
	s.expectMu.Lock()
	defer s.expectMu.Unlock()
	q := s.expect[ch]
	if len(q) == 0 {
		ready.set()
		return
	}
	q[len(q)-1].ready = append(q[len(q)-1].ready, ready)
}

// confirmed takes a confirmation Redis sent for the channel: the oldest
// command waiting for one is done. A subscription go-redis made again
// after a reconnect confirms what waited, as it is live now; one nothing
// waits for (a probe's) is ignored.
func (s *subscriber) confirmed(ch string) {
	s.expectMu.Lock()
	defer s.expectMu.Unlock()
	q := s.expect[ch]
	if len(q) == 0 {
		return
	}
	for _, r := range q[0].ready {
		r.set()
	}
	if len(q) == 1 {
		delete(s.expect, ch)
		return
	}
	s.expect[ch] = q[1:]
}
