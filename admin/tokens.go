package admin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/auth"
)

// POST /token/user {name, password, device_guid}
func (s *Server) tokenByName(r *http.Request, c *call) (any, error) {
	var req struct {
		Name       string `json:"name"`
		Password   string `json:"password"`
		DeviceGUID string `json:"device_guid"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, badParam("name is required")
	}
	u, err := s.store.UserByName(r.Context(), c.app.ID, req.Name)
	return s.login(r, c, req.Name, u, err, req.Password, req.DeviceGUID)
}

// POST /token/id {user_id, password, device_guid}
func (s *Server) tokenByID(r *http.Request, c *call) (any, error) {
	var req struct {
		UserID     id     `json:"user_id"`
		Password   string `json:"password"`
		DeviceGUID string `json:"device_guid"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.UserID <= 0 {
		return nil, badParam("user_id is required")
	}
	u, err := s.store.User(r.Context(), c.app.ID, int64(req.UserID))
	return s.login(r, c, strconv.FormatInt(int64(req.UserID), 10), u, err, req.Password, req.DeviceGUID)
}

// POST /token/login {login_name, password, device_guid}: the login name
// is a username, mobile number or email.
func (s *Server) tokenByLogin(r *http.Request, c *call) (any, error) {
	var req struct {
		LoginName  string `json:"login_name"`
		Password   string `json:"password"`
		DeviceGUID string `json:"device_guid"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.LoginName == "" {
		return nil, badParam("login_name is required")
	}
	u, err := s.store.UserByLogin(r.Context(), c.app.ID, req.LoginName)
	return s.login(r, c, req.LoginName, u, err, req.Password, req.DeviceGUID)
}

// login checks the password of the user the request named (name) and
// found (u, or lookupErr) and issues a user token; with a device guid it
// also records the device and answers its push token. A user that does
// not exist and a wrong password are one answer, given after as much
// work (auth.Passwords.Check); so are the back-off refusals of both.
func (s *Server) login(r *http.Request, c *call, name string, u imgate.User, lookupErr error, password, guid string) (any, error) {
	if err := checkPassword("password", password); err != nil {
		return nil, err
	}
	if err := checkLen("device_guid", guid, maxNameLen*2); err != nil {
		return nil, err
	}
	if lookupErr != nil && imgate.ErrorCode(lookupErr) != imgate.CodeUserNotFound {
		return nil, lookupErr
	}
	a := auth.Attempt{App: c.app.ID, Name: name, Source: auth.SourceOf(r), Password: password}
	if lookupErr == nil {
		a.UserID, a.Hash = u.ID, u.PasswordHash
	}
	if err := s.tokens.Passwords().Check(r.Context(), a); err != nil {
		return nil, err
	}
	if u.Status == imgate.UserDisabled {
		return nil, imgate.Errorf(imgate.CodeForbidden, "user is disabled")
	}
	raw, tok, err := s.tokens.IssueUser(r.Context(), u.AppID, u.ID, guid)
	if err != nil {
		return nil, err
	}
	out := tokenDTO{Token: raw, UserID: u.ID, Expire: tok.ExpiresAt.UnixMilli()}
	if guid != "" {
		d, err := s.store.RegisterDevice(r.Context(), imgate.Device{
			AppID: u.AppID, UserID: u.ID, GUID: guid, PushToken: randomToken(), LastLoginAt: time.Now(),
		})
		if err != nil {
			return nil, fmt.Errorf("admin: register device of user %d: %w", u.ID, err)
		}
		out.PushToken = d.PushToken
	}
	return out, nil
}

func (s *Server) hash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.PasswordCost)
	if err != nil {
		return "", fmt.Errorf("admin: hash password: %w", err)
	}
	return string(h), nil
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
