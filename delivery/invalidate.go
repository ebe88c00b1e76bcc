package delivery

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// Invalidation names what a roster, group or user change touched, for the
// caches of every node that keep what the store said of them: the send
// check cache, the REST API's user cache.
type Invalidation struct {
	App    string  `json:"app"`
	Users  []int64 `json:"users,omitempty"`
	Groups []int64 `json:"groups,omitempty"`
	// Tokens are the ids of tokens revoked: every node forgets its
	// verification of them and ends the sessions logged in with them.
	Tokens []string `json:"tokens,omitempty"`
	// Notice is the UserNotice type those sessions are sent before they
	// end (imgate.UserPasswordChanged); 0: none.
	Notice int `json:"notice,omitempty"`
	// All says anything may have changed: the bus may have lost
	// invalidations (it resynced), so nothing cached is to be trusted.
	All bool `json:"all,omitempty"`
}

// Invalidator is a bus that carries invalidations to the other nodes.
// The core hands them over with PublishInvalidation after applying them
// locally, and applies what OnInvalidation's function is given.
type Invalidator interface {
	// PublishInvalidation sends inv to every other node. It never blocks
	// on them.
	PublishInvalidation(ctx context.Context, inv Invalidation) error
	// OnInvalidation sets the function called with each invalidation
	// from another node, and with one of All after a resync.
	OnInvalidation(fn func(Invalidation))
}

// OnInvalidation adds a function called with every invalidation, local
// or from another node, after the core's own cache applied it. It must
// not block. Call it before the core is used.
func (c *Core) OnInvalidation(fn func(Invalidation)) {
	c.invalMu.Lock()
	c.invalFns = append(c.invalFns, fn)
	c.invalMu.Unlock()
}

// Invalidate applies inv on this node and publishes it to the others.
// Stores written through Core.Notifying call it after each change.
func (c *Core) Invalidate(ctx context.Context, inv Invalidation) {
	inv.Users = compact(inv.Users)
	inv.Groups = compact(inv.Groups)
	inv.Tokens = compact(inv.Tokens)
	if !inv.All && len(inv.Users) == 0 && len(inv.Groups) == 0 && len(inv.Tokens) == 0 {
		return
	}
	c.apply(inv)
	bus, ok := c.bus.(Invalidator)
	if !ok {
		return
	}
	c.cfg.Metrics.Invalidated(true)
	if err := bus.PublishInvalidation(ctx, inv); err != nil {
		c.log.Warn("invalidation not published; other nodes trust their send checks until their TTL", "app", inv.App, "err", err)
	}
}

// received applies an invalidation from another node (or the bus's
// resync).
func (c *Core) received(inv Invalidation) {
	c.cfg.Metrics.Invalidated(false)
	c.apply(inv)
}

// apply drops what inv names from the check cache and tells the other
// caches.
func (c *Core) apply(inv Invalidation) {
	if inv.All || len(inv.Users) > 0 || len(inv.Groups) > 0 {
		c.checks.drop(inv)
	}
	c.invalMu.RLock()
	fns := c.invalFns
	c.invalMu.RUnlock()
	for _, fn := range fns {
		fn(inv)
	}
}

// invalidationsDelivered reports whether every change this node's caches
// depend on reaches it as an invalidation: changes on this node always
// do, other nodes' through the bus if it carries them.
func invalidationsDelivered(bus Bus) bool {
	switch bus.(type) {
	case *LocalBus, Invalidator:
		return true
	}
	return false
}

func compact[T cmp.Ordered](ids []T) []T {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// wireInvalidation is an Invalidation on the bus, with the node that
// published it.
type wireInvalidation struct {
	Node string `json:"node"`
	Invalidation
}

func encodeInvalidation(node string, inv Invalidation) ([]byte, error) {
	b, err := json.Marshal(wireInvalidation{Node: node, Invalidation: inv})
	if err != nil {
		return nil, fmt.Errorf("delivery: encode invalidation: %w", err)
	}
	return b, nil
}

func decodeInvalidation(data []byte) (Invalidation, string, error) {
	var w wireInvalidation
	if err := json.Unmarshal(data, &w); err != nil {
		return Invalidation{}, "", fmt.Errorf("delivery: decode invalidation: %w", err)
	}
	return w.Invalidation, w.Node, nil
}
