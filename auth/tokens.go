// Package auth issues and verifies imgate's access tokens: HS512-signed JWTs
// whose records live in the store, so that each can be revoked. Verification
// is on the path of every REST call and WebSocket login, so it checks the
// signature locally and consults the store only on a cache miss.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// Config tunes Tokens. Zero fields take the documented defaults.
type Config struct {
	// Secret signs and verifies tokens. Required; see LoadSecret.
	Secret []byte
	// UserTokenTTL is how long a user token lives. Default 7 days.
	UserTokenTTL time.Duration
	// CacheTTL is how long a verified token's record is trusted without
	// asking the store again. Revocations made through this process take
	// effect at once; those made by another process within CacheTTL.
	// Default 1 minute.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached records, and of token strings
	// whose signature was checked. Default 100,000.
	CacheSize int
	// Passwords bounds password checks (see Tokens.Passwords).
	Passwords PasswordConfig
	// Metrics counts the cache's hits and misses; nil counts into the void.
	Metrics *metrics.Metrics
}

func (c Config) withDefaults() Config {
	if c.UserTokenTTL <= 0 {
		c.UserTokenTTL = 7 * 24 * time.Hour
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = time.Minute
	}
	if c.CacheSize <= 0 {
		c.CacheSize = 100_000
	}
	if c.Metrics == nil {
		c.Metrics = metrics.New(nil)
	}
	return c
}

// claims is the signed payload, shaped like MaxIM's admin token example.
type claims struct {
	App  string `json:"app"`
	Role int    `json:"role"`
	jwt.RegisteredClaims
}

// entry is a cached verification result.
type entry struct {
	tok      imgate.Token
	missing  bool // no such token
	disabled bool // the token's user is disabled
	until    time.Time
}

// checked is what a token string's signature check found: the claims
// that stay true of the string, so that the next verification of it need
// not check the signature (an HMAC-SHA512 and a JSON decode) again. Its
// record is still looked up each time, for revocations.
type checked struct {
	id string // the record id
	// app, role and subject are the claims the record must match; an
	// imported token has none.
	app      string
	role     int
	subject  string
	expires  time.Time // the claim exp; zero when none
	imported bool
}

// Tokens issues, verifies and revokes access tokens.
type Tokens struct {
	store  imgate.Store
	cfg    Config
	now    func() time.Time
	parser *jwt.Parser
	count  metrics.CacheCounters
	pw     *Passwords

	mu      sync.Mutex
	cache   map[string]entry     // by token id
	checked map[[32]byte]checked // by SHA-256 of the token string
}

// New returns Tokens over the store. now may be nil for time.Now.
func New(store imgate.Store, cfg Config, now func() time.Time) (*Tokens, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("auth: no signing secret")
	}
	if now == nil {
		now = time.Now
	}
	cfg = cfg.withDefaults()
	return &Tokens{
		store:   store,
		cfg:     cfg,
		now:     now,
		parser:  jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS512.Alg()}), jwt.WithTimeFunc(now)),
		count:   cfg.Metrics.Cache("token"),
		pw:      NewPasswords(cfg.Passwords, cfg.Metrics, now),
		cache:   make(map[string]entry),
		checked: make(map[[32]byte]checked),
	}, nil
}

// Passwords returns the password checker that every password login (REST
// and WebSocket) goes through, so that they share one pool and one set
// of limits.
func (t *Tokens) Passwords() *Passwords { return t.pw }

// MinSecretLen is the shortest secret LoadSecret takes, in bytes: an
// HMAC key shorter than that is open to brute force offline from any one
// token. Generated secrets have this length.
const MinSecretLen = 32

// CheckSecret refuses a configured secret shorter than MinSecretLen; ""
// (generate one) passes.
func CheckSecret(configured string) error {
	if configured != "" && len(configured) < MinSecretLen {
		return fmt.Errorf("auth: the secret has %d bytes; at least %d are needed (e.g. openssl rand -hex 32)", len(configured), MinSecretLen)
	}
	return nil
}

// LoadSecret returns the configured secret, or else the one kept in the
// store, generating and keeping one on first use. A configured secret
// must pass CheckSecret.
func LoadSecret(ctx context.Context, store imgate.Store, configured string) ([]byte, error) {
	if configured != "" {
		if err := CheckSecret(configured); err != nil {
			return nil, err
		}
		return []byte(configured), nil
	}
	fresh := make([]byte, MinSecretLen)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("auth: generate secret: %w", err)
	}
	secret, err := store.Secret(ctx, fresh)
	if err != nil {
		return nil, fmt.Errorf("auth: load secret: %w", err)
	}
	return secret, nil
}

// IssueAdmin creates an admin token of the app; it never expires.
func (t *Tokens) IssueAdmin(ctx context.Context, appID string) (string, imgate.Token, error) {
	return t.issue(ctx, imgate.Token{AppID: appID, Kind: imgate.TokenAdmin})
}

// IssueUser creates a token of the user, expiring after UserTokenTTL.
func (t *Tokens) IssueUser(ctx context.Context, appID string, userID int64, deviceGUID string) (string, imgate.Token, error) {
	tok := imgate.Token{AppID: appID, Kind: imgate.TokenUser, UserID: userID, DeviceGUID: deviceGUID}
	tok.ExpiresAt = t.now().Add(t.cfg.UserTokenTTL)
	return t.issue(ctx, tok)
}

func (t *Tokens) issue(ctx context.Context, tok imgate.Token) (string, imgate.Token, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", tok, fmt.Errorf("auth: token id: %w", err)
	}
	tok.ID = hex.EncodeToString(id)
	tok.CreatedAt = time.UnixMilli(t.now().UnixMilli())
	if !tok.ExpiresAt.IsZero() {
		tok.ExpiresAt = time.UnixMilli(tok.ExpiresAt.UnixMilli())
	}
	if err := t.store.CreateToken(ctx, tok); err != nil {
		return "", tok, fmt.Errorf("auth: store token of app %s: %w", tok.AppID, err)
	}
	raw, err := t.sign(tok)
	if err != nil {
		return "", tok, err
	}
	return raw, tok, nil
}

func (t *Tokens) sign(tok imgate.Token) (string, error) {
	c := claims{App: tok.AppID, Role: int(tok.Kind)}
	c.ID = tok.ID
	c.Subject = strconv.FormatInt(tok.UserID, 10)
	c.IssuedAt = jwt.NewNumericDate(tok.CreatedAt)
	if !tok.ExpiresAt.IsZero() {
		c.ExpiresAt = jwt.NewNumericDate(tok.ExpiresAt)
	}
	raw, err := jwt.NewWithClaims(jwt.SigningMethodHS512, c).SignedString(t.cfg.Secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return raw, nil
}

var errInvalid = &imgate.Error{Code: imgate.CodeInvalidToken, Message: "invalid access-token"}

// errEnded refuses a user token that expired or was revoked: MaxIM's SDKs
// log in again when a REST call answers 402, and a user token ends in
// ordinary use (it lives --user-token-ttl; a password change revokes
// the others). An admin token that was revoked, like an unknown or forged
// one, is errInvalid (10008).
var errEnded = &imgate.Error{Code: imgate.CodeTokenEnded, Message: "access-token expired or revoked: log in again"}

// Verify returns the record of a valid token: CodeInvalidToken when it is
// malformed, badly signed, expired, revoked, or its user is gone, and
// CodeForbidden when its user is disabled. A token that imgate did not sign
// is valid only if it was imported (see Import).
func (t *Tokens) Verify(ctx context.Context, raw string) (imgate.Token, error) {
	tok, _, err := t.verify(ctx, raw)
	return tok, err
}

// VerifyUser is Verify for a caller that needs the token's user as the
// store has it now (a WebSocket login). When verifying read the user from
// the store (the token's record was not cached), it returns that user and
// fresh, so that the caller need not read it again; otherwise the caller
// reads the user itself.
func (t *Tokens) VerifyUser(ctx context.Context, raw string) (tok imgate.Token, u imgate.User, fresh bool, err error) {
	tok, user, err := t.verify(ctx, raw)
	if err != nil || user == nil {
		return tok, imgate.User{}, false, err
	}
	return tok, *user, true, nil
}

// verify is Verify, returning also the token's user when it was read from
// the store by this call.
func (t *Tokens) verify(ctx context.Context, raw string) (imgate.Token, *imgate.User, error) {
	if len(raw) > maxImportedLen {
		// Longer than any token imgate signs or imports: spare the hash.
		return imgate.Token{}, nil, errInvalid
	}
	sum := sha256.Sum256([]byte(raw))
	ch, ok := t.checkedOf(sum)
	if !ok {
		var err error
		if ch, err = t.check(raw, sum); err != nil {
			return imgate.Token{}, nil, err
		}
	}
	e, u, err := t.lookup(ctx, ch.id)
	if err != nil {
		return imgate.Token{}, nil, err
	}
	if !ch.imported && (e.tok.AppID != ch.app || int(e.tok.Kind) != ch.role || strconv.FormatInt(e.tok.UserID, 10) != ch.subject) {
		return imgate.Token{}, nil, errInvalid
	}
	tok, err := t.valid(e)
	if err != nil {
		return imgate.Token{}, nil, err
	}
	return tok, u, nil
}

// checkedOf returns what an earlier check of the token string with the
// hash found, unless its exp has passed since (then the string is checked
// again, and fails as an expired token would).
func (t *Tokens) checkedOf(sum [32]byte) (checked, bool) {
	t.mu.Lock()
	ch, ok := t.checked[sum]
	t.mu.Unlock()
	if ok && !ch.expires.IsZero() && !t.now().Before(ch.expires) {
		return checked{}, false
	}
	return ch, ok
}

// check checks the signature and claims of the token string, or takes it
// as an imported token, and remembers what it found. An expired token
// imgate signed is refused as ended (a user's) or invalid.
func (t *Tokens) check(raw string, sum [32]byte) (checked, error) {
	var c claims
	var ch checked
	_, err := t.parser.ParseWithClaims(raw, &c, t.key)
	switch {
	case err == nil:
		ch = checked{id: c.ID, app: c.App, role: c.Role, subject: c.Subject}
		if c.ExpiresAt != nil {
			ch.expires = c.ExpiresAt.Time
		}
	case errors.Is(err, jwt.ErrTokenExpired) && c.ID != "":
		// The signature was good (jwt checks it before the claims).
		if c.Role == int(imgate.TokenUser) {
			return checked{}, errEnded
		}
		return checked{}, errInvalid
	case raw != "":
		ch = checked{id: importedIDOf(sum), imported: true}
	default:
		return ch, errInvalid
	}
	t.mu.Lock()
	if len(t.checked) >= t.cfg.CacheSize {
		clear(t.checked) // starting over costs only signature checks
	}
	t.checked[sum] = ch
	t.mu.Unlock()
	return ch, nil
}

func (t *Tokens) valid(e entry) (imgate.Token, error) {
	switch {
	case e.missing:
		return imgate.Token{}, errInvalid
	case (e.tok.Revoked() || e.tok.Expired(t.now())) && e.tok.Kind == imgate.TokenUser:
		return imgate.Token{}, errEnded
	case e.tok.Revoked() || e.tok.Expired(t.now()):
		return imgate.Token{}, errInvalid
	case e.disabled:
		return imgate.Token{}, imgate.Errorf(imgate.CodeForbidden, "user is disabled")
	}
	return e.tok, nil
}

// maxImportedLen bounds an imported token; MaxIM's are about 200 bytes.
const maxImportedLen = 4096

// importedID is the record id of an imported token: a hash, so that the
// store never holds the token itself.
func importedID(raw string) string { return importedIDOf(sha256.Sum256([]byte(raw))) }

// importedIDOf is importedID of the token string with the hash.
func importedIDOf(sum [32]byte) string { return "sha256:" + hex.EncodeToString(sum[:]) }

// Import makes an existing token string, such as an admin token issued by
// MaxIM's console, a valid admin token of the app, so that systems moving
// to imgate keep their credentials.
func (t *Tokens) Import(ctx context.Context, appID, raw string) (imgate.Token, error) {
	if raw == "" || len(raw) > maxImportedLen {
		return imgate.Token{}, imgate.Errorf(imgate.CodeInvalidParameter, "a token to import must have 1 to %d bytes", maxImportedLen)
	}
	if _, err := t.parser.ParseWithClaims(raw, &claims{}, t.key); err == nil {
		return imgate.Token{}, imgate.Errorf(imgate.CodeInvalidParameter, "the token is imgate's own already")
	}
	tok := imgate.Token{ID: importedID(raw), AppID: appID, Kind: imgate.TokenAdmin, CreatedAt: time.UnixMilli(t.now().UnixMilli())}
	if err := t.store.CreateToken(ctx, tok); err != nil {
		return imgate.Token{}, fmt.Errorf("auth: import token of app %s: %w", appID, err)
	}
	t.forget(tok.ID)
	return tok, nil
}

// ID returns the record id of a token string that imgate signed or
// imported, whatever its state; CodeInvalidToken for any other string.
func (t *Tokens) ID(raw string) (string, error) {
	var c claims
	_, err := t.parser.ParseWithClaims(raw, &c, t.key)
	switch {
	case err == nil, errors.Is(err, jwt.ErrTokenExpired):
		return c.ID, nil
	case raw != "" && len(raw) <= maxImportedLen:
		return importedID(raw), nil
	}
	return "", errInvalid
}

func (t *Tokens) key(*jwt.Token) (any, error) { return t.cfg.Secret, nil }

// lookup returns the cached entry of the token id, loading it on a miss;
// the user of a user token it loaded is returned too (nil on a hit).
func (t *Tokens) lookup(ctx context.Context, id string) (entry, *imgate.User, error) {
	now := t.now()
	t.mu.Lock()
	e, ok := t.cache[id]
	t.mu.Unlock()
	if ok && now.Before(e.until) {
		t.count.Hits.Inc()
		return e, nil, nil
	}
	t.count.Misses.Inc()
	tok, err := t.store.Token(ctx, id)
	if imgate.ErrorCode(err) == imgate.CodeInvalidToken {
		// Remembered too, so that a flood of bad tokens stays off the store.
		e = entry{missing: true, until: now.Add(t.cfg.CacheTTL)}
		t.put(id, e)
		return e, nil, nil
	} else if err != nil {
		return entry{}, nil, fmt.Errorf("auth: load token: %w", err)
	}
	e = entry{tok: tok, until: now.Add(t.cfg.CacheTTL)}
	var user *imgate.User
	if tok.Kind == imgate.TokenUser {
		u, err := t.store.User(ctx, tok.AppID, tok.UserID)
		switch {
		case imgate.ErrorCode(err) == imgate.CodeUserNotFound:
			e.missing = true
		case err != nil:
			return entry{}, nil, fmt.Errorf("auth: load user of token: %w", err)
		default:
			user = &u
		}
		e.disabled = u.Status == imgate.UserDisabled
	}
	t.put(id, e)
	return e, user, nil
}

func (t *Tokens) put(id string, e entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.cache) >= t.cfg.CacheSize {
		t.evictLocked(e.until.Add(-t.cfg.CacheTTL))
	}
	t.cache[id] = e
}

// evictLocked drops expired entries and, if that frees too little, an
// arbitrary tenth of the rest (map order is random).
func (t *Tokens) evictLocked(now time.Time) {
	for id, e := range t.cache {
		if !now.Before(e.until) {
			delete(t.cache, id)
		}
	}
	drop := t.cfg.CacheSize / 10
	for id := range t.cache {
		if len(t.cache) < t.cfg.CacheSize-drop {
			return
		}
		delete(t.cache, id)
	}
}

// Revoke revokes one token: CodeInvalidToken if there is none.
func (t *Tokens) Revoke(ctx context.Context, id string) error {
	if err := t.store.RevokeToken(ctx, id, t.now()); err != nil {
		return fmt.Errorf("auth: revoke token: %w", err)
	}
	t.forget(id)
	return nil
}

// RevokeUser revokes every token of the user but keep (which may be "")
// and returns the ids it revoked, for the other nodes (see Forget).
func (t *Tokens) RevokeUser(ctx context.Context, appID string, userID int64, keep string) ([]string, error) {
	ids, err := t.store.RevokeUserTokens(ctx, appID, userID, keep, t.now())
	if err != nil {
		return nil, fmt.Errorf("auth: revoke tokens of user %d: %w", userID, err)
	}
	t.ForgetUser(appID, userID)
	return ids, nil
}

// Forget drops the cached records of the token ids, revoked by another
// node or process, so that their next verification reads the store.
func (t *Tokens) Forget(ids []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		delete(t.cache, id)
	}
}

// maxRevokedRead bounds one RevokedSince read.
const maxRevokedRead = 10_000

// RevokedSince returns the ids of the tokens revoked at or after since
// (by any node or process), earliest first, and forgets their cached
// records; more is true when there may be more than it returned, later
// ones (read again from the last one's time).
func (t *Tokens) RevokedSince(ctx context.Context, since time.Time) (ids []string, more bool, err error) {
	ids, err = t.store.RevokedTokens(ctx, since, maxRevokedRead)
	if err != nil {
		return nil, false, fmt.Errorf("auth: tokens revoked lately: %w", err)
	}
	t.Forget(ids)
	return ids, len(ids) == maxRevokedRead, nil
}

// ForgetUser drops the cached records of the user's tokens, so that the
// next verification sees a change of the user (disabled, deleted).
func (t *Tokens) ForgetUser(appID string, userID int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, e := range t.cache {
		if e.tok.AppID == appID && e.tok.UserID == userID && e.tok.Kind == imgate.TokenUser {
			delete(t.cache, id)
		}
	}
}

func (t *Tokens) forget(id string) {
	t.mu.Lock()
	delete(t.cache, id)
	t.mu.Unlock()
}

// Prune deletes token records that expired more than a day ago.
func (t *Tokens) Prune(ctx context.Context) (int, error) {
	n, err := t.store.PruneTokens(ctx, t.now().Add(-24*time.Hour))
	if err != nil {
		return 0, fmt.Errorf("auth: prune tokens: %w", err)
	}
	return n, nil
}

// Pending is a token string whose signature and claims were checked but
// whose record was not read: see Begin.
type Pending struct {
	// ID, AppID and UserID are the claims: the record to read, and the
	// user it must be of.
	ID     string
	AppID  string
	UserID int64
	ch     checked
}

// Begin starts the verification of a user token for a caller that reads
// the token's user from the store anyway (a WebSocket login), so that
// the token's record can come with that read. When the record is cached,
// or the string is not a user token that imgate signed, it verifies as
// Verify does and returns done; otherwise it returns the pending
// verification, which Settle finishes with the record and the user.
func (t *Tokens) Begin(ctx context.Context, raw string) (p Pending, tok imgate.Token, done bool, err error) {
	if len(raw) <= maxImportedLen {
		sum := sha256.Sum256([]byte(raw))
		ch, ok := t.checkedOf(sum)
		if !ok {
			var err error
			if ch, err = t.check(raw, sum); err != nil {
				return Pending{}, imgate.Token{}, true, err
			}
		}
		if !ch.imported && ch.role == int(imgate.TokenUser) && !t.cached(ch.id) {
			uid, err := strconv.ParseInt(ch.subject, 10, 64)
			if err == nil && uid > 0 {
				t.count.Misses.Inc()
				return Pending{ID: ch.id, AppID: ch.app, UserID: uid, ch: ch}, imgate.Token{}, false, nil
			}
		}
	}
	tok, err = t.Verify(ctx, raw)
	return Pending{}, tok, true, err
}

// Settle finishes a pending verification with the token's record as the
// store has it (a zero ID: none) and the status of its user (found false
// when the user does not exist), and caches the result as Verify would.
func (t *Tokens) Settle(p Pending, rec imgate.Token, status imgate.UserStatus, found bool) (imgate.Token, error) {
	e := entry{tok: rec, until: t.now().Add(t.cfg.CacheTTL)}
	switch {
	case rec.ID != p.ID || !found:
		e = entry{missing: true, until: e.until}
	case rec.AppID != p.ch.app || int(rec.Kind) != p.ch.role || strconv.FormatInt(rec.UserID, 10) != p.ch.subject:
		return imgate.Token{}, errInvalid
	default:
		e.disabled = status == imgate.UserDisabled
	}
	t.put(p.ID, e)
	return t.valid(e)
}

// cached tells whether the token id's record is cached and fresh.
func (t *Tokens) cached(id string) bool {
	now := t.now()
	t.mu.Lock()
	e, ok := t.cache[id]
	t.mu.Unlock()
	return ok && now.Before(e.until)
}
