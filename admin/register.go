package admin

import (
	"context"
	"net/http"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/imgate/imgate"
)

type registration struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (reg registration) check() error {
	if err := imgate.ValidUsername(reg.Username); err != nil {
		return err
	}
	return checkPassword("password", reg.Password)
}

// POST /user/register/v2 {username, password}
func (s *Server) register(r *http.Request, c *call) (any, error) {
	var req registration
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	u, err := s.createUser(r.Context(), c.app.ID, req, nil)
	if err != nil {
		return nil, err
	}
	return registeredOf(u), nil
}

// POST /user/register/push {username, password, alias, device_guid,
// push_token}: a registration that also binds a push alias and device.
// imgate does not check "sign": registration is open to anyone who knows
// the app id, as with /user/register/v2.
func (s *Server) registerPush(r *http.Request, c *call) (any, error) {
	var req struct {
		registration
		Alias      string `json:"alias"`
		DeviceGUID string `json:"device_guid"`
		PushToken  string `json:"push_token"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := firstErr(checkLen("alias", req.Alias, maxNameLen), checkLen("device_guid", req.DeviceGUID, maxNameLen*2),
		checkLen("push_token", req.PushToken, maxURLLen)); err != nil {
		return nil, err
	}
	u, err := s.createUser(r.Context(), c.app.ID, req.registration, func(u *imgate.User) { u.Push.Alias = req.Alias })
	if err != nil {
		return nil, err
	}
	if req.DeviceGUID != "" {
		d := imgate.Device{AppID: u.AppID, UserID: u.ID, GUID: req.DeviceGUID, PushToken: req.PushToken, LastLoginAt: time.Now()}
		if d.PushToken == "" {
			d.PushToken = randomToken()
		}
		if _, err := s.store.RegisterDevice(r.Context(), d); err != nil {
			return nil, err
		}
	}
	return registeredOf(u), nil
}

// POST /user/register/batch {list:[{username, password}]}, admin only.
// Each entry succeeds or fails on its own. Hashing runs on every core, as
// it dominates the cost of a batch.
func (s *Server) registerBatch(r *http.Request, c *call) (any, error) {
	var req struct {
		List []registration `json:"list"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.checkList("list", len(req.List)); err != nil {
		return nil, err
	}
	out := make([]batchResult, len(req.List))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, reg := range req.List {
		g.Go(func() error {
			u, err := s.createUser(r.Context(), c.app.ID, reg, nil)
			out[i] = batchOf(u.ID, err)
			out[i].Username = reg.Username
			if imgate.ErrorCode(err) == imgate.CodeStore {
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// createUser validates, hashes and stores a new user; edit, when not nil,
// adjusts the record before it is stored.
func (s *Server) createUser(ctx context.Context, appID string, reg registration, edit func(*imgate.User)) (imgate.User, error) {
	if err := reg.check(); err != nil {
		return imgate.User{}, err
	}
	h, err := s.hash(reg.Password)
	if err != nil {
		return imgate.User{}, err
	}
	now := time.UnixMilli(time.Now().UnixMilli())
	u := imgate.User{AppID: appID, Username: reg.Username, PasswordHash: h, CreatedAt: now, UpdatedAt: now}
	if edit != nil {
		edit(&u)
	}
	return s.store.CreateUser(ctx, u)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
