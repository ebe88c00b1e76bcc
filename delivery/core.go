package delivery

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// Config holds the core's limits. Zero fields take the defaults.
type Config struct {
	// BatchSize bounds the messages stored in one transaction. Default 256.
	BatchSize int
	// Writers is how many transactions store messages at once. Each
	// conversation has one writer, so that its messages are published in
	// seq order. Default 2.
	Writers int
	// QueueLen bounds the send requests waiting for the writers, shared
	// out evenly; a sender beyond it waits (until its context ends).
	// Default 4096.
	QueueLen int
	// RecallWindow is how long after sending a sender may recall a
	// message; group owners and admins, and admin tokens, may recall any
	// time. Default 2 minutes.
	RecallWindow time.Duration
	// MaxMessageBytes bounds content, config, attachment and ext of one
	// message together. Default 64 KiB.
	MaxMessageBytes int
	// CheckCacheTTL is how long a sender's passed check of a conversation
	// (the peer exists and has not blocked the sender; the sender is a
	// member, not muted) is trusted without reading the store again. A
	// roster, group or user change drops the passes it concerns on every
	// node as soon as its invalidation arrives (see Invalidate); the TTL
	// bounds how long a pass outlives a change whose invalidation Redis
	// lost without the receiving node noticing. While the bus is not
	// ready, and on a bus that carries no invalidations, passes are
	// trusted for 1s at most. Default 1 minute; negative: no cache.
	CheckCacheTTL time.Duration
	// Limits bound the messages per second of one user and one app,
	// across nodes where the bus counts for them (RedisBus).
	Limits SendLimits
	// Metrics counts what the core stores; nil counts into the void.
	Metrics *metrics.Metrics
	// Attachments is told of messages with attachments as they are sent
	// and recalled; nil: nobody.
	Attachments Attachments
}

func (c Config) withDefaults() Config {
	if c.BatchSize <= 0 {
		c.BatchSize = 256
	}
	if c.Writers <= 0 {
		c.Writers = 2
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 4096
	}
	if c.RecallWindow <= 0 {
		c.RecallWindow = 2 * time.Minute
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 64 << 10
	}
	if c.Metrics == nil {
		c.Metrics = metrics.New(nil)
	}
	if c.CheckCacheTTL == 0 {
		c.CheckCacheTTL = time.Minute
	}
	return c
}

// Core stores what users send and publishes it. Its methods are safe for
// concurrent use.
type Core struct {
	cfg   Config
	store imgate.Store
	bus   Bus
	log   *slog.Logger
	now   func() time.Time

	checks     *checkCache
	limits     *limiter
	invalMu    sync.RWMutex
	invalFns   []func(Invalidation) // see OnInvalidation
	queues     []chan *request      // one per writer; a conversation always goes to the same one
	published  []chan []*Event      // one per writer: its commits' events, in commit order
	stop       chan struct{}
	closeOnce  sync.Once
	wg         sync.WaitGroup // the writers
	pubWG      sync.WaitGroup // the publishers
	finished   chan struct{}  // closed once the writers are gone
	finishOnce sync.Once
}

// request is one Send waiting for a writer.
type request struct {
	msgs     []imgate.Message
	accepted int64 // unix nanoseconds
	done     chan result
}

type result struct {
	msgs []imgate.Message
	dup  []bool
	err  error
}

// New starts a core storing into store and publishing on bus. Close stops
// it.
func New(cfg Config, store imgate.Store, bus Bus, logger *slog.Logger) *Core {
	c := &Core{cfg: cfg.withDefaults(), store: store, bus: bus, log: logger, now: time.Now, stop: make(chan struct{}), finished: make(chan struct{})}
	c.checks = c.newCheckCache()
	c.limits = newLimiter(c.cfg.Limits, func() time.Time { return c.now() }, bus, logger, c.cfg.Metrics)
	if inv, ok := bus.(Invalidator); ok {
		inv.OnInvalidation(c.received)
	}
	c.queues = make([]chan *request, c.cfg.Writers)
	c.published = make([]chan []*Event, c.cfg.Writers)
	for i := range c.queues {
		q := make(chan *request, max(c.cfg.QueueLen/c.cfg.Writers, 1))
		events := make(chan []*Event, publishQueue)
		c.queues[i], c.published[i] = q, events
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.write(q, events)
		}()
		c.pubWG.Add(1)
		go func() {
			defer c.pubWG.Done()
			c.publishAll(events)
		}()
	}
	return c
}

// newCheckCache is the check cache for the core's bus: trusted for the
// TTL while the bus delivers invalidations, for the short TTL while it is
// not ready or if it never does.
func (c *Core) newCheckCache() *checkCache {
	ttl := c.cfg.CheckCacheTTL
	if !invalidationsDelivered(c.bus) {
		ttl = min(ttl, checkCacheDegradedTTL)
	}
	degraded := func() bool { return c.bus.Ready(context.Background()) != nil }
	return newCheckCache(ttl, degraded, c.cfg.Metrics.Cache("send_check"))
}

// publishQueue bounds the committed batches whose events wait for their
// writer's publisher; a writer that gets that far ahead waits, so that a
// slow fan-out slows the sends of its writer's conversations instead of
// piling up events.
const publishQueue = 64

// publishAll publishes a writer's events in the order committed, until
// the writer is gone and its channel closed. Publishing apart from the
// writer lets it store the next batch while the hub fans the last one
// out (a 10,000-member group's message takes milliseconds), and one
// publisher per writer keeps each conversation's events in seq order.
func (c *Core) publishAll(events chan []*Event) {
	ctx := context.Background()
	for evs := range events {
		for _, e := range evs {
			c.publish(ctx, e)
		}
	}
}

// Close stores what is queued and stops the writers. Sends after Close
// fail.
func (c *Core) Close() {
	c.closeOnce.Do(func() { close(c.stop); c.limits.close() })
	c.wg.Wait()
	c.finishOnce.Do(func() {
		close(c.finished)
		for _, events := range c.published {
			close(events)
		}
	})
	c.pubWG.Wait()
}

// Store is the store the core writes to.
func (c *Core) Store() imgate.Store { return c.store }

var errClosed = errors.New("delivery: core closed")

// enqueue stores msgs through the writers and waits for the outcome.
//
// Each conversation has one writer (by a hash of its key), which stores
// and publishes its messages one batch after the other: so a
// conversation's events leave this node in seq order by construction,
// and no hub sees a gap that a slower writer would fill later. Messages
// to conversations of different writers are split into one request per
// writer; each part is stored on its own, so a failure of one part may
// leave the others stored, which a resend (same client_mid or
// transaction_id) finds rather than storing again.
func (c *Core) enqueue(ctx context.Context, msgs []imgate.Message, accepted time.Time) ([]imgate.Message, []bool, error) {
	if len(msgs) == 1 {
		return c.enqueueTo(ctx, c.writerOf(msgs[0]), msgs, accepted)
	}
	parts := c.partition(msgs)
	if len(parts) == 1 {
		for w := range parts {
			return c.enqueueTo(ctx, w, msgs, accepted)
		}
	}
	out, dup := make([]imgate.Message, len(msgs)), make([]bool, len(msgs))
	for w, idx := range parts {
		part := make([]imgate.Message, len(idx))
		for j, i := range idx {
			part[j] = msgs[i]
		}
		o, d, err := c.enqueueTo(ctx, w, part, accepted)
		if err != nil {
			return nil, nil, err
		}
		for j, i := range idx {
			out[i], dup[i] = o[j], d[j]
		}
	}
	return out, dup, nil
}

// partition groups the indexes of msgs by the writer of their
// conversation.
func (c *Core) partition(msgs []imgate.Message) map[int][]int {
	parts := make(map[int][]int, 1)
	for i, m := range msgs {
		w := c.writerOf(m)
		parts[w] = append(parts[w], i)
	}
	return parts
}

// writerOf is the writer that stores the conversation of m.
func (c *Core) writerOf(m imgate.Message) int {
	if len(c.queues) == 1 {
		return 0
	}
	a, b := m.To, int64(0)
	if m.Kind != imgate.ConvGroup {
		a, b = min(m.From, m.To), max(m.From, m.To)
	}
	var buf [17]byte
	binary.LittleEndian.PutUint64(buf[0:], uint64(a))
	binary.LittleEndian.PutUint64(buf[8:], uint64(b))
	buf[16] = byte(m.Kind)
	// FNV-1a, inline: a hash.Hash per message would allocate.
	h := uint32(2166136261)
	for i := 0; i < len(m.AppID); i++ {
		h = (h ^ uint32(m.AppID[i])) * 16777619
	}
	for _, x := range buf {
		h = (h ^ uint32(x)) * 16777619
	}
	return int(h % uint32(len(c.queues)))
}

// enqueueTo stores msgs, all of one writer's conversations, through that
// writer and waits for the outcome.
func (c *Core) enqueueTo(ctx context.Context, w int, msgs []imgate.Message, accepted time.Time) ([]imgate.Message, []bool, error) {
	r := &request{msgs: msgs, accepted: accepted.UnixNano(), done: make(chan result, 1)}
	select {
	case c.queues[w] <- r:
	case <-c.stop:
		return nil, nil, errClosed
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("delivery: waiting to store: %w", ctx.Err())
	}
	// Once queued a request is stored whatever the caller does; the
	// caller may stop waiting, but the outcome is published regardless.
	select {
	case res := <-r.done:
		return res.msgs, res.dup, res.err
	case <-c.finished:
		// The writers are gone: a request that slipped into the queue
		// as they drained it was not stored, nor will be.
		select {
		case res := <-r.done:
			return res.msgs, res.dup, res.err
		default:
			return nil, nil, errClosed
		}
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("delivery: waiting for the store: %w", ctx.Err())
	}
}

// write takes requests off its queue, as many as fit in a batch, and
// stores each batch in one transaction, until Close.
func (c *Core) write(queue chan *request, events chan<- []*Event) {
	for {
		var first *request
		select {
		case first = <-queue:
		case <-c.stop:
			// Drain what is queued, then stop.
			for {
				select {
				case r := <-queue:
					c.store1([]*request{r}, events)
				default:
					return
				}
			}
		}
		batch, n := []*request{first}, len(first.msgs)
	fill:
		for n < c.cfg.BatchSize {
			select {
			case r := <-queue:
				batch = append(batch, r)
				n += len(r.msgs)
			default:
				break fill
			}
		}
		c.store1(batch, events)
	}
}

// store1 stores a batch of requests in one transaction and hands what
// was new to the writer's publisher (events). If the batch fails, each
// request is retried alone, so that one bad request (a group deleted
// meanwhile) does not fail the others.
func (c *Core) store1(batch []*request, events chan<- []*Event) {
	var all []imgate.Message
	var accepted []int64
	for _, r := range batch {
		all = append(all, r.msgs...)
		for range r.msgs {
			accepted = append(accepted, r.accepted)
		}
	}
	// A background context: a request that was queued is stored even if
	// its sender gave up, so that what a client was told failed (or not
	// told at all) and then resends is deduped rather than lost.
	ctx := metrics.WithStoreOp(context.Background(), metrics.OpSend)
	m := c.cfg.Metrics
	began := time.Now()
	out, dup, err := c.store.AppendMessages(ctx, all)
	m.StoreCommit.Observe(time.Since(began).Seconds())
	m.StoreBatch.Observe(float64(len(all)))
	if err != nil {
		m.StoreError("append")
	}
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			c.store1([]*request{r}, events)
		}
		return
	}
	if err != nil {
		batch[0].done <- result{err: fmt.Errorf("delivery: store messages: %w", err)}
		return
	}
	if evs := c.eventsOf(out, dup, accepted); len(evs) > 0 {
		events <- evs
	}
	i := 0
	for _, r := range batch {
		n := len(r.msgs)
		r.done <- result{msgs: out[i : i+n], dup: dup[i : i+n]}
		i += n
	}
}

// eventsOf makes the events of the new messages of a committed batch, one
// per run of messages of one conversation, in the batch's order.
func (c *Core) eventsOf(out []imgate.Message, dup []bool, accepted []int64) []*Event {
	type key struct {
		kind imgate.ConvKind
		a, b int64
	}
	keyOf := func(m imgate.Message) key {
		if m.Kind == imgate.ConvGroup {
			return key{m.Kind, m.To, 0}
		}
		return key{m.Kind, min(m.From, m.To), max(m.From, m.To)}
	}
	events := map[key]*Event{}
	var order []*Event
	for i, m := range out {
		if dup[i] {
			continue
		}
		if m.Op == 0 {
			c.cfg.Metrics.Accepted(KindOf(m.Kind), 1)
		}
		k := keyOf(m)
		e := events[k]
		// A run continues only with the next Seq from the same device, so
		// that an event's Seqs have no gap and its sender is one device.
		if e != nil && (e.LastSeq+1 != m.Seq || e.From != m.From || e.FromDevice != m.FromDevice) {
			e = nil
		}
		if e == nil {
			e = &Event{
				Kind: Stored, App: m.AppID, Conv: m.ConvOf(m.From), From: m.From, FromDevice: m.FromDevice,
				FirstSeq: m.Seq, Accepted: accepted[i],
			}
			events[k] = e
			order = append(order, e)
		}
		e.LastSeq, e.LastID = m.Seq, m.ID
		e.Metas = append(e.Metas, MetaOf(m))
	}
	return order
}

// KindOf is the metrics kind of a conversation's messages.
func KindOf(k imgate.ConvKind) metrics.Kind {
	if k == imgate.ConvGroup {
		return metrics.Group
	}
	return metrics.Chat
}

// publish hands an event to the bus; a failure is logged, not returned:
// what is stored is synced by the devices that missed it.
func (c *Core) publish(ctx context.Context, e *Event) {
	if err := c.bus.Publish(ctx, e); err != nil {
		c.log.Warn("publish failed; devices will sync", "app", e.App, "kind", e.Kind, "err", err)
	}
}
