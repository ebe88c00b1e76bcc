package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// PasswordConfig bounds password checks: how many bcrypt comparisons run
// and wait at once, and how often a user or a source address may fail
// before it must wait. Zero fields take the defaults.
type PasswordConfig struct {
	// Workers is the number of bcrypt comparisons that run at once.
	// Default half the CPUs, at least 1, so that a flood of password
	// attempts leaves CPU to everything else (token logins, sends, health
	// checks).
	Workers int
	// Queue is the number of checks that may wait for a worker; a check
	// that finds the queue full is refused at once (CodeBusy). Default
	// 8 per worker.
	Queue int
	// UserFailures is how many failed checks of one user (by id, and by
	// the name or id it was asked for) are allowed before back-off.
	// Default 5.
	UserFailures int
	// SourceFailures is the same for one source address. Default 30.
	SourceFailures int
	// BackOff is the wait after the last allowed failure; it doubles with
	// each failure after it, up to MaxBackOff. A check during the wait is
	// refused unchecked with CodeTooManyAttempts. Default 1s.
	BackOff time.Duration
	// MaxBackOff caps the wait. Default 15 minutes.
	MaxBackOff time.Duration
	// Forget is how long after its last failure a user or source starts
	// from zero failures again. Default 1 hour.
	Forget time.Duration
	// Cost is the bcrypt cost of the hash a check of a user that does not
	// exist compares against, so that it takes as long as one of a user
	// that does. Set it to the cost passwords are stored with. Default 10.
	Cost int
	// MaxTracked bounds the users and sources whose failures are kept.
	// Default 100,000.
	MaxTracked int
}

func (c PasswordConfig) withDefaults() PasswordConfig {
	if c.Workers <= 0 {
		c.Workers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if c.Queue <= 0 {
		c.Queue = 8 * c.Workers
	}
	if c.UserFailures <= 0 {
		c.UserFailures = 5
	}
	if c.SourceFailures <= 0 {
		c.SourceFailures = 30
	}
	if c.BackOff <= 0 {
		c.BackOff = time.Second
	}
	if c.MaxBackOff <= 0 {
		c.MaxBackOff = 15 * time.Minute
	}
	if c.Forget <= 0 {
		c.Forget = time.Hour
	}
	if c.Cost == 0 {
		c.Cost = bcrypt.DefaultCost
	}
	if c.MaxTracked <= 0 {
		c.MaxTracked = 100_000
	}
	return c
}

// Attempt is one password check.
type Attempt struct {
	App string
	// Name is the user as the caller named it (a user id, username,
	// mobile or email), whether or not such a user exists.
	Name string
	// UserID is the id of the user found; 0 when none was.
	UserID int64
	// Hash is the user's stored bcrypt hash; empty when none was found.
	Hash string
	// Source is the client's address (see Source); empty: unknown, and
	// no per-source limit applies.
	Source   string
	Password string
}

// Errors of Check. A wrong password and a user that does not exist are
// one error, in code, message and time taken, so that neither tells
// which names exist.
var (
	ErrWrongPassword = &imgate.Error{Code: imgate.CodeForbidden, Message: "wrong user or password"}
	errBusy          = &imgate.Error{Code: imgate.CodeBusy, Message: "too many password checks at once; retry in a moment"}
)

// Passwords checks passwords in a bounded pool of its own and limits
// guessing per user and per source address with exponential back-off.
// The limits are this process's: on several nodes each keeps its own.
type Passwords struct {
	cfg   PasswordConfig
	now   func() time.Time
	count *metrics.Metrics

	slots   chan struct{} // one per running comparison
	waiting atomic.Int64  // checks waiting for a slot

	dummyOnce sync.Once
	dummy     []byte // the hash unknown users are compared against

	mu       sync.Mutex
	failures map[string]failures // by key (see keys)
}

// failures is what is remembered of a user's or source's failed checks.
type failures struct {
	n     int
	last  time.Time // of the last failure
	until time.Time // checks before it are refused
}

// NewPasswords returns Passwords. now may be nil for time.Now; m may be
// nil to count into the void.
func NewPasswords(cfg PasswordConfig, m *metrics.Metrics, now func() time.Time) *Passwords {
	cfg = cfg.withDefaults()
	if now == nil {
		now = time.Now
	}
	if m == nil {
		m = metrics.New(nil)
	}
	return &Passwords{cfg: cfg, now: now, count: m, slots: make(chan struct{}, cfg.Workers), failures: map[string]failures{}}
}

// Check checks the attempt's password against its hash. It answers
// CodeTooManyAttempts at once, without comparing, while the user or
// the source is in back-off; CodeBusy at once when the pool and its
// queue are full; ErrWrongPassword for a wrong password or a user that
// does not exist (after a comparison as costly as a real one); the
// context's error if it ends while the check waits.
func (p *Passwords) Check(ctx context.Context, a Attempt) error {
	users, source := p.keys(a)
	if wait := p.waitFor(users, source); wait > 0 {
		p.count.PasswordChecked(metrics.PasswordBackOff)
		secs := int(wait.Round(time.Second) / time.Second)
		return imgate.Errorf(imgate.CodeTooManyAttempts, "too many failed attempts; retry in %d s", max(secs, 1))
	}
	hash := []byte(a.Hash)
	var match bool
	err := p.run(ctx, func() {
		if len(hash) == 0 {
			hash = p.dummyHash()
		}
		match = bcrypt.CompareHashAndPassword(hash, []byte(a.Password)) == nil
	})
	if err != nil {
		return err
	}
	if match && a.Hash != "" {
		p.count.PasswordChecked(metrics.PasswordOK)
		p.succeeded(users)
		return nil
	}
	p.count.PasswordChecked(metrics.PasswordWrong)
	p.failed(users, source)
	return ErrWrongPassword
}

// run runs fn on a worker: at once if one is free, after a wait in the
// queue if there is room in it, else not at all (errBusy).
func (p *Passwords) run(ctx context.Context, fn func()) error {
	select {
	case p.slots <- struct{}{}:
	default:
		if p.waiting.Add(1) > int64(p.cfg.Queue) {
			p.waiting.Add(-1)
			p.count.PasswordChecked(metrics.PasswordBusy)
			return errBusy
		}
		select {
		case p.slots <- struct{}{}:
			p.waiting.Add(-1)
		case <-ctx.Done():
			p.waiting.Add(-1)
			return fmt.Errorf("auth: wait for a password worker: %w", ctx.Err())
		}
	}
	defer func() { <-p.slots }()
	fn()
	return nil
}

// dummyHash is a hash of a random password at the configured cost, made
// on first use.
func (p *Passwords) dummyHash() []byte {
	p.dummyOnce.Do(func() {
		pw := make([]byte, 16)
		_, _ = rand.Read(pw) // crypto/rand.Read never fails on supported platforms
		h, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(pw)), p.cfg.Cost)
		if err != nil {
			// Only a cost out of range fails; the minimum still compares.
			h, _ = bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(pw)), bcrypt.MinCost)
		}
		p.dummy = h
	})
	return p.dummy
}

// keys are the failure records an attempt counts against: the user as
// named and, when found, by id (so that naming it another way, by id,
// username or mobile, shares its limit; and naming a user that does not
// exist behaves as naming one that does); and the source.
func (p *Passwords) keys(a Attempt) (users []string, source string) {
	users = []string{"n\x00" + a.App + "\x00" + a.Name}
	if a.UserID != 0 {
		users = append(users, "u\x00"+a.App+"\x00"+strconv.FormatInt(a.UserID, 10))
	}
	if a.Source != "" {
		source = "s\x00" + a.Source
	}
	return users, source
}

// waitFor returns how long the longest back-off of the keys has to run.
func (p *Passwords) waitFor(users []string, source string) time.Duration {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	var wait time.Duration
	for _, k := range users {
		wait = max(wait, p.failures[k].until.Sub(now))
	}
	if source != "" {
		wait = max(wait, p.failures[source].until.Sub(now))
	}
	return wait
}

// failed counts a failure against every key, starting or lengthening
// the back-off of those over their limit.
func (p *Passwords) failed(users []string, source string) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range users {
		p.failLocked(k, p.cfg.UserFailures, now)
	}
	if source != "" {
		p.failLocked(source, p.cfg.SourceFailures, now)
	}
}

func (p *Passwords) failLocked(key string, allowed int, now time.Time) {
	f, ok := p.failures[key]
	if ok && now.Sub(f.last) > p.cfg.Forget {
		f = failures{}
	}
	if !ok && len(p.failures) >= p.cfg.MaxTracked {
		p.pruneLocked(now)
	}
	f.n++
	f.last = now
	if over := f.n - allowed; over >= 0 {
		wait := p.cfg.MaxBackOff
		if over < 30 {
			wait = min(p.cfg.BackOff<<over, p.cfg.MaxBackOff)
		}
		f.until = now.Add(wait)
	}
	p.failures[key] = f
}

// pruneLocked drops the records that no longer count and, if that frees
// too little, an arbitrary tenth of the rest (map order is random): at
// worst a flood of names lets some keys start over.
func (p *Passwords) pruneLocked(now time.Time) {
	for k, f := range p.failures {
		if now.Sub(f.last) > p.cfg.Forget && !now.Before(f.until) {
			delete(p.failures, k)
		}
	}
	drop := p.cfg.MaxTracked / 10
	for k := range p.failures {
		if len(p.failures) < p.cfg.MaxTracked-drop {
			return
		}
		delete(p.failures, k)
	}
}

// succeeded forgets the user's failures. The source's stay: a source
// that knows one password must not earn more guesses at others by
// logging in between them.
func (p *Passwords) succeeded(users []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range users {
		delete(p.failures, k)
	}
}

// Tracked returns the number of users and sources whose failures are
// kept.
func (p *Passwords) Tracked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.failures)
}

// sourceKey is the context key of a request's source address.
type sourceKey struct{}

// WithSource returns ctx carrying the client's address, for the
// per-source limit of password checks made on its behalf.
func WithSource(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, sourceKey{}, addr)
}

// Source returns the client's address that ctx carries; "" if none.
func Source(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}

// SourceOf returns the client address of a request: the one its context
// carries (see Sources), else the host of its remote address.
func SourceOf(r *http.Request) string {
	if s := Source(r.Context()); s != "" {
		return s
	}
	return hostOf(r.RemoteAddr)
}

// Sources puts each request's client address in its context: the host of
// its remote address, or with header (X-Forwarded-For or X-Real-IP, set
// by a trusted proxy in front) the address the proxy saw: the header's
// last entry.
func Sources(header string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := hostOf(r.RemoteAddr)
		if header != "" {
			if v := lastEntry(r.Header.Values(header)); v != "" {
				addr = v
			}
		}
		next.ServeHTTP(w, r.WithContext(WithSource(r.Context(), addr)))
	})
}

func lastEntry(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
