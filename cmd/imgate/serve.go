package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/admin"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/metrics"
	"github.com/imgate/imgate/webhook"
)

// serveConfig is everything serve reads from flags and the environment.
type serveConfig struct {
	listen       string
	publicURL    string
	secret       string
	passwordCost int
	maxBody      int
	maxList      int
	tokenTTL     time.Duration
	cacheTTL     time.Duration
	tokenCheck   time.Duration
	drain        time.Duration
	metrics      string // the metrics listener's address; empty: none
	pprof        bool
	realIPHeader string
	headerTime   time.Duration
	bodyTime     time.Duration
	connsPerIP   int
	passwords    auth.PasswordConfig
	gateway      gateway.Config
	delivery     delivery.Config
	redis        redisConfig
	files        filesConfig
	webhooks     webhook.Config
	dataDir      string
}

// redisConfig is the multi-node part of serve's configuration.
type redisConfig struct {
	url         string
	cluster     bool
	prefix      string
	node        string
	presenceTTL time.Duration
	probe       time.Duration
}

func (e env) serve(ctx context.Context, args []string) error {
	fs := e.flags("serve")
	sf := e.storeFlags(fs)
	var c serveConfig
	fs.StringVar(&c.listen, "listen", e.str("IMGATE_LISTEN", "127.0.0.1:8080"), "HTTP listen address (env IMGATE_LISTEN)")
	fs.StringVar(&c.publicURL, "public-url", e.getenv("IMGATE_PUBLIC_URL"), "scheme and host clients reach imgate at, e.g. https://im.example.com, given to MaxIM's SDKs by /v2/app_dns; empty: http://<listen address> (env IMGATE_PUBLIC_URL)")
	fs.StringVar(&c.secret, "secret", e.getenv("IMGATE_SECRET"), "token-signing secret, at least 32 bytes; empty keeps a generated one in the store (env IMGATE_SECRET)")
	fs.intVar(&c.passwordCost, "password-cost", "IMGATE_PASSWORD_COST", 10, "bcrypt cost of stored passwords, 4 to 31")
	pc := &c.passwords
	fs.intVar(&pc.Workers, "password-workers", "IMGATE_PASSWORD_WORKERS", 0, "bcrypt password checks run at once, in a pool of their own; 0: half the CPUs")
	fs.intVar(&pc.Queue, "password-queue", "IMGATE_PASSWORD_QUEUE", 0, "password checks that may wait for a worker; more are refused at once (code 429, RATE_LIMIT_EXCEEDED); 0: 8 per worker")
	fs.intVar(&pc.UserFailures, "login-user-failures", "IMGATE_LOGIN_USER_FAILURES", 5, "failed password logins of one user before back-off")
	fs.intVar(&pc.SourceFailures, "login-source-failures", "IMGATE_LOGIN_SOURCE_FAILURES", 30, "failed password logins from one client address before back-off")
	fs.durationVar(&pc.BackOff, "login-backoff", "IMGATE_LOGIN_BACKOFF", time.Second, "first back-off after too many failed password logins; doubles with each further failure")
	fs.durationVar(&pc.MaxBackOff, "login-backoff-max", "IMGATE_LOGIN_BACKOFF_MAX", 15*time.Minute, "longest back-off")
	fs.StringVar(&c.realIPHeader, "real-ip-header", e.getenv("IMGATE_REAL_IP_HEADER"), "header a trusted proxy in front sets to the client's address (X-Forwarded-For: its last entry, or X-Real-IP), for per-address limits; empty: the connection's address (env IMGATE_REAL_IP_HEADER)")
	fs.durationVar(&c.headerTime, "header-timeout", "IMGATE_HEADER_TIMEOUT", 10*time.Second, "time a request's headers may take to arrive")
	fs.durationVar(&c.bodyTime, "body-timeout", "IMGATE_BODY_TIMEOUT", 10*time.Second, "time a REST request, from its start, may take for its body to arrive; past it the request fails and the connection closes")
	fs.intVar(&c.connsPerIP, "max-conns-per-ip", "IMGATE_MAX_CONNS_PER_IP", 1000, "TCP connections (REST and WebSocket) open at once from one source address; more are closed at accept; 0: no limit")
	fs.intVar(&c.maxBody, "max-body-bytes", "IMGATE_MAX_BODY_BYTES", 1<<20, "largest REST request body")
	fs.intVar(&c.maxList, "max-list", "IMGATE_MAX_LIST", 500, "longest list argument of a REST request")
	fs.durationVar(&c.tokenTTL, "user-token-ttl", "IMGATE_USER_TOKEN_TTL", 7*24*time.Hour, "lifetime of user tokens")
	fs.durationVar(&c.cacheTTL, "token-cache-ttl", "IMGATE_TOKEN_CACHE_TTL", time.Minute, "how long a verified token is trusted without asking the store")
	fs.durationVar(&c.tokenCheck, "token-check-interval", "IMGATE_TOKEN_CHECK_INTERVAL", 10*time.Second, "how often the node asks the store for revoked tokens and ends the sessions of revoked and expired tokens; bounds how long those outlive their token")
	fs.durationVar(&c.drain, "shutdown-timeout", "IMGATE_SHUTDOWN_TIMEOUT", 10*time.Second, "how long in-flight requests may finish after SIGTERM")
	fs.StringVar(&c.metrics, "metrics-listen", e.getenv("IMGATE_METRICS_LISTEN"), "listen address of the Prometheus endpoint /metrics, e.g. 127.0.0.1:9464; empty: none (env IMGATE_METRICS_LISTEN)")
	fs.boolVar(&c.pprof, "pprof", "IMGATE_PPROF", "serve Go's profiles at /debug/pprof/ on the metrics listener")
	g := &c.gateway
	fs.durationVar(&g.LoginTimeout, "login-timeout", "IMGATE_LOGIN_TIMEOUT", 10*time.Second, "how long a new WebSocket may take to send PROVISION")
	fs.durationVar(&g.IdleTimeout, "idle-timeout", "IMGATE_IDLE_TIMEOUT", 3*time.Minute, "close a WebSocket session that sends nothing for so long (clients beat every 50s)")
	fs.intVar(&g.MaxDevices, "max-devices", "IMGATE_MAX_DEVICES", 10, "devices of one user logged in at once")
	fs.intVar(&g.Logins, "login-concurrency", "IMGATE_LOGIN_CONCURRENCY", 64, "logins served at once; more PROVISIONs wait their turn (a reconnect wave)")
	var rateLimit int
	fs.intVar(&rateLimit, "send-rate", "IMGATE_SEND_RATE", 20, "messages and operations one WebSocket session may send per second (bursts of 50)")
	d := &c.delivery
	fs.durationVar(&d.RecallWindow, "recall-window", "IMGATE_RECALL_WINDOW", 2*time.Minute, "how long after sending a user may recall a message")
	fs.intVar(&d.BatchSize, "store-batch", "IMGATE_STORE_BATCH", 256, "most messages stored in one transaction")
	fs.intVar(&d.Writers, "store-writers", "IMGATE_STORE_WRITERS", 0, "transactions storing messages at once; 0: 1 on the embedded store, 2 on Postgres")
	fs.intVar(&d.Limits.User, "user-send-rate", "IMGATE_USER_SEND_RATE", 100, "messages one user may send per second, over all its devices, REST calls with its token and nodes (admin tokens count against the app only); 0: no limit")
	fs.intVar(&d.Limits.App, "app-send-rate", "IMGATE_APP_SEND_RATE", 0, "messages one app (all its users and admin tokens) may send per second, over all nodes; 0: no limit")
	fs.durationVar(&d.CheckCacheTTL, "send-check-cache", "IMGATE_SEND_CHECK_CACHE", time.Minute, "longest a passed send check (peer exists, not blocked; member, not muted) is trusted; a change drops it on every node when its invalidation arrives, this bounds one Redis lost; 1s at most while the bus is degraded; negative: none")
	rc := &c.redis
	fs.StringVar(&rc.url, "redis", e.getenv("IMGATE_REDIS"), "Redis URL (redis://host:6379/0); set it to run several nodes as one (env IMGATE_REDIS)")
	fs.boolVar(&rc.cluster, "redis-cluster", "IMGATE_REDIS_CLUSTER", "--redis names a Redis Cluster (redis://host1:port?addr=host2:port&addr=…); the bus uses sharded pub/sub")
	fs.StringVar(&rc.prefix, "redis-prefix", e.str("IMGATE_REDIS_PREFIX", "imgate"), "prefix of imgate's Redis keys and channels (env IMGATE_REDIS_PREFIX)")
	fs.StringVar(&rc.node, "node", e.getenv("IMGATE_NODE"), "this node's name on the bus; empty: random (env IMGATE_NODE)")
	fs.durationVar(&rc.presenceTTL, "presence-ttl", "IMGATE_PRESENCE_TTL", 90*time.Second, "how long a dead node's devices still show online, and a node remembers a device that left for its reconnect")
	fs.durationVar(&rc.probe, "bus-probe-interval", "IMGATE_BUS_PROBE_INTERVAL", 2*time.Second, "how often the bus checks its subscriptions through Redis")
	e.filesFlags(fs, &c.files)
	webhookServeFlags(fs, &c.webhooks)
	var frame, queue, window int
	fs.intVar(&frame, "max-frame-bytes", "IMGATE_MAX_FRAME_BYTES", 64<<10, "largest frame a client may send")
	fs.intVar(&queue, "session-queue-bytes", "IMGATE_SESSION_QUEUE_BYTES", 1<<20, "unsent data after which a slow session is closed")
	fs.intVar(&window, "window-bytes", "IMGATE_WINDOW_BYTES", 64<<20, "memory for the recent messages of active conversations, from which pulls are answered without the store; 0: none")
	if err := fs.parse(args); err != nil {
		return err
	}
	c.dataDir = sf.dataDir
	if c.pprof && c.metrics == "" {
		return fmt.Errorf("--pprof needs --metrics-listen: profiles are served beside /metrics")
	}
	g.MaxFrameBytes, g.QueueBytes, g.SendRate = int64(frame), queue, float64(rateLimit)
	// A device that reconnects within the presence TTL reads the store
	// once: the node kept its device and groups (also on one node).
	g.ReconnectTTL = rc.presenceTTL
	switch {
	case window < 0:
		return fmt.Errorf("--window-bytes must be 0 (no window) or more")
	case window == 0:
		g.WindowBytes = -1 // the gateway's zero is its default
	default:
		g.WindowBytes = int64(window)
	}
	if c.headerTime <= 0 || c.bodyTime <= 0 || c.connsPerIP < 0 {
		return fmt.Errorf("--header-timeout and --body-timeout must be positive, --max-conns-per-ip 0 (no limit) or more")
	}
	if err := auth.CheckSecret(c.secret); err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	if c.passwordCost < 4 || c.passwordCost > 31 {
		return fmt.Errorf("--password-cost must be from 4 to 31")
	}
	if pc.Workers < 0 || pc.Queue < 0 || pc.UserFailures < 1 || pc.SourceFailures < 1 || pc.BackOff <= 0 || pc.MaxBackOff < pc.BackOff {
		return fmt.Errorf("--password-workers and --password-queue must be 0 or more, --login-*-failures 1 or more, --login-backoff positive and --login-backoff-max no shorter")
	}
	pc.Cost = c.passwordCost
	if err := checkPublicURL(c.publicURL); err != nil {
		return err
	}
	if strings.ContainsAny(c.redis.node, "| \t\n") {
		// Presence entries are "session|sn|node|guid".
		return fmt.Errorf("--node %q: no '|' or whitespace in a node name", c.redis.node)
	}
	if c.delivery.Writers == 0 {
		// SQLite takes one writing transaction at a time: a second writer
		// would only wait for the first, with a batch half the size.
		c.delivery.Writers = 1
		if sf.postgres != "" {
			c.delivery.Writers = 2
		}
	}
	// Made before the store opens, so that its connections count their
	// round trips.
	reg, m := metrics.NewRegistry()
	sf.roundTrips = m
	// A store or Redis outage fails every request alike: its lines are
	// held back after the first few, and counted (package logguard).
	sf.guard = true
	return sf.with(ctx, e.stderr, func(store versioned, logger *slog.Logger) error {
		return serveStore(ctx, c, store, reg, m, logger)
	})
}

func serveStore(ctx context.Context, c serveConfig, store imgate.Store, reg *prometheus.Registry, m *metrics.Metrics, logger *slog.Logger) error {
	secret, err := auth.LoadSecret(ctx, store, c.secret)
	if err != nil {
		return err
	}
	tokens, err := auth.New(store, auth.Config{Secret: secret, UserTokenTTL: c.tokenTTL, CacheTTL: c.cacheTTL, Passwords: c.passwords, Metrics: m}, nil)
	if err != nil {
		return err
	}
	if err := firstApp(ctx, store, tokens, logger); err != nil {
		return err
	}
	fileService, err := c.files.open(ctx, c.dataDir, secret, m, logger)
	if err != nil {
		return err
	}
	c.delivery.Attachments = fileService
	hub := gateway.NewHub()
	bus, closeBus, err := newBus(c.redis, hub, m, logger)
	if err != nil {
		return err
	}
	defer closeBus()
	m.WatchReady(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return ready(ctx, store, bus)
	})
	c.delivery.Metrics, c.gateway.Metrics = m, m
	core := delivery.New(c.delivery, store, bus, logger)
	defer core.Close()
	gw := gateway.New(c.gateway, core, tokens, hub, logger)
	m.WatchWindow(gw.WindowStats)
	m.WatchHolds(gw.HoldStats)
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.listen, err)
	}
	var metricsLn net.Listener
	if c.metrics != "" {
		if metricsLn, err = net.Listen("tcp", c.metrics); err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s for metrics: %w", c.metrics, err)
		}
	}
	public := publicURL(c.publicURL, ln.Addr())
	api := admin.New(admin.Config{
		MaxBodyBytes: int64(c.maxBody), MaxListLen: c.maxList, PasswordCost: c.passwordCost,
		PublicURL: public, Version: version(), Metrics: m, CacheTTL: c.cacheTTL, BodyTimeout: c.bodyTime, Files: fileService,
	}, core, tokens, hub, logger)
	defer api.Close() // before core.Close: broadcasts still running send through the core
	srv := &http.Server{
		Handler:           auth.Sources(c.realIPHeader, routes(api, gw, store, bus)),
		ReadHeaderTimeout: c.headerTime,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("imgate listening", "addr", ln.Addr().String(), "public_url", public)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(limitPerSource(ln, c.connsPerIP, m)); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
		return nil
	})
	drained := make(chan struct{})
	if metricsLn != nil {
		msrv := &http.Server{Handler: metricsRoutes(reg, c.pprof), ReadHeaderTimeout: 10 * time.Second}
		logger.Info("metrics listening", "addr", metricsLn.Addr().String(), "pprof", c.pprof)
		g.Go(func() error {
			if err := msrv.Serve(metricsLn); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve metrics: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			// Up until the process ends, so that the drain can be watched.
			<-drained
			return msrv.Close()
		})
	}
	g.Go(func() error { return pruneTokens(ctx, tokens, logger) })
	g.Go(func() error { return sweepFiles(ctx, fileService, c.files.orphans, logger) })
	g.Go(func() error { return hub.Run(ctx, logger) })
	g.Go(func() error { return gw.WatchTokens(ctx, c.tokenCheck) })
	g.Go(func() error { return webhook.New(c.webhooks, store, logger, m).Run(ctx) })
	g.Go(func() error {
		<-ctx.Done()
		defer close(drained)
		logger.Info("imgate draining", "timeout", c.drain)
		sctx, cancel := context.WithTimeout(context.Background(), c.drain)
		defer cancel()
		// Stop accepting and let in-flight REST requests finish; close
		// the WebSocket sessions (hijacked, so http.Server does not see
		// them) with 1001 so that clients reconnect to another node. What
		// sends are queued is stored when the core closes, after this.
		httpDone := make(chan error, 1)
		go func() { httpDone <- srv.Shutdown(sctx) }()
		gw.Shutdown()
		if err := gw.Wait(sctx); err != nil {
			logger.Warn("drain deadline passed with sessions open", "err", err)
		}
		if err := <-httpDone; err != nil {
			return fmt.Errorf("shut down http: %w", err)
		}
		logger.Info("imgate drained")
		return nil
	})
	return g.Wait()
}

// routes puts the health probes and the WebSocket gateway's three
// entrances beside the REST API: XSYNC at /ws, Socket.IO (MaxIM's web
// SDK) at /socket.io/, and raw XSYNC upgrades on / (the uni-app SDK),
// where a plain GET is the REST API's status.
func routes(api http.Handler, gw *gateway.Server, store imgate.Store, bus delivery.Bus) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := ready(ctx, store, bus); err != nil {
			// A degraded bus: sends still work (they are stored); devices
			// on other nodes get them when they sync. Not ready, so that
			// balancers and operators see it.
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err)
			return
		}
		fmt.Fprintln(w, "store: ok\nbus: ok")
	})
	mux.Handle("GET /ws", gw)
	mux.Handle("/socket.io/", gw.SocketIO())
	mux.Handle("GET /{$}", gw.Upgrades(api))
	mux.Handle("/", api)
	return mux
}

// ready checks what /readyz and imgate_ready report: the store answers
// and the bus reaches the other nodes.
func ready(ctx context.Context, store imgate.Store, bus delivery.Bus) error {
	if err := store.Ping(ctx); err != nil {
		return errors.New("store: unreachable")
	}
	if err := bus.Ready(ctx); err != nil {
		return fmt.Errorf("store: ok\nbus: degraded: %v", err)
	}
	return nil
}

// metricsRoutes serves /metrics from reg and, with pprof, Go's profiles.
func metricsRoutes(reg *prometheus.Registry, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// firstApp creates an app and an admin token when the store has no app,
// so that a newcomer can try the REST API at once.
func firstApp(ctx context.Context, store imgate.Store, tokens *auth.Tokens, logger *slog.Logger) error {
	apps, err := store.Apps(ctx)
	if err != nil || len(apps) > 0 {
		return err
	}
	creds, err := newApp(ctx, store, imgate.App{Name: "default"}, func(context.Context) (*auth.Tokens, error) { return tokens, nil })
	if err != nil {
		return err
	}
	logger.Info("created the first app; use these headers on the REST API", "app_id", creds.AppID, "access-token", creds.AccessToken)
	return nil
}

// pruneTokens deletes long-expired token records every hour.
func pruneTokens(ctx context.Context, tokens *auth.Tokens, logger *slog.Logger) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if n, err := tokens.Prune(ctx); err != nil {
				logger.Warn("pruning expired tokens failed", "err", err)
			} else if n > 0 {
				logger.Info("pruned expired tokens", "count", n)
			}
		}
	}
}

func (e env) migrate(ctx context.Context, args []string) error {
	fs := e.flags("migrate")
	sf := e.storeFlags(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	return sf.with(ctx, e.stderr, func(store versioned, _ *slog.Logger) error {
		v, err := store.SchemaVersion(ctx)
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		return printJSON(e.stdout, struct {
			SchemaVersion int64 `json:"schema_version"`
		}{v})
	})
}

// newBus is the in-process bus, or with --redis the Redis bus and the
// presence that let several nodes act as one.
func newBus(c redisConfig, hub *gateway.Hub, m *metrics.Metrics, logger *slog.Logger) (delivery.Bus, func(), error) {
	if c.url == "" {
		bus := delivery.NewLocalBus(hub)
		hub.Attach(bus, nil, "")
		return bus, func() {}, nil
	}
	var client redis.UniversalClient
	if c.cluster {
		opt, err := redis.ParseClusterURL(c.url)
		if err != nil {
			return nil, nil, fmt.Errorf("--redis: %w", err)
		}
		// The bus and presence bound every call with a context deadline;
		// without this go-redis ignores it and waits its own timeouts
		// (and retries) on a Redis that does not answer.
		opt.ContextTimeoutEnabled = true
		client = redis.NewClusterClient(opt)
	} else {
		opt, err := redis.ParseURL(c.url)
		if err != nil {
			return nil, nil, fmt.Errorf("--redis: %w", err)
		}
		opt.ContextTimeoutEnabled = true // as above
		client = redis.NewClient(opt)
	}
	bus, err := delivery.NewRedisBus(delivery.RedisConfig{
		Prefix: c.prefix, Node: c.node, Sharded: c.cluster, ProbeInterval: c.probe, Metrics: m,
	}, client, hub, logger)
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	m.WatchBus(func() metrics.BusStats {
		s := bus.Stats()
		return metrics.BusStats{Published: s.Published, PublishErrors: s.PublishErrors, Received: s.Received, Dropped: s.Dropped, Resubscribed: s.Resubscribed}
	})
	hub.Attach(bus, delivery.NewRedisPresence(client, c.prefix, c.presenceTTL), bus.Node())
	logger.Info("bus on Redis", "node", bus.Node(), "cluster", c.cluster, "prefix", c.prefix)
	return bus, func() {
		// Closing publishes what is queued; on a Redis that does not
		// answer, go-redis's connection handshake waits its own dial
		// timeout whatever the deadline. Past a grace, closing the client
		// fails those calls, so that a drain is not held up.
		closed := make(chan struct{})
		go func() {
			bus.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(2 * time.Second):
			logger.Warn("bus close: Redis does not answer; closing the connections")
			client.Close()
			<-closed
		}
		client.Close()
	}, nil
}
