// Package gateway serves XSYNC, MaxIM's client protocol, over WebSocket:
// logins (PROVISION), heartbeats (UNREAD) and sync, one session per
// connection, registered in a Hub by user.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/metrics"
)

// Config holds the gateway's limits. Zero fields take the defaults.
type Config struct {
	// LoginTimeout bounds the wait for the first PROVISION. Default 10s.
	LoginTimeout time.Duration
	// IdleTimeout closes a session that sends nothing for so long. MaxIM's
	// clients send UNREAD every 50s. Default 3m.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to a client. Default 10s.
	WriteTimeout time.Duration
	// MaxFrameBytes bounds a frame from a client. Default 64 KiB.
	MaxFrameBytes int64
	// QueueBytes bounds a session's unsent data; a client that lets more
	// pile up is closed as slow. Default 1 MiB.
	QueueBytes int
	// MaxDevices bounds the devices of one user logged in at once.
	// Default 10.
	MaxDevices int
	// SendRate bounds the messages and operations one session may send
	// per second, with bursts of SendBurst; beyond it sends are refused
	// with RATE_LIMIT_EXCEEDED. Defaults 20 and 50.
	SendRate  float64
	SendBurst int
	// Logins bounds the logins whose store work (credentials, device,
	// groups, cursors, notices) runs at once; a PROVISION beyond it waits
	// its turn. A reconnect wave then costs each device one wait and a
	// quick login, instead of every login's queries queueing behind every
	// other's for the store's connections until all time out. Default 64.
	Logins int
	// ReconnectTTL is how long after a device's session ends this node
	// remembers the device and its user's groups, so that a reconnect
	// reads the store once; on several nodes, the presence TTL. 0: 90s;
	// negative: not at all.
	ReconnectTTL time.Duration
	// WindowBytes bounds the memory of the window of recent messages,
	// which answers pulls without the store. Default 64 MiB; negative:
	// no window.
	WindowBytes int64
	// Metrics counts connections, deliveries and their latency; nil
	// counts into the void.
	Metrics *metrics.Metrics
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.LoginTimeout, 10*time.Second)
	def(&c.IdleTimeout, 3*time.Minute)
	def(&c.WriteTimeout, 10*time.Second)
	if c.ReconnectTTL == 0 {
		c.ReconnectTTL = 90 * time.Second
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 64 << 10
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = 1 << 20
	}
	if c.MaxDevices <= 0 {
		c.MaxDevices = 10
	}
	if c.SendRate <= 0 {
		c.SendRate = 20
	}
	if c.SendBurst <= 0 {
		c.SendBurst = 50
	}
	if c.Logins <= 0 {
		c.Logins = 64
	}
	if c.Metrics == nil {
		c.Metrics = metrics.New(nil)
	}
	if c.WindowBytes == 0 {
		c.WindowBytes = 64 << 20
	}
	return c
}

// Server accepts XSYNC sessions on WebSocket upgrades. It is an
// http.Handler.
type Server struct {
	cfg    Config
	core   *delivery.Core
	store  imgate.Store
	tokens *auth.Tokens
	hub    *Hub
	log    *slog.Logger
	now    func() time.Time

	// Every session, logged in or not, for draining.
	mu       sync.Mutex
	live     map[*session]struct{}
	draining bool
	running  sync.WaitGroup

	deadlines deadlines // bound the writes of every session

	logins chan struct{} // a slot per login being served; nil: no bound

	reconnects *reconnects // devices whose session ended lately
}

// admit waits for a login slot; release gives it back.
func (s *Server) admit(ctx context.Context) (release func(), err error) {
	if s.logins == nil {
		return func() {}, nil
	}
	select {
	case s.logins <- struct{}{}:
		return func() { <-s.logins }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("gateway: waiting for a login slot: %w", ctx.Err())
	}
}

// New returns a gateway registering its sessions in hub, which must be
// the router of core's bus, and taking what clients send to core.
func New(cfg Config, core *delivery.Core, tokens *auth.Tokens, hub *Hub, logger *slog.Logger) *Server {
	cfg = cfg.withDefaults()
	hub.window.Store(newWindow(cfg.WindowBytes, cfg.Metrics))
	s := &Server{
		cfg: cfg, core: core, store: core.Store(), tokens: tokens, hub: hub, log: logger, now: time.Now,
		live: map[*session]struct{}{}, logins: make(chan struct{}, cfg.Logins),
		reconnects: newReconnects(cfg.ReconnectTTL, cfg.Metrics.Cache("reconnect")),
	}
	core.OnInvalidation(s.tokenInvalidated)
	return s
}

// HoldStats counts the events the hub held for their conversation's
// order, for metrics.WatchHolds.
func (s *Server) HoldStats() metrics.HoldStats {
	return metrics.HoldStats{Held: s.hub.orders.held.Load(), Late: s.hub.orders.late.Load()}
}

// WindowStats is the size of the window of recent messages, for
// metrics.WatchWindow.
func (s *Server) WindowStats() metrics.WindowStats {
	if w := s.hub.window.Load(); w != nil {
		return w.stats()
	}
	return metrics.WindowStats{}
}

// ServeHTTP upgrades the request and runs the session until it ends.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, s.acceptRaw)
}

// acceptRaw upgrades to XSYNC's own framing: one message, one frame,
// binary or, with subprotocol xsync.json, JSON text.
func (s *Server) acceptRaw(w http.ResponseWriter, r *http.Request) (transport, codec, bool) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols: []string{SubprotocolBinary, SubprotocolJSON},
		// MaxIM's SDKs run in browsers and mini-programs served from the
		// app's own origin; tokens, not origins, authenticate them.
		InsecureSkipVerify: true,
	})
	if err != nil {
		return nil, nil, false // Accept has answered the client
	}
	conn.SetReadLimit(s.cfg.MaxFrameBytes)
	var c codec = binaryCodec{}
	if conn.Subprotocol() == SubprotocolJSON {
		c = jsonCodec{}
	}
	return rawTransport{conn}, c, true
}

// serve runs a session on the transport accept makes of the request. The
// request's goroutine logs the session in; a logged-in session goes on in
// a goroutine of its own and the handler returns, so that what net/http
// keeps for a request (its buffers, the request, the login's grown stack)
// is not kept for the life of an idle connection.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, accept func(http.ResponseWriter, *http.Request) (transport, codec, bool)) {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		http.Error(w, "draining: connect to another node", http.StatusServiceUnavailable)
		return
	}
	s.running.Add(1)
	s.mu.Unlock()
	conn, c, ok := accept(smallBuffers{w}, r)
	if !ok {
		s.running.Done()
		return
	}
	sess := newSession(s, conn, c)
	s.cfg.Metrics.Connections.Inc()
	s.mu.Lock()
	s.live[sess] = struct{}{}
	draining := s.draining
	s.mu.Unlock()
	if draining {
		sess.stop(closeShutdown)
	}
	ended := func() {
		s.mu.Lock()
		delete(s.live, sess)
		s.mu.Unlock()
		s.cfg.Metrics.Connections.Dec()
		s.running.Done()
	}
	// The request's context ends when the handler returns (net/http
	// cancels it then); the session's reads must not.
	sess.run(context.WithoutCancel(r.Context()), r.URL.Query().Get("app_id"), ended)
}

// Shutdown refuses new connections and closes every session with 1001
// (going away), so clients reconnect to another node. Wait waits until
// they have ended.
func (s *Server) Shutdown() {
	s.mu.Lock()
	s.draining = true
	live := make([]*session, 0, len(s.live))
	for sess := range s.live {
		live = append(live, sess)
	}
	s.mu.Unlock()
	for _, sess := range live {
		sess.stop(closeShutdown)
	}
}

// Wait waits until every session has ended (its last frames written,
// its state saved), or ctx ends.
func (s *Server) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("gateway: sessions still open: %w", ctx.Err())
	}
}

// isClosed tells a peer's close or a dropped connection from a failure
// worth logging.
func isClosed(err error) bool {
	return websocket.CloseStatus(err) != -1 || errors.Is(err, context.Canceled) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF)
}
