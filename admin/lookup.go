package admin

import (
	"context"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
)

// Bounds of the lookup caches, in entries. Entries are small and of fixed
// size (an app's id, name and limits; a user's key and status), so the
// bounds hold their memory to a few megabytes.
const (
	maxCachedApps  = 10_000
	maxCachedUsers = 100_000
)

// userKey names a user in the user cache.
type userKey struct {
	app string
	id  int64
}

// app returns the app with the id. Apps change only by creation (the
// command line), so the cache keeps only apps found: an app created by
// another process is seen at once, and the TTL bounds what a hand edit of
// the store would leave stale.
func (s *Server) app(ctx context.Context, id string) (imgate.App, error) {
	app, gen, ok := s.apps.get(id)
	if ok {
		return app, nil
	}
	app, err := s.store.App(ctx, id)
	if err != nil {
		return app, err
	}
	s.apps.put(id, app, gen)
	return app, nil
}

// userStatus returns the status of the user, CodeUserNotFound if the app
// has none, for the requests that act as a user (the user_id header,
// from_user_id) and need no more of it. Only users found are kept; a
// status change or deletion forgets the user as soon as its invalidation
// reaches this node (forgetUsers); the TTL bounds one whose invalidation
// was lost.
func (s *Server) userStatus(ctx context.Context, app string, id int64) (imgate.UserStatus, error) {
	k := userKey{app, id}
	st, gen, ok := s.users.get(k)
	if ok {
		return st, nil
	}
	u, err := s.store.User(ctx, app, id)
	if err != nil {
		return st, err
	}
	s.users.put(k, u.Status, gen)
	return u.Status, nil
}

// forgetUsers drops the users an invalidation names from the user cache,
// or every user if it names all: a status change or deletion, on this
// node or another, is seen by the next request (see
// delivery.Core.Invalidate).
func (s *Server) forgetUsers(inv delivery.Invalidation) {
	if inv.All {
		s.users.forgetAll()
		return
	}
	for _, id := range inv.Users {
		s.users.forget(userKey{inv.App, id})
	}
}
