package admin

import (
	"net/http"
	"slices"
	"strings"

	"github.com/imgate/imgate"
)

// boolSetter serves the settings paths that take ?value=true|false.
func (s *Server) boolSetter(apply func(*imgate.UserSettings, bool)) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		v, err := query{r}.bool("value")
		if err != nil {
			return nil, err
		}
		return s.update(r.Context(), c, func(u *imgate.User) error { apply(&u.Settings, v); return nil })
	}
}

// stringSetter serves the paths that take one string query parameter;
// check, when not nil, validates it first.
func (s *Server) stringSetter(param string, limit int, check func(string) error, apply func(*imgate.User, string)) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		v, err := query{r}.str(param, true)
		if err != nil {
			return nil, err
		}
		if err := checkLen(param, v, limit); err != nil {
			return nil, err
		}
		if check != nil {
			if err := check(v); err != nil {
				return nil, err
			}
		}
		return s.update(r.Context(), c, func(u *imgate.User) error { apply(u, v); return nil })
	}
}

func checkMobile(m string) error {
	digits := strings.TrimPrefix(m, "+")
	for _, r := range digits {
		if r < '0' || r > '9' {
			return badParam("mobile may contain only digits and a leading +")
		}
	}
	if len(digits) < minMobileDigits || len(digits) > maxMobileDigits {
		return badParam("mobile must have %d to %d digits", minMobileDigits, maxMobileDigits)
	}
	return nil
}

// POST|PUT /user/authmode?value=0..3
func (s *Server) setAuthMode(r *http.Request, c *call) (any, error) {
	v, err := query{r}.intIn("value", imgate.AuthAny, imgate.AuthRefuse)
	if err != nil {
		return nil, err
	}
	return s.update(r.Context(), c, func(u *imgate.User) error { u.Settings.AuthMode = v; return nil })
}

// POST|PUT /user/push/limit?no_push_start_hour=&no_push_end_hour=
func (s *Server) setPushLimit(r *http.Request, c *call) (any, error) {
	start, err := query{r}.intIn("no_push_start_hour", 0, 23)
	if err != nil {
		return nil, err
	}
	end, err := query{r}.intIn("no_push_end_hour", 0, 23)
	if err != nil {
		return nil, err
	}
	return s.update(r.Context(), c, func(u *imgate.User) error {
		u.Settings.NoPushStartHour, u.Settings.NoPushEndHour = start, end
		return nil
	})
}

// POST /user/push/alias {alias, push_token}
func (s *Server) setPushAlias(r *http.Request, c *call) (any, error) {
	var req struct {
		Alias     string `json:"alias"`
		PushToken string `json:"push_token"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.Alias == "" {
		return nil, badParam("alias is required")
	}
	if err := checkLen("alias", req.Alias, maxNameLen); err != nil {
		return nil, err
	}
	return s.update(r.Context(), c, func(u *imgate.User) error { u.Push.Alias = req.Alias; return nil })
}

// POST /user/push/badge {badge}
func (s *Server) setPushBadge(r *http.Request, c *call) (any, error) {
	var req struct {
		Badge *int `json:"badge"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.Badge == nil || *req.Badge < 0 {
		return nil, badParam("badge must be a number from 0")
	}
	return s.update(r.Context(), c, func(u *imgate.User) error { u.Push.Badge = *req.Badge; return nil })
}

// GET /user/push/tag
func (s *Server) getPushTags(r *http.Request, c *call) (any, error) {
	u, err := s.store.User(r.Context(), c.app.ID, c.userID)
	if err != nil {
		return nil, err
	}
	return nonNil(u.Push.Tags), nil
}

// POST /user/push/tag {tags} adds tags; DELETE removes them.
func (s *Server) editPushTags(add bool) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		var req struct {
			Tags []string `json:"tags"`
		}
		if err := s.decode(r, &req); err != nil {
			return nil, err
		}
		if err := s.checkList("tags", len(req.Tags)); err != nil {
			return nil, err
		}
		for _, t := range req.Tags {
			if t == "" || len([]rune(t)) > maxNameLen {
				return nil, badParam("a tag must have 1 to %d characters", maxNameLen)
			}
		}
		return s.update(r.Context(), c, func(u *imgate.User) error {
			if !add {
				u.Push.Tags = slices.DeleteFunc(u.Push.Tags, func(t string) bool { return slices.Contains(req.Tags, t) })
				return nil
			}
			for _, t := range req.Tags {
				if !slices.Contains(u.Push.Tags, t) {
					u.Push.Tags = append(u.Push.Tags, t)
				}
			}
			if len(u.Push.Tags) > maxTags {
				return badParam("a user may have at most %d tags", maxTags)
			}
			return nil
		})
	}
}

// DELETE /user/push/tag/all
func (s *Server) clearPushTags(r *http.Request, c *call) (any, error) {
	return s.update(r.Context(), c, func(u *imgate.User) error { u.Push.Tags = nil; return nil })
}

// POST|PUT /user/conversation/pin and /unpin {conversation_id}
func (s *Server) pin(pin bool) handlerFunc {
	return func(r *http.Request, c *call) (any, error) {
		var req struct {
			ConversationID id `json:"conversation_id"`
		}
		if err := s.decode(r, &req); err != nil {
			return nil, err
		}
		cid := int64(req.ConversationID)
		if cid <= 0 {
			return nil, badParam("conversation_id is required")
		}
		return s.update(r.Context(), c, func(u *imgate.User) error {
			u.Pinned = slices.DeleteFunc(u.Pinned, func(p int64) bool { return p == cid })
			if !pin {
				return nil
			}
			if len(u.Pinned) >= maxPinned {
				return badParam("a user may pin at most %d conversations", maxPinned)
			}
			u.Pinned = append(u.Pinned, cid)
			return nil
		})
	}
}

// GET /user/conversation/pin_list
func (s *Server) pinList(r *http.Request, c *call) (any, error) {
	u, err := s.store.User(r.Context(), c.app.ID, c.userID)
	if err != nil {
		return nil, err
	}
	return struct {
		ConversationIDs []int64 `json:"conversation_ids"`
	}{nonNil(u.Pinned)}, nil
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
