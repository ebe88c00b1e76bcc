package gateway

import (
	"context"
	"strconv"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/gateway/xsync"
)

// checkPassword checks the password of a password login against the
// user's hash ("" when there is no such user) through the shared
// password checker, which bounds the bcrypt work and limits guessing:
// a wrong password and an unknown user are one refusal, and back-off or
// a full pool is RATE_LIMIT_EXCEEDED.
func (s *session) checkPassword(ctx context.Context, id identity, hash string) error {
	a := auth.Attempt{App: id.app, Name: strconv.FormatInt(id.user, 10), Hash: hash, Source: auth.Source(ctx), Password: id.password}
	if hash != "" {
		a.UserID = id.user
	}
	err := s.srv.tokens.Passwords().Check(ctx, a)
	switch imgate.ErrorCode(err) {
	case imgate.CodeOK:
		return nil
	case imgate.CodeForbidden:
		return refused(xsync.Status_UNAUTHORIZED, "wrong user or password")
	case imgate.CodeTooManyAttempts, imgate.CodeBusy:
		return refused(xsync.Status_RATE_LIMIT_EXCEEDED, imgate.ErrorMessage(err))
	}
	return err
}
