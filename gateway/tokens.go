package gateway

import (
	"context"
	"time"

	"github.com/imgate/imgate/delivery"
)

// A session lives as long as the token it logged in with. Three paths end
// the sessions of a token that ends:
//   - A revocation on a node (a password change) is an invalidation
//     (delivery.Invalidation.Tokens): applied on that node at once and on
//     the others as soon as the bus carries it (tokenInvalidated).
//   - WatchTokens asks the store every interval which tokens were revoked
//     lately, for revocations no bus carried (`imgate token revoke` run as
//     its own process, a node's lost message), and ends the sessions whose
//     token expired.
//   - A new login with the token is refused (auth).
//
// So a revoked or expired token's sessions end within the interval
// (--token-check-interval) on every node, and at once on the nodes the bus
// reaches.

// tokenInvalidated ends this node's sessions logged in with the tokens
// an invalidation names; auth forgets them. It does not block.
func (s *Server) tokenInvalidated(inv delivery.Invalidation) {
	if len(inv.Tokens) == 0 {
		return
	}
	s.tokens.Forget(inv.Tokens)
	s.endTokens(inv.Tokens, time.Time{}, inv.Notice)
}

// revokedSlack is how far back each check of the store reads before the
// last one began: a revocation's time is taken on the node (or process)
// that made it, before its commit, and clocks differ.
const revokedSlack = 5 * time.Second

// WatchTokens ends, every interval until ctx ends, the sessions whose
// token was revoked (by any node or process) or expired. An interval of
// 0 or less watches nothing.
func (s *Server) WatchTokens(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return nil
	}
	t := time.NewTicker(every)
	defer t.Stop()
	since := s.now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		began := s.now()
		ids, more, err := s.tokens.RevokedSince(ctx, since.Add(-revokedSlack))
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("token revocations not read; sessions of revoked tokens stay until the next check", "err", err)
			}
			ids = nil
		} else if !more {
			since = began
		} else {
			// A flood of revocations: read on from where this read ended.
			since = s.now().Add(-every)
			s.log.Warn("more token revocations than one check reads; reading on at the next", "read", len(ids))
		}
		s.endTokens(ids, began, 0)
	}
}

// endTokens stops the sessions logged in with one of the token ids, and,
// when now is not zero, those whose token expired by then. The former are
// kicked with the notice if it is not 0 (a password change), closed as
// ended tokens (4006) otherwise.
func (s *Server) endTokens(ids []string, now time.Time, notice int) {
	ended := make(map[string]bool, len(ids))
	for _, id := range ids {
		ended[id] = true
	}
	for _, ss := range s.hub.all() {
		expired := !now.IsZero() && !ss.tokenExpires.IsZero() && !now.Before(ss.tokenExpires)
		switch {
		case ss.tokenID == "":
		case ended[ss.tokenID] && notice != 0:
			ss.kick(notice) // as the kick that comes with it would
		case ended[ss.tokenID]:
			ss.stop(closeTokenEnded)
		case expired:
			ss.stop(closeTokenEnded)
		}
	}
}
