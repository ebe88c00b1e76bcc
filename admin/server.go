// Package admin serves imgate's REST API, compatible with MaxIM's server
// API: the same paths, headers and JSON envelope, business errors as HTTP
// 200 with MaxIM's codes.
package admin

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/crypto/bcrypt"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/files"
	"github.com/imgate/imgate/metrics"
)

// Config holds the REST API's limits. Zero fields take the defaults.
type Config struct {
	// MaxBodyBytes bounds a request body. Default 1 MiB.
	MaxBodyBytes int64
	// MaxListLen bounds every list argument (batch registrations, id lists,
	// tags). Default 500, MaxIM's limit for push audiences.
	MaxListLen int
	// PasswordCost is the bcrypt cost of stored passwords. Default 10;
	// load tests may lower it to 4 to register users quickly.
	PasswordCost int
	// PublicURL is the scheme and host clients reach this server at, such
	// as https://im.example.com, which discovery (/v2/app_dns) hands to
	// MaxIM's SDKs. Empty: the scheme and Host of each discovery request.
	PublicURL string
	// Version is the server's version, shown by GET / and /app/config.
	// Default "devel".
	Version string
	// CacheTTL is how long an app, and the existence of a user that a
	// request acts as (the user_id header, from_user_id), are trusted
	// without asking the store again. A user's status change or deletion
	// is seen once its invalidation reaches this node (at once when made
	// here, within milliseconds on another node over Redis); CacheTTL
	// bounds one whose invalidation was lost, and an app's change.
	// Default 1 minute; imgate serve passes --token-cache-ttl, as a token
	// of a deleted user is trusted as long.
	CacheTTL time.Duration
	// BodyTimeout bounds the time from a request's start to the end of
	// its body's arrival: past it the body's read fails (10002) and the
	// connection closes, so that a client announcing a large body and
	// dripping it holds no connection. Default 10s.
	BodyTimeout time.Duration
	// Files stores and serves the files of the /file/ API; nil: those
	// paths answer 10009 (oss exception).
	Files *files.Files
	// Metrics counts requests by route, method and MaxIM code, and the
	// caches' hits and misses; nil counts into the void.
	Metrics *metrics.Metrics
}

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxListLen <= 0 {
		c.MaxListLen = 500
	}
	if c.PasswordCost == 0 {
		c.PasswordCost = bcrypt.DefaultCost
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = time.Minute
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = 10 * time.Second
	}
	if c.Version == "" {
		c.Version = "devel"
	}
	if c.Metrics == nil {
		c.Metrics = metrics.New(nil)
	}
	return c
}

// Sessions is what the REST API needs of the live connections: whether a
// user is online, and kicking devices off. The gateway implements it.
type Sessions interface {
	// Online reports whether any device of the user is connected.
	Online(ctx context.Context, appID string, userID int64) (bool, error)
	// Kick tells the sessions of the user's device sn (or of all its
	// devices when sn is 0) why they end, with a UserNotice of the type
	// (an imgate.User* constant), and closes them.
	Kick(ctx context.Context, appID string, userID int64, sn uint32, notice int) error
	// KickOthers is Kick of every device of the user but the sessions
	// logged in with the token id keep.
	KickOthers(ctx context.Context, appID string, userID int64, keep string, notice int) error
}

// Server is the REST API. It is an http.Handler.
type Server struct {
	cfg      Config
	core     *delivery.Core
	store    imgate.Store // writes announce their notices on the core's bus
	tokens   *auth.Tokens
	sessions Sessions
	log      *slog.Logger
	router   *mux.Router
	exact    map[routeKey]http.Handler // the routes of handle, by path and method
	handler  http.Handler              // router behind CORS
	bg       background                // work that outlives its request (broadcasts)
	apps     *ttlCache[string, imgate.App]
	users    *ttlCache[userKey, imgate.UserStatus]
}

// New returns the REST API over the core's store, sending messages
// through the core. sessions may be nil while no gateway runs: then nobody
// is online and kicks have nothing to close.
func New(cfg Config, core *delivery.Core, tokens *auth.Tokens, sessions Sessions, logger *slog.Logger) *Server {
	if sessions == nil {
		sessions = noSessions{}
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, core: core, tokens: tokens, sessions: sessions, log: logger, router: mux.NewRouter(), exact: map[routeKey]http.Handler{}}
	s.apps = newTTLCache[string, imgate.App](cfg.CacheTTL, maxCachedApps, time.Now, cfg.Metrics.Cache("app"))
	s.users = newTTLCache[userKey, imgate.UserStatus](cfg.CacheTTL, maxCachedUsers, time.Now, cfg.Metrics.Cache("user"))
	s.store = core.Notifying(core.Store())
	core.OnInvalidation(s.forgetUsers)
	s.bg.ctx, s.bg.stop = context.WithCancel(context.Background())
	s.router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		writeStatus(w, http.StatusNotFound)
		s.cfg.Metrics.Request("unmatched", r.Method, http.StatusNotFound, time.Since(began))
	})
	s.router.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		writeStatus(w, http.StatusMethodNotAllowed)
		s.cfg.Metrics.Request("unmatched", r.Method, http.StatusMethodNotAllowed, time.Since(began))
	})
	s.routes()
	s.handler = allowCORS(http.HandlerFunc(s.route))
	return s
}

// Close stops the work the API runs in the background (the rest of a
// broadcast) and waits for it to end. Call it before closing the core.
func (s *Server) Close() { s.bg.close() }

// ServeHTTP serves one REST request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// handle registers fn for the path and methods behind the access check.
func (s *Server) handle(path string, acc access, fn handlerFunc, methods ...string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		// The next request on the connection starts without it: net/http
		// sets the read deadline of each request's headers anew.
		_ = http.NewResponseController(w).SetReadDeadline(began.Add(s.cfg.BodyTimeout))
		r = r.WithContext(metrics.WithStoreOp(r.Context(), metrics.OpREST))
		c, err := s.authorize(r, acc)
		var v any
		if err == nil {
			v, err = fn(r, c)
		}
		code := s.writeResult(w, r, path, v, err)
		s.cfg.Metrics.Request(path, r.Method, code, time.Since(began))
	})
	s.router.Handle(path, h).Methods(methods...)
	for _, m := range methods {
		if _, taken := s.exact[routeKey{path, m}]; !taken { // the router, too, takes the first
			s.exact[routeKey{path, m}] = h
		}
	}
}

// routeKey is a path and a method, as a request names them.
type routeKey struct{ path, method string }

// route serves a request for one of handle's paths and methods directly:
// they are literal, so a map finds them where the router would try its
// hundred patterns in turn. The router serves the rest: its other routes,
// unclean paths, 404 and 405.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if h, ok := s.exact[routeKey{r.URL.Path, r.Method}]; ok {
		h.ServeHTTP(w, r)
		return
	}
	s.router.ServeHTTP(w, r)
}

type noSessions struct{}

func (noSessions) Online(context.Context, string, int64) (bool, error)    { return false, nil }
func (noSessions) Kick(context.Context, string, int64, uint32, int) error { return nil }
func (noSessions) KickOthers(context.Context, string, int64, string, int) error {
	return nil
}
