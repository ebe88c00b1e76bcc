package admin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/imgate/imgate"
)

// access is what a route demands of its caller.
type access int

const (
	// public routes need only a known app_id (registration, login).
	public access = iota
	// asUser routes act as one user: the user token's own, or the user_id
	// header's with an admin token.
	asUser
	// adminOnly routes need an admin token; user_id is optional.
	adminOnly
	// anyToken routes take a user token, or an admin token with or without
	// the user_id and group_id headers: the group paths, where an admin
	// token alone acts as the app's administrator or, with group_id, as
	// that group's admin (see actorIn), and /roster/may_message, where an
	// admin asks about two users without acting as either.
	anyToken
)

// call is who a request acts as, resolved from its headers.
type call struct {
	app     imgate.App
	token   imgate.Token // zero on public routes
	userID  int64        // the acting user; 0 when none
	groupID int64        // the group_id header of an admin token; 0 when none
}

func (c *call) admin() bool { return c.token.Kind == imgate.TokenAdmin }

// authorize resolves the headers app_id, access-token, user_id and
// group_id into a call, enforcing the route's access.
func (s *Server) authorize(r *http.Request, acc access) (*call, error) {
	appID := strings.TrimSpace(r.Header.Get("app_id"))
	if appID == "" {
		return nil, imgate.Errorf(imgate.CodeUnknownApp, "missing app_id header")
	}
	app, err := s.app(r.Context(), appID)
	if err != nil {
		return nil, err
	}
	if app.Status != imgate.AppNormal {
		return nil, imgate.Errorf(imgate.CodeAppAbnormal, "app %s is %s", app.ID, app.Status)
	}
	c := &call{app: app}
	if acc == public {
		return c, nil
	}
	raw := r.Header.Get("access-token")
	if raw == "" || raw == "undefined" {
		return nil, imgate.Errorf(imgate.CodeMissingToken, "missing access-token header")
	}
	if c.token, err = s.tokens.Verify(r.Context(), raw); err != nil {
		return nil, err
	}
	if c.token.AppID != app.ID {
		return nil, imgate.Errorf(imgate.CodeInvalidToken, "access-token is not of app %s", app.ID)
	}
	if err := s.actAs(r, c); err != nil {
		return nil, err
	}
	return c, s.check(r, c, acc)
}

// actAs applies the user_id and group_id headers to the call.
func (s *Server) actAs(r *http.Request, c *call) error {
	uid, err := headerID(r, "user_id")
	if err != nil {
		return err
	}
	gid, err := headerID(r, "group_id")
	if err != nil {
		return err
	}
	if !c.admin() {
		if uid != 0 || gid != 0 {
			return imgate.Errorf(imgate.CodeForbidden, "user_id and group_id headers need an admin token")
		}
		c.userID = c.token.UserID
		return nil
	}
	if uid != 0 {
		if _, err := s.userStatus(r.Context(), c.app.ID, uid); err != nil {
			return err
		}
	}
	c.userID, c.groupID = uid, gid
	return nil
}

func (s *Server) check(_ *http.Request, c *call, acc access) error {
	switch {
	case acc == adminOnly && !c.admin():
		return imgate.Errorf(imgate.CodeForbidden, "this API needs an admin token")
	case acc == asUser && c.userID == 0:
		return badParam("missing user_id header: an admin token must name the user it acts as")
	}
	return nil
}

func headerID(r *http.Request, name string) (int64, error) {
	v := strings.TrimSpace(r.Header.Get(name))
	if v == "" || v == "undefined" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, badParam("header %s must be a positive integer", name)
	}
	return n, nil
}
