// Package webhook sends the events of the durable outbox to each app's
// webhook: MaxIM's message callback and imgate's own events. Delivery is
// at least once: an event leaves the outbox only after its endpoint
// answered 2xx, so a receiver dedupes by the event id.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// Store is what the dispatcher needs of the store: the outbox and the
// apps' webhooks.
type Store interface {
	imgate.OutboxStore
	App(ctx context.Context, id string) (imgate.App, error)
}

// Config tunes the dispatcher; a zero field takes the default named.
type Config struct {
	// Timeout bounds one call (default 10s).
	Timeout time.Duration
	// Lease is how long a claimed event is this node's (default Timeout
	// plus 20s): a node killed mid-call leaves its events to the others
	// (or to itself, restarted) after it.
	Lease time.Duration
	// PerApp bounds one app's calls in flight (default 4), InFlight all
	// calls (default 64).
	PerApp, InFlight int
	// MinBackOff and MaxBackOff bound the pause before a failed event is
	// tried again: it doubles with each failure, with jitter (defaults
	// 1s and 5m).
	MinBackOff, MaxBackOff time.Duration
	// ParkAfter is the number of failures after which an event is parked
	// (default 10): it is tried every MaxBackOff only, and all the app's
	// parked events are due again as soon as one call of the app
	// succeeds.
	ParkAfter int
	// Poll is the pause between claims that found nothing (default 200ms).
	Poll time.Duration
	// Client makes the calls (default: a client of its own).
	Client *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Timeout, 10*time.Second)
	def(&c.Lease, c.Timeout+20*time.Second)
	def(&c.MinBackOff, time.Second)
	def(&c.MaxBackOff, 5*time.Minute)
	def(&c.Poll, 200*time.Millisecond)
	for _, f := range []struct {
		v *int
		d int
	}{{&c.PerApp, 4}, {&c.InFlight, 64}, {&c.ParkAfter, 10}} {
		if *f.v <= 0 {
			*f.v = f.d
		}
	}
	if c.Client == nil {
		c.Client = &http.Client{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Dispatcher claims due events from the outbox and sends them. Several
// nodes' dispatchers share one outbox: the store's claims never hand one
// event to two of them while its lease runs.
type Dispatcher struct {
	cfg    Config
	store  Store
	logger *slog.Logger
	m      *metrics.Metrics

	mu     sync.Mutex
	byApp  map[string]int // calls in flight by app
	flying int
	done   chan struct{} // a call ended
	hooks  map[string]cachedHook
}

type cachedHook struct {
	w     imgate.Webhook
	until time.Time
}

// New returns a dispatcher; Run starts it.
func New(cfg Config, store Store, logger *slog.Logger, m *metrics.Metrics) *Dispatcher {
	return &Dispatcher{cfg: cfg.withDefaults(), store: store, logger: logger, m: m,
		byApp: map[string]int{}, done: make(chan struct{}, 1), hooks: map[string]cachedHook{}}
}

// Run sends events until ctx ends, then waits for the calls in flight.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stats := time.NewTicker(5 * time.Second)
	defer stats.Stop()
	d.countOutbox(ctx)
	for {
		n, err := d.claim(ctx, &wg)
		if err != nil && ctx.Err() == nil {
			d.logger.ErrorContext(ctx, "webhook: claim events", "err", err)
		}
		wait := d.cfg.Poll
		if n > 0 && err == nil {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-stats.C:
			d.countOutbox(ctx)
		case <-d.done:
		case <-time.After(wait):
		}
	}
}

// claim claims as many events as calls may start, of apps below their
// PerApp bound, and starts them, releasing those over the bound (an app
// with many conversations fills a claim). It returns the number started.
func (d *Dispatcher) claim(ctx context.Context, wg *sync.WaitGroup) (int, error) {
	d.mu.Lock()
	free := d.cfg.InFlight - d.flying
	var full []string
	for app, n := range d.byApp {
		if n >= d.cfg.PerApp {
			full = append(full, app)
		}
	}
	d.mu.Unlock()
	if free <= 0 {
		return 0, nil
	}
	events, err := d.store.ClaimEvents(ctx, imgate.EventClaim{Now: d.cfg.Now(), Lease: d.cfg.Lease, Limit: free, SkipApps: full})
	if err != nil {
		return 0, err
	}
	var release []int64
	d.mu.Lock()
	for _, e := range events {
		if d.byApp[e.AppID] >= d.cfg.PerApp {
			release = append(release, e.ID)
			continue
		}
		d.byApp[e.AppID]++
		d.flying++
		wg.Go(func() { d.send(context.WithoutCancel(ctx), e) })
	}
	d.mu.Unlock()
	if err := d.store.ReleaseEvents(ctx, release); err != nil {
		return len(events), err
	}
	return len(events) - len(release), nil
}

// send makes the event's call and records the outcome.
func (d *Dispatcher) send(ctx context.Context, e imgate.Event) {
	defer d.ended(e.AppID)
	start := d.cfg.Now()
	reason, err := d.call(ctx, e)
	took := d.cfg.Now().Sub(start)
	switch {
	case err == nil:
		d.m.WebhookSent(took)
		d.sent(ctx, e)
	case reason == "config":
		// The app's webhook no longer sends the event: it is dropped.
		d.m.WebhookFailed(reason, took)
		d.logger.InfoContext(ctx, "webhook: event dropped", "app", e.AppID, "event", e.ID, "type", e.Type, "why", err)
		d.sent(ctx, e)
	default:
		d.m.WebhookFailed(reason, took)
		d.failed(ctx, e, err)
	}
}

func (d *Dispatcher) ended(app string) {
	d.mu.Lock()
	d.byApp[app]--
	if d.byApp[app] == 0 {
		delete(d.byApp, app)
	}
	d.flying--
	d.mu.Unlock()
	select {
	case d.done <- struct{}{}:
	default:
	}
}

// sent removes the event; a parked event that went through means its
// endpoint answers again, so the app's other parked events are due now.
func (d *Dispatcher) sent(ctx context.Context, e imgate.Event) {
	if err := d.store.DeleteEvents(ctx, []int64{e.ID}); err != nil {
		d.logger.ErrorContext(ctx, "webhook: delete sent event", "app", e.AppID, "event", e.ID, "err", err)
		return
	}
	if e.Attempts >= d.cfg.ParkAfter {
		if err := d.store.WakeEvents(ctx, e.AppID, d.cfg.ParkAfter, d.cfg.Now()); err != nil {
			d.logger.ErrorContext(ctx, "webhook: wake parked events", "app", e.AppID, "err", err)
		}
	}
}

// failed sets the event's next attempt: back-off doubling from
// MinBackOff, capped at MaxBackOff, with jitter over its upper half.
func (d *Dispatcher) failed(ctx context.Context, e imgate.Event, cause error) {
	attempts := e.Attempts + 1
	next := d.cfg.Now().Add(d.backOff(attempts))
	if d.logger.Enabled(ctx, slog.LevelDebug) || attempts == d.cfg.ParkAfter {
		d.logger.WarnContext(ctx, "webhook: call failed", "app", e.AppID, "event", e.ID, "attempts", attempts,
			"parked", attempts >= d.cfg.ParkAfter, "err", cause)
	}
	if err := d.store.RetryEvent(ctx, e.ID, attempts, next, cause.Error()); err != nil {
		d.logger.ErrorContext(ctx, "webhook: record failed call", "app", e.AppID, "event", e.ID, "err", err)
	}
}

func (d *Dispatcher) backOff(attempts int) time.Duration {
	b := d.cfg.MaxBackOff
	if attempts < d.cfg.ParkAfter && attempts < 30 {
		b = min(d.cfg.MinBackOff<<(attempts-1), d.cfg.MaxBackOff)
	}
	return b/2 + rand.N(b/2+1)
}

// call POSTs the event to the app's webhook. It returns the failure's
// reason for the metrics with the error.
func (d *Dispatcher) call(ctx context.Context, e imgate.Event) (string, error) {
	w, err := d.webhook(ctx, e.AppID)
	if err != nil {
		return "network", err
	}
	if !w.Sends(e.Type) {
		return "config", fmt.Errorf("the app's webhook does not send %s events", e.Type)
	}
	b, err := body(e)
	if err != nil {
		return "config", err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(b))
	if err != nil {
		return "config", fmt.Errorf("webhook url: %w", err)
	}
	d.headers(req.Header, w, e, b)
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "timeout", fmt.Errorf("post: %w", err)
		}
		return "network", fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "status", fmt.Errorf("post: status %d", resp.StatusCode)
	}
	return "", nil
}

func (d *Dispatcher) headers(h http.Header, w imgate.Webhook, e imgate.Event, body []byte) {
	h.Set("Content-Type", "application/json")
	h.Set(HeaderEventID, strconv.FormatInt(e.ID, 10))
	h.Set(HeaderEventType, string(e.Type))
	h.Set(HeaderAttempt, strconv.Itoa(e.Attempts+1))
	if w.CallbackSignature != "" {
		h.Set(HeaderSignature, w.CallbackSignature)
	}
	if w.Secret != "" {
		h.Set(HeaderHMAC, Sign(w.Secret, d.cfg.Now(), body))
	}
}

// webhook returns the app's webhook, read at most once per
// imgate.WebhookConfigTTL.
func (d *Dispatcher) webhook(ctx context.Context, app string) (imgate.Webhook, error) {
	now := d.cfg.Now()
	d.mu.Lock()
	h, ok := d.hooks[app]
	d.mu.Unlock()
	if ok && now.Before(h.until) {
		return h.w, nil
	}
	a, err := d.store.App(ctx, app)
	if imgate.ErrorCode(err) == imgate.CodeUnknownApp {
		a, err = imgate.App{}, nil
	}
	if err != nil {
		return imgate.Webhook{}, fmt.Errorf("webhook of app %s: %w", app, err)
	}
	d.mu.Lock()
	if len(d.hooks) >= 10_000 {
		clear(d.hooks)
	}
	d.hooks[app] = cachedHook{w: a.Webhook, until: now.Add(imgate.WebhookConfigTTL)}
	d.mu.Unlock()
	return a.Webhook, nil
}

// countOutbox sets the outbox gauges.
func (d *Dispatcher) countOutbox(ctx context.Context) {
	stats, err := d.store.OutboxStats(ctx, d.cfg.ParkAfter)
	if err != nil {
		if ctx.Err() == nil {
			d.logger.ErrorContext(ctx, "webhook: count the outbox", "err", err)
		}
		return
	}
	var pending, parked int64
	var oldest time.Time
	for _, s := range stats {
		pending += s.Pending
		parked += s.Parked
		if oldest.IsZero() || (!s.Oldest.IsZero() && s.Oldest.Before(oldest)) {
			oldest = s.Oldest
		}
	}
	var age time.Duration
	if !oldest.IsZero() {
		age = d.cfg.Now().Sub(oldest)
	}
	d.m.WebhookOutbox(pending, parked, age)
}
