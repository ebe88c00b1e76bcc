package gateway

import (
	"context"
	"time"

	"github.com/imgate/imgate/delivery"
)

// subscribedWait bounds how long a login waits for the bus to confirm
// its topics' subscriptions (see awaitSubscriptions).
const subscribedWait = 2 * time.Second

// subscriptionWaiter is a bus whose subscriptions go live some time
// after Subscribe (delivery.RedisBus).
type subscriptionWaiter interface {
	Subscribed(ctx context.Context, topics ...delivery.Topic) error
}

// awaitSubscriptions waits, before the login reads the state the device
// starts from, until the bus carries the events of the session's user and
// groups to this node: an event committed after that read then reaches
// the session. Past subscribedWait the login goes on, and the session is
// told to pull everything once the subscriptions are live, as after a
// resync: what was sent in between is not lost, only late.
func (s *session) awaitSubscriptions(ctx context.Context, groups []int64) {
	w, ok := s.srv.hub.bus.(subscriptionWaiter)
	if !ok {
		return
	}
	topics := make([]delivery.Topic, 0, len(groups)+1)
	topics = append(topics, delivery.Topic{App: s.app, ID: s.user})
	for _, g := range groups {
		topics = append(topics, delivery.Topic{App: s.app, Group: true, ID: g})
	}
	wctx, cancel := context.WithTimeout(ctx, subscribedWait)
	defer cancel()
	if w.Subscribed(wctx, topics...) == nil || ctx.Err() != nil {
		return
	}
	s.srv.log.Warn("bus subscriptions of a login not confirmed in time; the session will pull once they are",
		"user", s.user, "wait", subscribedWait)
	go func() {
		if w.Subscribed(s.ctx, topics...) == nil {
			s.resync()
		}
	}()
}
