package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/imgate/imgate"
)

// update applies fn to the acting user and answers true.
func (s *Server) update(ctx context.Context, c *call, fn func(*imgate.User) error) (any, error) {
	return s.updateUser(ctx, c.app.ID, c.userID, fn)
}

func (s *Server) updateUser(ctx context.Context, appID string, userID int64, fn func(*imgate.User) error) (any, error) {
	_, err := s.store.UpdateUser(ctx, appID, userID, func(u *imgate.User) error {
		if err := fn(u); err != nil {
			return err
		}
		u.UpdatedAt = time.UnixMilli(time.Now().UnixMilli())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return true, nil
}

// GET /user/settings
func (s *Server) getSettings(r *http.Request, c *call) (any, error) {
	u, err := s.store.User(r.Context(), c.app.ID, c.userID)
	if err != nil {
		return nil, err
	}
	return settingsOf(u), nil
}

// settingsPatch is the body of POST /user/settings: fields left out stay.
type settingsPatch struct {
	UserID           id      `json:"user_id"`
	AuthMode         *int    `json:"auth_mode"`
	AuthQuestion     *string `json:"auth_question"`
	AuthAnswer       *string `json:"auth_answer"`
	AutoDownload     *bool   `json:"auto_download"`
	GroupConfirm     *bool   `json:"group_confirm"`
	NoPush           *bool   `json:"no_push"`
	NoPushDetail     *bool   `json:"no_push_detail"`
	NoPushStartHour  *int    `json:"no_push_start_hour"`
	NoPushEndHour    *int    `json:"no_push_end_hour"`
	NoSounds         *bool   `json:"no_sounds"`
	Vibratory        *bool   `json:"vibratory"`
	PushNickName     *string `json:"push_nick_name"`
	SilenceStartTime *int    `json:"silence_start_time"`
	SilenceEndTime   *int    `json:"silence_end_time"`
}

func (p settingsPatch) check() error {
	for _, h := range []struct {
		name string
		v    *int
		hi   int
	}{
		{"auth_mode", p.AuthMode, imgate.AuthRefuse}, {"no_push_start_hour", p.NoPushStartHour, 23},
		{"no_push_end_hour", p.NoPushEndHour, 23}, {"silence_start_time", p.SilenceStartTime, 23},
		{"silence_end_time", p.SilenceEndTime, 23},
	} {
		if h.v != nil && (*h.v < 0 || *h.v > h.hi) {
			return badParam("%s must be from 0 to %d", h.name, h.hi)
		}
	}
	return firstErr(checkLen("auth_question", deref(p.AuthQuestion), maxTextLen),
		checkLen("auth_answer", deref(p.AuthAnswer), maxTextLen), checkLen("push_nick_name", deref(p.PushNickName), maxNameLen))
}

func (p settingsPatch) apply(st *imgate.UserSettings) {
	set(&st.AuthMode, p.AuthMode)
	set(&st.AuthQuestion, p.AuthQuestion)
	set(&st.AuthAnswer, p.AuthAnswer)
	set(&st.AutoDownload, p.AutoDownload)
	set(&st.GroupConfirm, p.GroupConfirm)
	set(&st.NoPush, p.NoPush)
	set(&st.NoPushDetail, p.NoPushDetail)
	set(&st.NoPushStartHour, p.NoPushStartHour)
	set(&st.NoPushEndHour, p.NoPushEndHour)
	set(&st.NoSounds, p.NoSounds)
	set(&st.Vibratory, p.Vibratory)
	set(&st.PushNickName, p.PushNickName)
	set(&st.SilenceStartTime, p.SilenceStartTime)
	set(&st.SilenceEndTime, p.SilenceEndTime)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// POST|PUT /user/settings: the body's user_id, which the Swagger
// requires, must be the acting user.
func (s *Server) setSettings(r *http.Request, c *call) (any, error) {
	var p settingsPatch
	if err := s.decode(r, &p); err != nil {
		return nil, err
	}
	if p.UserID != 0 && int64(p.UserID) != c.userID {
		return nil, imgate.Errorf(imgate.CodeForbidden, "user_id %d is not the acting user", p.UserID)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return s.update(r.Context(), c, func(u *imgate.User) error { p.apply(&u.Settings); return nil })
}

// GET /user/profile
func (s *Server) getProfile(r *http.Request, c *call) (any, error) {
	u, err := s.store.User(r.Context(), c.app.ID, c.userID)
	if err != nil {
		return nil, err
	}
	return profileOf(u), nil
}

// profilePatch is UserProfileRequest: fields left out stay.
type profilePatch struct {
	Description *string `json:"description"`
	NickName    *string `json:"nick_name"`
	PrivateInfo *string `json:"private_info"`
	PublicInfo  *string `json:"public_info"`
}

func (p profilePatch) check() error {
	return firstErr(checkLen("description", deref(p.Description), maxTextLen), checkLen("nick_name", deref(p.NickName), maxNameLen),
		checkBytes("private_info", deref(p.PrivateInfo), maxInfoBytes), checkBytes("public_info", deref(p.PublicInfo), maxInfoBytes))
}

func (p profilePatch) apply(u *imgate.User) error {
	set(&u.Description, p.Description)
	set(&u.NickName, p.NickName)
	set(&u.PrivateInfo, p.PrivateInfo)
	set(&u.PublicInfo, p.PublicInfo)
	return nil
}

// POST|PUT /user/profile
func (s *Server) setProfile(r *http.Request, c *call) (any, error) {
	var p profilePatch
	if err := s.decode(r, &p); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return s.update(r.Context(), c, p.apply)
}

// POST|PUT /user/profile/batch {list:[{user_id, …profile}]}, admin only.
func (s *Server) setProfiles(r *http.Request, c *call) (any, error) {
	var req struct {
		List []struct {
			UserID id `json:"user_id"`
			profilePatch
		} `json:"list"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.checkList("list", len(req.List)); err != nil {
		return nil, err
	}
	return eachUser(len(req.List), func(i int) (int64, error) {
		e := req.List[i]
		if err := e.check(); err != nil {
			return int64(e.UserID), err
		}
		_, err := s.updateUser(r.Context(), c.app.ID, int64(e.UserID), e.apply)
		return int64(e.UserID), err
	})
}

// eachUser runs one entry of a batch after another and collects their
// outcomes. A store failure fails the whole batch; other errors fail only
// their entry.
func eachUser(n int, fn func(i int) (userID int64, err error)) ([]batchResult, error) {
	out := make([]batchResult, n)
	for i := range n {
		uid, err := fn(i)
		if imgate.ErrorCode(err) == imgate.CodeStore {
			return nil, err
		}
		out[i] = batchOf(uid, err)
	}
	return out, nil
}

// POST|PUT /user/avatar {avatar}
func (s *Server) setAvatar(r *http.Request, c *call) (any, error) {
	var req struct {
		Avatar *string `json:"avatar"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.Avatar == nil {
		return nil, badParam("avatar is required")
	}
	if err := checkLen("avatar", *req.Avatar, maxURLLen); err != nil {
		return nil, err
	}
	if err := s.checkAvatar(r.Context(), c.app.ID, 'u', c.userID, *req.Avatar); err != nil {
		return nil, err
	}
	return s.update(r.Context(), c, func(u *imgate.User) error { u.Avatar = *req.Avatar; return nil })
}

// POST|PUT /user/avatar/batch {list:[{user_id, avatar}]}, admin only.
func (s *Server) setAvatars(r *http.Request, c *call) (any, error) {
	var req struct {
		List []struct {
			UserID id     `json:"user_id"`
			Avatar string `json:"avatar"`
		} `json:"list"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.checkList("list", len(req.List)); err != nil {
		return nil, err
	}
	return eachUser(len(req.List), func(i int) (int64, error) {
		e := req.List[i]
		if err := checkLen("avatar", e.Avatar, maxURLLen); err != nil {
			return int64(e.UserID), err
		}
		_, err := s.updateUser(r.Context(), c.app.ID, int64(e.UserID), func(u *imgate.User) error { u.Avatar = e.Avatar; return nil })
		return int64(e.UserID), err
	})
}

// POST|PUT /user/public and /user/private: the body is the bare text.
func (s *Server) setInfo(private bool) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		text, err := s.decodeText(r, maxInfoBytes)
		if err != nil {
			return nil, err
		}
		return s.update(r.Context(), c, func(u *imgate.User) error {
			if private {
				u.PrivateInfo = text
			} else {
				u.PublicInfo = text
			}
			return nil
		})
	}
}
