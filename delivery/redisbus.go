package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgate/imgate/metrics"
)

// RedisConfig configures a RedisBus. Zero fields take the defaults.
type RedisConfig struct {
	// Prefix starts every channel name, so that several deployments (or
	// tests) can share one Redis. Default "imgate".
	Prefix string
	// Node names this process on the bus; events it published come back
	// to it and are dropped by this name. Default: random.
	Node string
	// Sharded uses Redis 7's sharded pub/sub (SSUBSCRIBE, SPUBLISH), for a
	// Redis Cluster: each channel lives on the shard of its slot, so the
	// bus scales with the cluster. The client must be a *redis.ClusterClient.
	Sharded bool
	// Workers decode and route received events; events of one channel go
	// to one worker, in order. Default 4.
	Workers int
	// QueueLen bounds each worker's queue, and the queue of events waiting
	// to be published. When one is full, events are dropped and counted:
	// pub/sub is at most once anyway, and devices pull what they miss.
	// Default 10,000.
	QueueLen int
	// ProbeInterval is how often the bus publishes a probe to itself; a
	// subscription that has not seen its probe for three intervals is
	// torn down and made again. Sharded, each shard's subscription
	// connection has a probe channel of its own. Default 2s.
	ProbeInterval time.Duration
	// Metrics observes the lag of events from other nodes; nil: none.
	Metrics *metrics.Metrics
}

func (c RedisConfig) withDefaults() RedisConfig {
	if c.Prefix == "" {
		c.Prefix = "imgate"
	}
	if c.Node == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		c.Node = hex.EncodeToString(b[:])
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 10_000
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = 2 * time.Second
	}
	if c.Metrics == nil {
		c.Metrics = metrics.New(nil)
	}
	return c
}

// RedisStats counts what the bus did, for metrics.
type RedisStats struct {
	Published, PublishErrors, Received, Dropped, Resubscribed int64
}

// RedisBus carries events between nodes over Redis pub/sub. Each node
// delivers its own events locally at once and publishes them to one
// channel per recipient user (a chat: the two users) or one channel per
// group; a node subscribes to the channels of the users and groups it has
// sessions of. A group message therefore costs one publish however large
// the group, and reaches each node with members once.
type RedisBus struct {
	cfg    RedisConfig
	client redis.UniversalClient
	log    *slog.Logger
	router Router

	pub     chan pubItem
	workers []chan *redis.Message

	mu     sync.Mutex
	topics map[string]int // channel → local sessions' interest
	// ready is, by channel of interest, whether Redis has confirmed its
	// subscription (see Subscribed).
	ready     map[string]*subReady
	pending   []string // channels whose subscription may need a change
	remakeAll bool     // remake every subscription
	wake      chan struct{}
	closed    bool
	// A resync runs in a goroutine of its own (see resyncSoon).
	resyncing, resyncAgain bool

	// probes holds the probe channels subscribed, each with the unix ms
	// its probe was last received (*atomic.Int64): the node's one probe
	// channel, or sharded one per shard subscription connection.
	probes  sync.Map
	lastErr atomic.Value // error string of the last publish failure, "" when fine
	// onInval applies invalidations from other nodes (see
	// OnInvalidation); nil until the core sets it.
	onInval atomic.Pointer[func(Invalidation)]
	inval   invalOutbox

	published, publishErrors, received, dropped, resubscribed atomic.Int64

	stop chan struct{}
	wg   sync.WaitGroup
}

type pubItem struct {
	channels []string
	payload  []byte
}

// NewRedisBus starts a bus on client delivering to router. Close stops
// it.
func NewRedisBus(cfg RedisConfig, client redis.UniversalClient, router Router, logger *slog.Logger) (*RedisBus, error) {
	cfg = cfg.withDefaults()
	if _, ok := client.(*redis.ClusterClient); cfg.Sharded && !ok {
		return nil, errors.New("delivery: sharded pub/sub needs a Redis Cluster client")
	}
	b := &RedisBus{
		cfg: cfg, client: client, log: logger, router: router,
		pub: make(chan pubItem, cfg.QueueLen), topics: map[string]int{}, ready: map[string]*subReady{}, wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
	}
	b.lastErr.Store("")
	if !cfg.Sharded {
		b.watchProbe(b.channel(Topic{ID: -1}))
	}
	for range cfg.Workers {
		ch := make(chan *redis.Message, cfg.QueueLen)
		b.workers = append(b.workers, ch)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.work(ch)
		}()
	}
	b.inval.wake = make(chan struct{}, 1)
	b.wg.Add(4)
	go func() {
		defer b.wg.Done()
		b.invalLoop()
	}()
	go func() {
		defer b.wg.Done()
		b.publishLoop()
	}()
	go func() {
		defer b.wg.Done()
		b.manage()
	}()
	go func() {
		defer b.wg.Done()
		b.probeLoop()
	}()
	// The probe channel; sharded, it only keeps a subscription (and so
	// its shard's probe) up while the node has no sessions.
	b.Subscribe(Topic{App: "", ID: -1})
	b.subscribeChannel(b.invalChannel())
	return b, nil
}

// watchProbe starts watching a probe channel, as if its probe had just
// been received.
func (b *RedisBus) watchProbe(ch string) {
	last := &atomic.Int64{}
	last.Store(time.Now().UnixMilli())
	b.probes.Store(ch, last)
}

// Node is this node's name on the bus.
func (b *RedisBus) Node() string { return b.cfg.Node }

// Stats returns the bus's counters.
func (b *RedisBus) Stats() RedisStats {
	return RedisStats{
		Published: b.published.Load(), PublishErrors: b.publishErrors.Load(), Received: b.received.Load(),
		Dropped: b.dropped.Load(), Resubscribed: b.resubscribed.Load(),
	}
}

// Close stops the bus: what is queued for publishing is published first.
func (b *RedisBus) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	b.wg.Wait()
}

// channel names a topic's channel. The probe topic (ID -1) is the
// node's own.
func (b *RedisBus) channel(t Topic) string {
	switch {
	case t.ID == -1:
		return b.cfg.Prefix + ":probe:" + b.cfg.Node
	case t.Group:
		return b.cfg.Prefix + ":g:" + t.App + ":" + strconv.FormatInt(t.ID, 10)
	}
	return b.cfg.Prefix + ":u:" + t.App + ":" + strconv.FormatInt(t.ID, 10)
}

// channels are the channels an event is published to.
func (b *RedisBus) channels(e *Event) []string {
	users, group := e.Recipients()
	if group != 0 {
		return []string{b.channel(Topic{App: e.App, Group: true, ID: group})}
	}
	out := make([]string, 0, len(users))
	for _, u := range users {
		out = append(out, b.channel(Topic{App: e.App, ID: u}))
	}
	return out
}

// Publish delivers the event to this node's sessions and queues it for
// the other nodes. It never blocks: when the queue is full the event is
// dropped for the other nodes and counted.
func (b *RedisBus) Publish(_ context.Context, e *Event) error {
	if b.router != nil {
		b.router.Deliver(e)
	}
	payload, err := encodeEvent(b.cfg.Node, e)
	if err != nil {
		return err
	}
	select {
	case b.pub <- pubItem{channels: b.channels(e), payload: payload}:
		return nil
	default:
		b.dropped.Add(1)
		return errors.New("delivery: bus publish queue full; event dropped for other nodes")
	}
}

// publishLoop publishes queued events, as many as are waiting in one
// pipeline, until Close; then what is still queued (see drainQueue).
func (b *RedisBus) publishLoop() {
	for {
		var first pubItem
		select {
		case <-b.stop:
			b.drainQueue()
			return
		default:
		}
		select {
		case first = <-b.pub:
		case <-b.stop:
			b.drainQueue()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = b.flush(ctx, b.fill(first)) // counted and logged; devices sync
		cancel()
	}
}

// closeFlushTimeout bounds the publishing of what is queued when the bus
// closes: a Redis that does not answer must not hold up a drain.
const closeFlushTimeout = 2 * time.Second

// drainQueue publishes what is queued when the bus closes, in pipelines.
// Once publishing fails, or closeFlushTimeout has passed, the rest is
// dropped and counted (devices on other nodes sync): a Redis that hangs
// costs one failed pipeline, not one per queued event.
func (b *RedisBus) drainQueue() {
	ctx, cancel := context.WithTimeout(context.Background(), closeFlushTimeout)
	defer cancel()
	for {
		select {
		case it := <-b.pub:
			batch := b.fill(it)
			if failing, _ := b.lastErr.Load().(string); failing != "" || ctx.Err() != nil {
				b.dropped.Add(int64(len(batch)))
				continue
			}
			_ = b.flush(ctx, batch)
		default:
			return
		}
	}
}

// fill is a batch of first and what else is queued, up to 512 items.
func (b *RedisBus) fill(first pubItem) []pubItem {
	batch := []pubItem{first}
	for len(batch) < 512 {
		select {
		case it := <-b.pub:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}

// flush publishes a batch in one pipeline; a failure is counted, logged
// once until publishing works again, and returned.
func (b *RedisBus) flush(ctx context.Context, batch []pubItem) error {
	pipe := b.client.Pipeline()
	n := 0
	for _, it := range batch {
		for _, ch := range it.channels {
			if b.cfg.Sharded {
				pipe.SPublish(ctx, ch, it.payload)
			} else {
				pipe.Publish(ctx, ch, it.payload)
			}
			n++
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.publishErrors.Add(int64(n))
		if b.lastErr.Swap(err.Error()) == "" {
			b.log.Warn("bus publish failed; devices on other nodes will sync", "err", err)
		}
		return fmt.Errorf("delivery: publish %d messages: %w", n, err)
	}
	b.published.Add(int64(n))
	b.lastErr.Store("")
	return nil
}

// Subscribe adds the node's interest in a topic; the first interest
// subscribes its channel. It never waits on Redis: subscriptions are made
// in order by the bus's own goroutine.
func (b *RedisBus) Subscribe(t Topic) { b.subscribeChannel(b.channel(t)) }

func (b *RedisBus) subscribeChannel(ch string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.topics[ch]++
	if b.topics[ch] == 1 {
		b.ready[ch] = newSubReady()
		b.queueLocked(ch)
	}
}

// Unsubscribe drops the node's interest in a topic; the last interest
// unsubscribes its channel.
func (b *RedisBus) Unsubscribe(t Topic) {
	ch := b.channel(t)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.topics[ch] == 0 {
		return
	}
	b.topics[ch]--
	if b.topics[ch] == 0 {
		delete(b.topics, ch)
		delete(b.ready, ch)
		b.queueLocked(ch)
	}
}

// queueLocked asks the manager to bring the channel's subscription in
// line with the interest in it. b.mu is held.
func (b *RedisBus) queueLocked(ch string) {
	b.pending = append(b.pending, ch)
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// manage makes and drops subscriptions as interest changes, one change
// at a time and in order, so that a quick unsubscribe and subscribe of one
// channel cannot end unsubscribed; it also remakes every subscription
// when asked (see probeLoop).
func (b *RedisBus) manage() {
	subs := map[string]*subscriber{}  // by shard address ("" unsharded)
	owner := map[string]*subscriber{} // channel → its subscriber
	defer func() {
		for _, s := range subs {
			s.close()
		}
	}()
	for {
		select {
		case <-b.stop:
			return
		case <-b.wake:
		}
		b.mu.Lock()
		pending, remake := b.pending, b.remakeAll
		b.pending, b.remakeAll = nil, false
		if remake {
			pending = pending[:0]
			for ch := range b.topics {
				pending = append(pending, ch)
			}
		}
		b.mu.Unlock()
		if remake {
			for _, s := range subs {
				s.close()
			}
			subs, owner = map[string]*subscriber{}, map[string]*subscriber{}
		}
		for _, ch := range pending {
			b.mu.Lock()
			wanted, ready := b.topics[ch] > 0, b.ready[ch]
			b.mu.Unlock()
			s := owner[ch]
			switch {
			case wanted && s == nil:
				addr, err := b.shardOf(ch)
				if err != nil {
					b.log.Warn("bus: no shard for a channel; retrying", "channel", ch, "err", err)
					b.retryLater(ch)
					continue
				}
				if s = subs[addr]; s == nil {
					s = newSubscriber(b, addr)
					subs[addr] = s
					if b.cfg.Sharded {
						b.probeShard(s)
					}
				}
				owner[ch] = s
				s.subscribe(ch, ready)
			case wanted && ready != nil:
				// Unsubscribed and subscribed again before the manager
				// looked: the subscription made before carries on.
				s.confirmWith(ch, ready)
			case !wanted && s != nil:
				delete(owner, ch)
				if s.unsubscribe(ch) {
					// An empty subscription would reconnect to any shard;
					// the next channel of its shard makes a new one.
					delete(subs, s.addr)
					s.close()
				}
			}
		}
		if remake {
			b.resync()
		}
	}
}

// retryLater queues a channel again after a pause.
func (b *RedisBus) retryLater(ch string) {
	time.AfterFunc(time.Second, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if !b.closed {
			b.queueLocked(ch)
		}
	})
}

// shardOf is the address of the shard that holds a channel: "" unless
// sharded.
func (b *RedisBus) shardOf(ch string) (string, error) {
	if !b.cfg.Sharded {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	node, err := b.client.(*redis.ClusterClient).MasterForKey(ctx, ch)
	if err != nil {
		return "", fmt.Errorf("delivery: shard of %s: %w", ch, err)
	}
	return node.Options().Addr, nil
}

// probeShard subscribes a new shard subscription connection to a probe
// channel of its own, one whose slot is on that shard, so that the probe
// watches every connection and not only the one that happens to carry
// the node's probe channel. Only the manager calls it.
func (b *RedisBus) probeShard(s *subscriber) {
	base := b.channel(Topic{ID: -1})
	for i := range 4096 {
		ch := base + "{" + strconv.Itoa(i) + "}" // the hash tag picks the slot
		addr, err := b.shardOf(ch)
		if err != nil {
			b.log.Warn("bus: no probe for a shard", "shard", s.addr, "err", err)
			return
		}
		if addr == s.addr {
			s.probe = ch
			b.watchProbe(ch)
			s.listen(ch)
			return
		}
	}
	b.log.Warn("bus: no probe channel found for a shard", "shard", s.addr)
}

// Ready reports whether the bus publishes and receives: it fails while
// publishing fails or while the node's own probes do not come back.
func (b *RedisBus) Ready(ctx context.Context) error {
	if msg, _ := b.lastErr.Load().(string); msg != "" {
		return fmt.Errorf("bus: publishing fails: %s", msg)
	}
	var oldest int64
	b.probes.Range(func(_, v any) bool {
		if last := v.(*atomic.Int64).Load(); oldest == 0 || last < oldest {
			oldest = last
		}
		return true
	})
	if oldest == 0 {
		return errors.New("bus: not subscribed yet")
	}
	if age := time.Since(time.UnixMilli(oldest)); age > 3*b.cfg.ProbeInterval {
		return fmt.Errorf("bus: no probe received for %s", age.Round(time.Second))
	}
	return nil
}

// probeLoop publishes a probe to each probe channel every interval and
// remakes the subscriptions when one stopped receiving. A channel is
// silent if its probe had not come back for three intervals when this
// round's probe was sent, so that the probe just sent cannot hide a
// silence; subscriptions are remade only once Redis takes probes again.
func (b *RedisBus) probeLoop() {
	t := time.NewTicker(b.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		var failed error
		silent := false
		b.probes.Range(func(k, v any) bool {
			ch := k.(string)
			stale := time.Since(time.UnixMilli(v.(*atomic.Int64).Load())) > 3*b.cfg.ProbeInterval
			ctx, cancel := context.WithTimeout(context.Background(), b.cfg.ProbeInterval)
			defer cancel()
			var err error
			if b.cfg.Sharded {
				err = b.client.SPublish(ctx, ch, "probe").Err()
			} else {
				err = b.client.Publish(ctx, ch, "probe").Err()
			}
			if err != nil {
				failed = err
			} else if stale {
				silent = true
			}
			return true
		})
		if failed != nil {
			b.lastErr.Store(failed.Error())
		} else {
			b.lastErr.Store("")
		}
		if silent {
			b.log.Warn("bus subscriptions silent; reconnecting")
			b.remake()
		}
	}
}

// remake has the manager replace every subscription connection with a
// new one on the same channels (assigned to shards afresh), then resync
// the router.
func (b *RedisBus) remake() {
	b.mu.Lock()
	b.remakeAll = true
	b.queueLocked("")
	b.mu.Unlock()
	now := time.Now().UnixMilli()
	b.probes.Range(func(_, v any) bool {
		v.(*atomic.Int64).Store(now)
		return true
	})
}

// resync tells the caches and the router that events and invalidations
// may have been lost.
func (b *RedisBus) resync() {
	b.resubscribed.Add(1)
	if fn := b.onInval.Load(); fn != nil {
		(*fn)(Invalidation{All: true})
	}
	if b.router != nil {
		b.router.Resync()
	}
}

// resyncSoon resyncs the router in a goroutine, so that a read loop does
// not stop reading while the router tells every session; a request while
// one runs makes it run once more.
func (b *RedisBus) resyncSoon() {
	b.mu.Lock()
	if b.resyncing {
		b.resyncAgain = true
		b.mu.Unlock()
		return
	}
	b.resyncing = true
	b.mu.Unlock()
	b.wg.Add(1) // the caller is counted, so Close has not returned
	go func() {
		defer b.wg.Done()
		for {
			b.resync()
			b.mu.Lock()
			if !b.resyncAgain {
				b.resyncing = false
				b.mu.Unlock()
				return
			}
			b.resyncAgain = false
			b.mu.Unlock()
		}
	}()
}

// dispatch hands a received message to the worker of its channel, or
// drops it when that worker is behind: the receive loop never blocks.
func (b *RedisBus) dispatch(m *redis.Message) {
	if last, ok := b.probes.Load(m.Channel); ok {
		last.(*atomic.Int64).Store(time.Now().UnixMilli())
		return
	}
	b.received.Add(1)
	if m.Channel == b.invalChannel() {
		b.invalidated(m.Payload)
		return
	}
	h := fnv.New32a()
	h.Write([]byte(m.Channel))
	select {
	case b.workers[h.Sum32()%uint32(len(b.workers))] <- m:
	default:
		b.dropped.Add(1)
	}
}

func (b *RedisBus) work(ch chan *redis.Message) {
	for {
		select {
		case <-b.stop:
			return
		case m := <-ch:
			e, node, err := decodeEvent([]byte(m.Payload))
			if err != nil {
				b.log.Warn("bad event on the bus", "channel", m.Channel, "err", err)
				continue
			}
			if node == b.cfg.Node || b.router == nil {
				continue // delivered locally when published
			}
			if e.Published > 0 {
				b.cfg.Metrics.BusLag.Observe(max(time.Since(time.Unix(0, e.Published)).Seconds(), 0))
			}
			b.narrow(e, m.Channel)
			b.router.Deliver(e)
		}
	}
}

// narrow restricts an event received on a user's channel to that user.
// An event for several users is published on each one's channel, and a
// node with sessions of more than one of them receives it once per
// channel: each copy must reach only its own user's sessions.
func (b *RedisBus) narrow(e *Event, channel string) {
	users, group := e.Recipients()
	if group != 0 || len(users) < 2 {
		return
	}
	for _, u := range users {
		if b.channel(Topic{App: e.App, ID: u}) == channel {
			e.Users = []int64{u}
			return
		}
	}
}

// subscriber is one subscription connection and its receive loop. Only
// the bus's manager goroutine changes its channels.
type subscriber struct {
	bus  *RedisBus
	addr string

	ps    *redis.PubSub
	chans map[string]bool // the channels of topics, not the probe's
	probe string          // sharded: the probe channel of this connection
	done  chan struct{}
	once  sync.Once
	// started is closed once a channel is subscribed: receiving before
	// that would connect without a channel, to any shard.
	started   chan struct{}
	startOnce sync.Once
	// expect holds, by channel, what each SUBSCRIBE and UNSUBSCRIBE sent
	// and not confirmed yet waits for: Redis answers a connection's
	// commands in order, so each confirmation received is the oldest's.
	expectMu sync.Mutex
	expect   map[string][]expected
}

func newSubscriber(b *RedisBus, addr string) *subscriber {
	s := &subscriber{bus: b, addr: addr, chans: map[string]bool{}, expect: map[string][]expected{}, done: make(chan struct{}), started: make(chan struct{})}
	ctx := context.Background()
	if b.cfg.Sharded {
		s.ps = b.client.(*redis.ClusterClient).SSubscribe(ctx)
	} else {
		s.ps = b.client.Subscribe(ctx)
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		s.receive()
	}()
	return s
}

// subscribe subscribes a topic's channel; ready is set once Redis
// confirms it.
func (s *subscriber) subscribe(ch string, ready *subReady) {
	s.chans[ch] = true
	s.expectConfirmation(ch, ready)
	s.listen(ch)
}

// listen subscribes a channel and, the first time, starts receiving.
// A failure leaves the channel in go-redis's set: it subscribes the set
// again when it reconnects, and the probe remakes a silent connection.
func (s *subscriber) listen(ch string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if s.bus.cfg.Sharded {
		err = s.ps.SSubscribe(ctx, ch)
	} else {
		err = s.ps.Subscribe(ctx, ch)
	}
	if err != nil {
		s.bus.log.Debug("bus subscribe failed; reconnect will redo it", "channel", ch, "err", err)
	}
	s.startOnce.Do(func() { close(s.started) })
}

// unsubscribe unsubscribes a channel; true if the subscriber has none
// left (and should be closed rather than told).
func (s *subscriber) unsubscribe(ch string) bool {
	delete(s.chans, ch)
	if len(s.chans) == 0 {
		return true
	}
	s.expectConfirmation(ch, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if s.bus.cfg.Sharded {
		err = s.ps.SUnsubscribe(ctx, ch)
	} else {
		err = s.ps.Unsubscribe(ctx, ch)
	}
	if err != nil && !errors.Is(err, redis.ErrClosed) {
		s.bus.log.Debug("bus unsubscribe failed", "channel", ch, "err", err)
	}
	return false
}

// receive reads the connection until it is closed. After go-redis
// reconnects a broken connection (and subscribes again), the router
// resyncs, since events published meanwhile were lost.
func (s *subscriber) receive() {
	select {
	case <-s.started:
	case <-s.done:
		return
	}
	broken := false
	for {
		msg, err := s.ps.ReceiveTimeout(context.Background(), 2*s.bus.cfg.ProbeInterval)
		select {
		case <-s.done:
			return
		default:
		}
		if err != nil {
			if errors.Is(err, redis.ErrClosed) {
				return
			}
			var nerr interface{ Timeout() bool }
			if errors.As(err, &nerr) && nerr.Timeout() {
				continue // quiet; the probe tells silence from death
			}
			if !broken {
				s.bus.log.Warn("bus subscription broken; reconnecting", "err", err)
			}
			broken = true
			time.Sleep(200 * time.Millisecond)
			continue
		}
		switch m := msg.(type) {
		case *redis.Message:
			s.bus.dispatch(m)
		case *redis.Subscription:
			s.confirmed(m.Channel)
			if broken {
				broken = false
				s.bus.log.Info("bus subscription restored")
				s.bus.resyncSoon()
			}
		}
	}
}

func (s *subscriber) close() {
	s.once.Do(func() {
		close(s.done)
		s.ps.Close()
		if s.probe != "" {
			s.bus.probes.Delete(s.probe)
		}
	})
}
