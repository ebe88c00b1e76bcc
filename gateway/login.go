package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/metrics"
)

// loginError is a refused PROVISION: the status the client gets.
type loginError struct {
	code   xsync.Status_ErrorCode
	reason string
}

func (e *loginError) Error() string { return fmt.Sprintf("login refused: %s: %s", e.code, e.reason) }

func refused(code xsync.Status_ErrorCode, reason string) *loginError {
	return &loginError{code: code, reason: reason}
}

// login reads the first frame, which must be a PROVISION, and logs the
// device in: it answers the assigned deviceSN, or a refusal and closes.
// appID is the app_id query parameter, needed only by password logins.
// received is called once the first frame is in: the login timeout
// bounds the wait for a PROVISION, not the server's work on it, so that
// a login wave the store answers slowly is served late rather than
// refused (and retried, adding to the wave); that work is bounded by
// loginWork.
func (s *session) login(ctx context.Context, appID string, received func()) bool {
	cmd, msg, reason, err := s.read(ctx)
	received()
	if err != nil {
		s.refuse(cmd, reason, err)
		return false
	}
	// The store and Redis work of the login ends with the session: a
	// login wave that outlasts its clients must not leave their queries
	// queued for the store's connections behind the live ones.
	// The client's address comes along, for the password limits.
	ctx, cancel := context.WithTimeout(auth.WithSource(s.ctx, auth.Source(ctx)), loginWork)
	defer cancel()
	ctx = metrics.WithStoreOp(ctx, metrics.OpLogin)
	release, err := s.srv.admit(ctx)
	if err != nil {
		s.deny(err)
		return false
	}
	// Held through setup (run releases it), which fetches the notices
	// the device missed: the rest of a login's store work.
	s.release = release
	p, isProvision := msg.(*xsync.Provision)
	if !isProvision {
		s.deny(refused(xsync.Status_UNAUTHORIZED, "you must login first"))
		return false
	}
	if err := s.authenticate(ctx, p, appID); err != nil {
		s.deny(err)
		return false
	}
	s.since = s.srv.now()
	s.srv.cfg.Metrics.LoggedIn()
	s.send(xsync.Frame_PROVISION, &xsync.Provision{Status: ok(), Xid: &xsync.XID{Uid: uint64(s.user), DeviceSN: s.sn}})
	return true
}

// loginWork bounds the server's work on one PROVISION (store and Redis
// calls); past it the login fails and the client retries.
const loginWork = 30 * time.Second

// recentLogin is how recent a device's recorded login may be for a new
// login of the same device, unchanged, to skip rewriting it: the device
// list shows last logins to within this, and a reconnect storm does not
// write a row per device.
const recentLogin = 5 * time.Minute

// deny answers a refused login and ends the session.
func (s *session) deny(err error) {
	le, isLogin := err.(*loginError)
	if !isLogin {
		s.srv.log.Error("login failed", "err", err)
		le = refused(xsync.Status_FAIL, "server error")
	}
	s.send(xsync.Frame_PROVISION, &xsync.Provision{Status: &xsync.Status{Code: le.code, Reason: le.reason}})
	s.stop(closeLoginFailed)
}

// identity is who a PROVISION says it is, its token checked.
type identity struct {
	app, tokenID string
	tokenExpires time.Time
	user         int64
	password     string // of a password login: checked against the user read
	// pending is the token of a token login whose record the node has
	// not cached: read and checked with the user (readState).
	pending *auth.Pending
}

// authenticate checks the credentials of a PROVISION, records the
// device, registers the session in the hub and routes the user's groups
// to it, and reads the state setup starts from. A device whose session
// on this node ended lately starts from what the node remembers of it
// and reads the store once; any other, twice (the device and groups
// first, then, once they are routed, the state to start from).
func (s *session) authenticate(ctx context.Context, p *xsync.Provision, appID string) error {
	id, err := s.credentials(ctx, p, appID)
	if err != nil {
		return err
	}
	sn := p.GetXid().GetDeviceSN()
	// Not for password logins, nor tokens not verified yet: the hub
	// would replace the device's session before the credentials are
	// checked.
	if sn != 0 && id.password == "" && id.pending == nil {
		rc, ok := s.srv.reconnects.take(id.app, id.user, sn, s.srv.now())
		if ok {
			if err := s.enter(ctx, p, id, rc.device, rc.groups, true); !errors.Is(err, errStale) {
				s.srv.reconnects.lookups.Hits.Inc()
				return err
			}
		}
		// None remembered, or the store disagreed: read twice.
		s.srv.reconnects.lookups.Misses.Inc()
	}
	st, err := s.readState(ctx, id, sn, false)
	if err != nil {
		return err
	}
	if id.pending != nil {
		id.tokenExpires = st.Token.ExpiresAt // the record readState checked
	}
	id.password, id.pending = "", nil // checked
	return s.enter(ctx, p, id, st.Device, st.Groups, false)
}

// errStale is a reconnect whose remembered device the store no longer
// has as it was: the login starts again from the store.
var errStale = errors.New("gateway: remembered device is stale")

// enter records the device (known is the store's record of it, or of none
// with SN 0), registers the session in the hub, routes groups to it and
// reads the state setup starts from. With remembered, known and groups
// are what the node remembers; errStale if the store disagrees.
func (s *session) enter(ctx context.Context, p *xsync.Provision, id identity, known imgate.Device, groups []int64, remembered bool) (refusedErr error) {
	loginAt := s.srv.now()
	d, err := s.registerDevice(ctx, imgate.Device{
		AppID: id.app, UserID: id.user, SN: p.GetXid().GetDeviceSN(), GUID: p.DeviceGuid,
		Platform: imgate.Platform(p.OsType), UserAgent: userAgent(p), LastLoginAt: loginAt,
	}, known)
	if imgate.ErrorCode(err) == imgate.CodeInvalidParameter {
		return refused(xsync.Status_INVALID_PARAMETER, imgate.ErrorMessage(err))
	} else if err != nil {
		return fmt.Errorf("gateway: register device of user %d: %w", id.user, err)
	}
	s.app, s.user, s.sn, s.guid, s.tokenID, s.tokenExpires = id.app, id.user, d.SN, d.GUID, id.tokenID, id.tokenExpires
	s.device = d
	s.noticeSent, s.noticeSaved = d.NoticeSeq, d.NoticeSeq
	if d.CreatedAt.UnixMilli() == loginAt.UnixMilli() {
		// A device this login created is forgotten if the login is
		// refused: the device list shows devices that logged in.
		defer func() {
			if refusedErr != nil {
				if err := s.srv.store.DeleteDevice(context.WithoutCancel(ctx), id.app, id.user, d.SN); err != nil {
					s.srv.log.Warn("forget refused device", "user", id.user, "err", err)
				}
			}
		}()
	}
	if err := s.register(ctx); err != nil {
		return err
	}
	// Before the answer, so that what is sent to the user's groups once
	// the device is logged in reaches it; before the read of the state,
	// so that what is sent after that read reaches the session.
	s.routeGroups(groups)
	s.awaitSubscriptions(ctx, groups)
	st, err := s.readState(ctx, id, d.SN, true)
	if err == nil && remembered && !sameDevice(st.Device, d) {
		err = errStale
	}
	if err != nil {
		s.unregister(ctx)
		return err
	}
	s.state = &st
	return nil
}

// sameDevice tells whether the store's record of a device is the one a
// login went by, but for the notice cursor (setup takes the store's).
func sameDevice(stored, found imgate.Device) bool {
	times := stored.CreatedAt.Equal(found.CreatedAt) && stored.LastLoginAt.Equal(found.LastLoginAt)
	stored.CreatedAt, stored.LastLoginAt, stored.NoticeSeq = found.CreatedAt, found.LastLoginAt, found.NoticeSeq
	return times && stored == found
}

// register registers the session in the hub and, on several nodes, in
// the shared presence, replacing the device's other sessions, unless the
// user has too many devices online.
func (s *session) register(ctx context.Context) error {
	tooMany := refused(xsync.Status_TOO_MANY_DEVICES, fmt.Sprintf("at most %d devices may be logged in at once", s.srv.cfg.MaxDevices))
	hub := s.srv.hub
	if hub.presence != nil {
		// Across nodes: the device limit, and the same device logged in
		// elsewhere, which is kicked where it is. Without Redis the node
		// falls back to its own sessions.
		elsewhere, admitted, err := hub.presence.Login(ctx, s.app, s.user, s.entry(), s.srv.cfg.MaxDevices)
		switch {
		case err != nil:
			s.srv.log.Warn("presence unavailable; checking this node's devices only", "err", err)
		case !admitted:
			return tooMany
		default:
			for _, e := range elsewhere {
				if e.Node != hub.node {
					hub.publishKick(ctx, s.app, &delivery.Kick{User: s.user, Session: e.Session, Notice: imgate.UserKickBySameDevice})
				}
			}
		}
	}
	replaced, admitted := hub.login(s, s.srv.cfg.MaxDevices)
	if !admitted {
		hub.forget(ctx, s)
		return tooMany
	}
	for _, o := range replaced {
		o.kick(imgate.UserKickBySameDevice)
	}
	return nil
}

// unregister undoes register and routeGroups, for a login refused after
// them and at logout; it returns the groups the session was routed.
func (s *session) unregister(ctx context.Context) []int64 {
	s.srv.hub.logout(s)
	s.srv.hub.forget(ctx, s)
	s.mu.Lock()
	groups := s.groups
	s.groups = map[int64]bool{}
	s.mu.Unlock()
	ids := make([]int64, 0, len(groups))
	for g := range groups {
		s.srv.hub.unsubscribe(s, g)
		ids = append(ids, g)
	}
	return ids
}

// registerDevice records a login of the device, known being the store's
// record of it (SN 0: none). A device that logged in within recentLogin
// and comes back unchanged (same serial number, guid, platform and user
// agent), as in a reconnect, is not written. One the store has no record
// of is created in one statement, unless its GUID names a device after
// all (or a concurrent login of the user took the SN): then, and for a
// known device, the store's registration transaction runs.
func (s *session) registerDevice(ctx context.Context, d, known imgate.Device) (imgate.Device, error) {
	if d.SN != 0 && known.SN == d.SN && (d.GUID == "" || d.GUID == known.GUID) && d.Platform == known.Platform &&
		d.UserAgent == known.UserAgent && d.LastLoginAt.Sub(known.LastLoginAt) < recentLogin {
		return known, nil
	}
	if known.SN == 0 {
		created, ok, err := s.srv.store.CreateDevice(ctx, d)
		if ok {
			return created, nil
		}
		if err != nil && ctx.Err() == nil {
			s.srv.log.Debug("device not created in one statement; registering it", "user", d.UserID, "err", err)
		}
	}
	return s.srv.store.RegisterDevice(ctx, d)
}

// credentials checks a token, or else takes a password with xid.uid
// (checked by readState), and returns who the PROVISION is of.
func (s *session) credentials(ctx context.Context, p *xsync.Provision, appID string) (identity, error) {
	uid := int64(p.GetXid().GetUid())
	if p.Token != "" {
		// The token's user, which a login needs as the store has it now,
		// comes with the login's state (readState), and so does the
		// token's record when the node has not cached it.
		pending, tok, done, err := s.srv.tokens.Begin(ctx, p.Token)
		if !done {
			if uid != 0 && uid != pending.UserID {
				return identity{}, refused(xsync.Status_UNAUTHORIZED, "not a token of this user")
			}
			return identity{app: pending.AppID, user: pending.UserID, tokenID: pending.ID, pending: &pending}, nil
		}
		switch {
		case err != nil:
			return identity{}, tokenRefusal(err)
		case tok.Kind != imgate.TokenUser || (uid != 0 && uid != tok.UserID):
			return identity{}, refused(xsync.Status_UNAUTHORIZED, "not a token of this user")
		}
		return identity{app: tok.AppID, user: tok.UserID, tokenID: tok.ID, tokenExpires: tok.ExpiresAt}, nil
	}
	if p.Password == "" || uid == 0 || appID == "" {
		return identity{}, refused(xsync.Status_UNAUTHORIZED, "you must login first: a token, or app_id in the URL with xid.uid and a password")
	}
	return identity{app: appID, user: uid, password: p.Password}, nil
}

// tokenRefusal is the refusal of a login whose token failed
// verification with err.
func tokenRefusal(err error) error {
	if imgate.ErrorCode(err) == imgate.CodeForbidden {
		return refused(xsync.Status_USER_FROZEN, "user is disabled")
	}
	return refused(xsync.Status_INVALID_TOKEN, "invalid token")
}

// readState reads the login's state of the user and device sn (with
// the conversations, or not), refusing a user who may not log in (and a
// wrong password).
func (s *session) readState(ctx context.Context, id identity, sn uint32, convs bool) (imgate.LoginState, error) {
	q := imgate.LoginQuery{App: id.app, User: id.user, SN: sn, Convs: convs}
	if id.pending != nil {
		q.Token = id.pending.ID
	}
	st, err := s.srv.store.LoginState(ctx, q)
	switch imgate.ErrorCode(err) {
	case imgate.CodeOK:
	case imgate.CodeUserNotFound:
		if id.pending != nil {
			// A valid signature over a user that is gone.
			_, err = s.srv.tokens.Settle(*id.pending, st.Token, st.Status, false)
			return st, tokenRefusal(err)
		}
		if id.password != "" {
			// Refused as a wrong password is, after as much work.
			return st, s.checkPassword(ctx, id, "")
		}
		return st, refused(xsync.Status_UNAUTHORIZED, "wrong user or password")
	default:
		return st, fmt.Errorf("gateway: read login state of user %d: %w", id.user, err)
	}
	if id.pending != nil {
		if _, err := s.srv.tokens.Settle(*id.pending, st.Token, st.Status, true); err != nil {
			return st, tokenRefusal(err)
		}
	}
	if id.password != "" {
		// Before the status, which only the user's password may learn.
		if err := s.checkPassword(ctx, id, st.PasswordHash); err != nil {
			return st, err
		}
	}
	if st.AppStatus != imgate.AppNormal {
		return st, refused(xsync.Status_APP_FROZEN, "app is "+st.AppStatus.String())
	}
	if st.Status == imgate.UserDisabled {
		return st, refused(xsync.Status_USER_FROZEN, "user is disabled")
	}
	return st, nil
}

func userAgent(p *xsync.Provision) string {
	ua := p.DeviceInfo
	if p.SdkVsn != "" {
		ua += " sdk/" + p.SdkVsn
	}
	return ua
}

// routeGroups routes groups to the session: the user's, as the login
// found them. setup corrects them from the state read after this.
func (s *session) routeGroups(groups []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range groups {
		s.groups[g] = true
		s.srv.hub.subscribe(s, g)
	}
}

// setup readies a logged-in session for delivery from the state the
// login read: it routes the user's groups as they were then, loads how
// far the device is in each conversation (the user's read position),
// replays the pushes that arrived meanwhile against that, and sends the
// notices the device missed.
func (s *session) setup(ctx context.Context) {
	st := s.state
	s.state = nil
	s.mu.Lock()
	joined := s.reconcileGroupsLocked(st.Groups)
	for _, c := range st.Convs {
		if s.cursors[c.Conv] != nil {
			continue
		}
		switch {
		case c.ReadSeq >= c.LastSeq:
			s.cursors[c.Conv] = &cursor{seq: c.LastSeq, id: c.LastID, base: c.LastSeq}
		case c.ReadSeq == 0 || c.ReadID != 0:
			s.cursors[c.Conv] = &cursor{seq: c.ReadSeq, id: c.ReadID, base: c.ReadSeq}
		default:
			s.cursors[c.Conv] = &cursor{seq: c.ReadSeq, base: c.ReadSeq, byRead: true}
		}
	}
	for conv, c := range s.cursors {
		// What the session heard of before it settled, it replays below.
		c.owed = max(c.owed, min(s.heard[conv], c.base))
	}
	for g := range s.groups {
		// A group without messages yet: all of it will be pushed.
		if conv := (imgate.Conv{Kind: imgate.ConvGroup, Peer: g}); s.cursors[conv] == nil {
			s.cursors[conv] = &cursor{}
		}
	}
	s.primeWindowLocked(st.Convs)
	s.primed, s.settled = true, true
	pending := s.pending
	s.pending = nil
	slices.SortStableFunc(pending, func(a, b *delivery.Event) int { return cmp.Compare(a.FirstSeq, b.FirstSeq) })
	for _, e := range pending {
		s.replayLocked(e)
	}
	for _, g := range joined {
		// Routed only after the state was read: what was sent to it in
		// between, the device pulls.
		s.noticeLocked(imgate.Conv{Kind: imgate.ConvGroup, Peer: g}, metrics.NoticeJoined)
	}
	if st.Device.NoticeSeq > s.noticeSaved {
		// Saved by another session of the device since it was read.
		s.noticeSaved, s.noticeSent = st.Device.NoticeSeq, max(s.noticeSent, st.Device.NoticeSeq)
	}
	if len(pending) == 0 && len(joined) == 0 {
		s.loginUnreads = unreadsOf(st.Convs)
	}
	fetch := st.LastNotice > s.noticeSent || s.noticeWanted
	s.groupsReady, s.noticeWanted = true, false
	s.mu.Unlock()
	if fetch {
		s.fetchNoticesFor(metrics.OpLogin)
	}
}

// reconcileGroupsLocked routes the session the groups of the user's
// state and no others, and returns those it had not been routed. s.mu
// is held.
func (s *session) reconcileGroupsLocked(groups []int64) (joined []int64) {
	member := make(map[int64]bool, len(groups))
	for _, g := range groups {
		member[g] = true
		if !s.groups[g] {
			s.groups[g] = true
			s.srv.hub.subscribe(s, g)
			joined = append(joined, g)
		}
	}
	for g := range s.groups {
		if !member[g] {
			delete(s.groups, g)
			delete(s.cursors, imgate.Conv{Kind: imgate.ConvGroup, Peer: g})
			s.srv.hub.unsubscribe(s, g)
		}
	}
	return joined
}

// logout unregisters the session, stores its notice cursor and leaves
// the node a note of the device and its groups for its reconnect.
func (s *session) logout(ctx context.Context) {
	ids := s.unregister(ctx)
	s.saveNoticeCursor(ctx)
	s.mu.Lock()
	primed := s.primed
	s.mu.Unlock()
	if primed {
		d := s.device
		s.mu.Lock()
		d.NoticeSeq = s.noticeSaved
		s.mu.Unlock()
		s.srv.reconnects.put(d, ids, s.srv.now())
	}
}
