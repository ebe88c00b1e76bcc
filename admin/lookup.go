package admin

import (
	"context"

	"github.com/imgate/imgate"
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
// status change or deletion through this node forgets the user at once
// (usersForgetting), one made on another node is seen within the TTL.
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

// usersForgetting is the store the handlers write through: once a change
// of users' status or a deletion returns, the user cache forgets them, so
// that the next request of this node reads them again.
type usersForgetting struct {
	imgate.Store
	users *ttlCache[userKey, imgate.UserStatus]
}

// SetUserStatus sets the users' status and forgets them.
func (s usersForgetting) SetUserStatus(ctx context.Context, appID string, ids []int64, status imgate.UserStatus) error {
	err := s.Store.SetUserStatus(ctx, appID, ids, status)
	for _, id := range ids {
		s.users.forget(userKey{appID, id})
	}
	return err
}

// DeleteUser deletes the user and forgets it.
func (s usersForgetting) DeleteUser(ctx context.Context, appID string, id int64) error {
	err := s.Store.DeleteUser(ctx, appID, id)
	s.users.forget(userKey{appID, id})
	return err
}
