package gateway

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway/xsync"
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
	ctx, cancel := context.WithTimeout(s.ctx, loginWork)
	defer cancel()
	release, err := s.srv.admit(ctx)
	if err != nil {
		s.deny(err)
		return false
	}
	// Held through setup (run releases it), which loads the cursors and
	// notices: the rest of a login's store work.
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
	// Before the answer, so that what is sent to the user's groups once
	// the device is logged in reaches it.
	s.routeGroups(ctx)
	s.since = s.srv.now()
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

// authenticate checks the credentials of a PROVISION, records the device
// and registers the session in the hub.
func (s *session) authenticate(ctx context.Context, p *xsync.Provision, appID string) (refusedErr error) {
	u, tokenID, err := s.credentials(ctx, p, appID)
	if err != nil {
		return err
	}
	loginAt := s.srv.now()
	d, err := s.registerDevice(ctx, imgate.Device{
		AppID: u.AppID, UserID: u.ID, SN: p.GetXid().GetDeviceSN(), GUID: p.DeviceGuid,
		Platform: imgate.Platform(p.OsType), UserAgent: userAgent(p), LastLoginAt: loginAt,
	})
	if imgate.ErrorCode(err) == imgate.CodeInvalidParameter {
		return refused(xsync.Status_INVALID_PARAMETER, imgate.ErrorMessage(err))
	} else if err != nil {
		return fmt.Errorf("gateway: register device of user %d: %w", u.ID, err)
	}
	s.app, s.user, s.sn, s.guid, s.tokenID = u.AppID, u.ID, d.SN, d.GUID, tokenID
	s.noticeSent, s.noticeSaved = d.NoticeSeq, d.NoticeSeq
	tooMany := refused(xsync.Status_TOO_MANY_DEVICES, fmt.Sprintf("at most %d devices may be logged in at once", s.srv.cfg.MaxDevices))
	if d.CreatedAt.UnixMilli() == loginAt.UnixMilli() {
		// A device this login created is forgotten if the login is
		// refused: the device list shows devices that logged in.
		defer func() {
			if refusedErr != nil {
				if err := s.srv.store.DeleteDevice(context.WithoutCancel(ctx), u.AppID, u.ID, d.SN); err != nil {
					s.srv.log.Warn("forget refused device", "user", u.ID, "err", err)
				}
			}
		}()
	}
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

// registerDevice records a login of the device. A device that logged in
// within recentLogin and comes back unchanged (same serial number, guid,
// platform and user agent), as in a reconnect, is read, not written.
func (s *session) registerDevice(ctx context.Context, d imgate.Device) (imgate.Device, error) {
	if d.SN != 0 {
		cur, err := s.srv.store.Device(ctx, d.AppID, d.UserID, d.SN)
		if err == nil && (d.GUID == "" || d.GUID == cur.GUID) && d.Platform == cur.Platform &&
			d.UserAgent == cur.UserAgent && d.LastLoginAt.Sub(cur.LastLoginAt) < recentLogin {
			return cur, nil
		}
	}
	return s.srv.store.RegisterDevice(ctx, d)
}

// credentials checks a token, or else a password with xid.uid, and
// returns the user and the token's id ("" for a password login).
func (s *session) credentials(ctx context.Context, p *xsync.Provision, appID string) (imgate.User, string, error) {
	uid := int64(p.GetXid().GetUid())
	if p.Token != "" {
		tok, u, fresh, err := s.srv.tokens.VerifyUser(ctx, p.Token)
		switch {
		case imgate.ErrorCode(err) == imgate.CodeForbidden:
			return imgate.User{}, "", refused(xsync.Status_USER_FROZEN, "user is disabled")
		case err != nil:
			return imgate.User{}, "", refused(xsync.Status_INVALID_TOKEN, "invalid token")
		case tok.Kind != imgate.TokenUser || (uid != 0 && uid != tok.UserID):
			return imgate.User{}, "", refused(xsync.Status_UNAUTHORIZED, "not a token of this user")
		}
		if fresh {
			// Verifying read the user just now, and refuses a disabled
			// or deleted one, as loadUser does.
			return u, tok.ID, nil
		}
		u, err = s.loadUser(ctx, tok.AppID, tok.UserID)
		return u, tok.ID, err
	}
	if p.Password == "" || uid == 0 || appID == "" {
		return imgate.User{}, "", refused(xsync.Status_UNAUTHORIZED, "you must login first: a token, or app_id in the URL with xid.uid and a password")
	}
	u, err := s.loadUser(ctx, appID, uid)
	if err != nil {
		return u, "", err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(p.Password)) != nil {
		return imgate.User{}, "", refused(xsync.Status_UNAUTHORIZED, "wrong user or password")
	}
	return u, "", nil
}

// loadUser loads a user who may log in.
func (s *session) loadUser(ctx context.Context, appID string, id int64) (imgate.User, error) {
	u, err := s.srv.store.User(ctx, appID, id)
	switch imgate.ErrorCode(err) {
	case imgate.CodeOK:
	case imgate.CodeUserNotFound:
		return u, refused(xsync.Status_UNAUTHORIZED, "wrong user or password")
	default:
		return u, fmt.Errorf("gateway: load user %d: %w", id, err)
	}
	if u.Status == imgate.UserDisabled {
		return u, refused(xsync.Status_USER_FROZEN, "user is disabled")
	}
	return u, nil
}

func userAgent(p *xsync.Provision) string {
	ua := p.DeviceInfo
	if p.SdkVsn != "" {
		ua += " sdk/" + p.SdkVsn
	}
	return ua
}

// routeGroups routes the user's groups to the session. Notice fetches
// wait for it, so that a notice of a change after the groups were read
// (a kick) is applied after them, not overridden by them.
func (s *session) routeGroups(ctx context.Context) {
	groups, err := s.srv.store.UserGroups(ctx, s.app, s.user)
	if err != nil && ctx.Err() == nil {
		s.srv.log.Error("load groups", "user", s.user, "err", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range groups {
		s.groups[g] = true
		s.srv.hub.subscribe(s, g)
	}
	s.groupsReady = true
}

// setup readies a logged-in session for delivery: it loads how far the
// device is in each conversation (the user's read position), replays
// the pushes that arrived meanwhile against that, and sends the notices
// the device missed.
func (s *session) setup(ctx context.Context) {
	st := s.srv.store
	convs, err := st.Conversations(ctx, s.app, s.user)
	s.mu.Lock()
	if err != nil {
		if ctx.Err() == nil {
			s.srv.log.Error("load conversations", "user", s.user, "err", err)
		}
	} else {
		for _, c := range convs {
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
		for g := range s.groups {
			// A group without messages yet: all of it will be pushed.
			if conv := (imgate.Conv{Kind: imgate.ConvGroup, Peer: g}); s.cursors[conv] == nil {
				s.cursors[conv] = &cursor{}
			}
		}
		s.primed = true
	}
	s.settled = true
	pending := s.pending
	s.pending = nil
	slices.SortStableFunc(pending, func(a, b *delivery.Event) int { return cmp.Compare(a.FirstSeq, b.FirstSeq) })
	for _, e := range pending {
		s.replayLocked(e)
	}
	s.mu.Unlock()
	s.fetchNotices()
}

// logout unregisters the session and stores its notice cursor.
func (s *session) logout(ctx context.Context) {
	s.srv.hub.logout(s)
	s.srv.hub.forget(ctx, s)
	s.mu.Lock()
	groups := s.groups
	s.groups = map[int64]bool{}
	s.mu.Unlock()
	for g := range groups {
		s.srv.hub.unsubscribe(s, g)
	}
	s.saveNoticeCursor(ctx)
}
