package delivery

import (
	"context"
	"slices"

	"github.com/imgate/imgate"
)

// Notifying wraps a store so that, once a roster or group change that
// wrote notices commits, the notices' recipients are told on the bus to
// fetch them; and so that every roster, group or user change invalidates
// what the caches of every node hold of the users and groups it touched
// (see Invalidate). The REST API writes through it.
func (c *Core) Notifying(st imgate.Store) imgate.Store { return &notifyingStore{Store: st, core: c} }

type notifyingStore struct {
	imgate.Store
	core *Core
}

// recipients collects the users notified in one transaction.
type recipients struct {
	app   string
	users []int64
}

func (r *recipients) add(ns []imgate.Notice) {
	for _, n := range ns {
		r.app = n.AppID
		r.users = append(r.users, n.UserID)
	}
}

// announce invalidates what the change touched, then publishes the
// collected recipients after a commit.
func (s *notifyingStore) announce(ctx context.Context, r *recipients, inv Invalidation, err error) {
	s.invalidate(ctx, inv, err)
	if err != nil || len(r.users) == 0 {
		return
	}
	slices.Sort(r.users)
	users := slices.Compact(r.users)
	s.core.publish(ctx, &Event{Kind: Notices, App: r.app, Users: users})
}

// invalidate invalidates what a change touched unless it was refused: a
// refusal (an imgate.Error) commits nothing, while another error may
// come after a commit whose answer was lost.
func (s *notifyingStore) invalidate(ctx context.Context, inv Invalidation, err error) {
	if err != nil && imgate.ErrorCode(err) != imgate.CodeStore {
		return
	}
	s.core.Invalidate(ctx, inv)
}

func (s *notifyingStore) Roster(ctx context.Context, appID string, a, b int64, fn func(imgate.RosterTx) error) error {
	r := &recipients{app: appID}
	err := s.Store.Roster(ctx, appID, a, b, func(tx imgate.RosterTx) error {
		r.users = r.users[:0] // a retried transaction starts over
		return fn(rosterTx{tx, r})
	})
	s.announce(ctx, r, Invalidation{App: appID, Users: []int64{a, b}}, err)
	return err
}

func (s *notifyingStore) CreateGroup(ctx context.Context, g imgate.Group, fn func(imgate.GroupTx) error) (imgate.Group, error) {
	r := &recipients{app: g.AppID}
	out, err := s.Store.CreateGroup(ctx, g, func(tx imgate.GroupTx) error {
		r.users = r.users[:0]
		return fn(groupTx{tx, r})
	})
	// A new group has no passes to drop: refusals are not cached.
	s.announce(ctx, r, Invalidation{}, err)
	return out, err
}

func (s *notifyingStore) UpdateGroup(ctx context.Context, appID string, groupID int64, fn func(imgate.GroupTx) error) error {
	r := &recipients{app: appID}
	err := s.Store.UpdateGroup(ctx, appID, groupID, func(tx imgate.GroupTx) error {
		r.users = r.users[:0]
		return fn(groupTx{tx, r})
	})
	s.announce(ctx, r, Invalidation{App: appID, Groups: []int64{groupID}}, err)
	return err
}

// SetUserStatus changes users' status; sends to them are checked again.
func (s *notifyingStore) SetUserStatus(ctx context.Context, appID string, ids []int64, status imgate.UserStatus) error {
	err := s.Store.SetUserStatus(ctx, appID, ids, status)
	s.invalidate(ctx, Invalidation{App: appID, Users: ids}, err)
	return err
}

// DeleteUser deletes a user; sends to it are checked again.
func (s *notifyingStore) DeleteUser(ctx context.Context, appID string, id int64) error {
	err := s.Store.DeleteUser(ctx, appID, id)
	s.invalidate(ctx, Invalidation{App: appID, Users: []int64{id}}, err)
	return err
}

type rosterTx struct {
	imgate.RosterTx
	r *recipients
}

func (t rosterTx) Notify(ns ...imgate.Notice) error {
	if err := t.RosterTx.Notify(ns...); err != nil {
		return err
	}
	t.r.add(ns)
	return nil
}

type groupTx struct {
	imgate.GroupTx
	r *recipients
}

func (t groupTx) Notify(ns ...imgate.Notice) error {
	if err := t.GroupTx.Notify(ns...); err != nil {
		return err
	}
	t.r.add(ns)
	return nil
}
