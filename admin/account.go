package admin

import (
	"bytes"
	"context"
	"net/http"

	"golang.org/x/crypto/bcrypt"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
)

// POST /user/change_password {old_password, new_password}: the user's
// other tokens are revoked and their sessions closed with
// PASSWORD_CHANGED; the one making the call, if a user token, stays
// valid, and so do the sessions logged in with it (the device that
// changed the password).
func (s *Server) changePassword(r *http.Request, c *call) (any, error) {
	var req struct {
		OldPassword string `json:"old_password"`
		NewPassword string `json:"new_password"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := firstErr(checkPassword("old_password", req.OldPassword), checkPassword("new_password", req.NewPassword)); err != nil {
		return nil, err
	}
	h, err := s.hash(req.NewPassword)
	if err != nil {
		return nil, err
	}
	_, err = s.update(r.Context(), c, func(u *imgate.User) error {
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(req.OldPassword)) != nil {
			return imgate.Errorf(imgate.CodeForbidden, "wrong old_password")
		}
		u.PasswordHash = h
		return nil
	})
	if err != nil {
		return nil, err
	}
	keep := ""
	if !c.admin() {
		keep = c.token.ID
	}
	return true, s.signOut(r.Context(), c.app.ID, c.userID, keep, imgate.UserPasswordChanged)
}

// POST /user/change_password_admin {password}: an admin sets the password
// of the user_id header's user; every token of the user is revoked.
func (s *Server) changePasswordAdmin(r *http.Request, c *call) (any, error) {
	if c.userID == 0 {
		return nil, badParam("missing user_id header")
	}
	var req struct {
		Password string `json:"password"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := checkPassword("password", req.Password); err != nil {
		return nil, err
	}
	h, err := s.hash(req.Password)
	if err != nil {
		return nil, err
	}
	if _, err := s.update(r.Context(), c, func(u *imgate.User) error { u.PasswordHash = h; return nil }); err != nil {
		return nil, err
	}
	return true, s.signOut(r.Context(), c.app.ID, c.userID, "", imgate.UserPasswordChanged)
}

// signOut revokes the user's tokens but keep and closes the sessions of
// the others, telling them why with a UserNotice of the type.
func (s *Server) signOut(ctx context.Context, appID string, userID int64, keep string, notice int) error {
	ids, err := s.tokens.RevokeUser(ctx, appID, userID, keep)
	if err != nil {
		return err
	}
	// Every node forgets the tokens at once, rather than when its cache
	// of them expires (and ends sessions logged in with them).
	s.core.Invalidate(ctx, delivery.Invalidation{App: appID, Tokens: ids, Notice: notice})
	if keep != "" {
		return s.sessions.KickOthers(ctx, appID, userID, keep, notice)
	}
	return s.sessions.Kick(ctx, appID, userID, 0, notice)
}

// POST|DELETE /user/delete {password}: a user deletes itself with its
// password; an admin deletes the user_id header's user without one.
func (s *Server) deleteUser(r *http.Request, c *call) (any, error) {
	var req struct {
		Password string `json:"password"`
	}
	b, err := s.readBody(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) > 0 { // the body is optional for admins
		if err := decodeBytes(b, &req); err != nil {
			return nil, err
		}
	}
	if !c.admin() {
		u, err := s.store.User(r.Context(), c.app.ID, c.userID)
		if err != nil {
			return nil, err
		}
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(req.Password)) != nil {
			return nil, imgate.Errorf(imgate.CodeForbidden, "wrong password")
		}
	}
	if err := s.handOffGroups(r.Context(), c.app.ID, c.userID); err != nil {
		return nil, err
	}
	if err := s.store.DeleteUser(r.Context(), c.app.ID, c.userID); err != nil {
		return nil, err
	}
	s.tokens.ForgetUser(c.app.ID, c.userID)
	return true, s.sessions.Kick(r.Context(), c.app.ID, c.userID, 0, imgate.UserRemoved)
}

// PUT /user/disable and /user/enable {list:[user_id]}, admin only. A
// disabled user's tokens stop working and its sessions close; enabling
// makes the same tokens work again.
func (s *Server) setStatus(status imgate.UserStatus) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		users, err := s.decodeIDs(r, "list")
		if err != nil {
			return nil, err
		}
		if err := s.store.SetUserStatus(r.Context(), c.app.ID, users, status); err != nil {
			return nil, err
		}
		for _, u := range users {
			s.tokens.ForgetUser(c.app.ID, u)
			if status == imgate.UserDisabled {
				if err := s.sessions.Kick(r.Context(), c.app.ID, u, 0, imgate.UserFrozen); err != nil {
					return nil, err
				}
			}
		}
		return true, nil
	}
}

// maxUserOffset is the largest offset /user/list asks the store for; a
// later page is empty without asking (no app has 2^31 users).
const maxUserOffset = 1<<31 - 1

// GET /user/list?page_num=1&page_size=50, admin only; page_size ≤ 200.
func (s *Server) listUsers(r *http.Request, c *call) (any, error) {
	q := query{r}
	num, err := q.int64("page_num", false, 1)
	if err != nil {
		return nil, err
	}
	size, err := q.int64("page_size", false, 50)
	if err != nil {
		return nil, err
	}
	if num < 1 || size < 1 || size > 200 {
		return nil, badParam("page_num must be at least 1 and page_size from 1 to 200")
	}
	if num-1 > maxUserOffset/size {
		// Past any app's users; (num-1)*size would overflow.
		return []userBasic{}, nil
	}
	users, err := s.store.Users(r.Context(), c.app.ID, int((num-1)*size), int(size))
	if err != nil {
		return nil, err
	}
	out := make([]userBasic, len(users))
	for i, u := range users {
		out[i] = userBasic{UserID: u.ID, Username: u.Username, Status: int(u.Status)}
	}
	return out, nil
}
