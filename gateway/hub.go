package gateway

import (
	"context"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imgate/imgate/delivery"
)

// hubShards spreads users over independently locked shards, so that
// logins and lookups of different users do not contend.
const hubShards = 64

// userKey names a user across apps.
type userKey struct {
	app  string
	user int64
}

type shard struct {
	mu    sync.RWMutex
	users map[userKey][]*session
	// groups holds, by group, the sessions of its members, so that a group
	// message reaches them without a member lookup. Group ids and user ids
	// come from one sequence, so userKey names groups too.
	groups map[userKey]map[*session]struct{}
}

// Hub is the registry of this node's logged-in sessions, by user. It
// answers the REST API's questions about live connections (it implements
// admin.Sessions), and routes the bus's events to sessions (it implements
// delivery.Router).
type Hub struct {
	shards [hubShards]shard
	orders orders // Stored events held until the ones before them come
	// window holds the recent messages of the conversations the hub
	// delivers; set by the gateway (New), nil: none.
	window atomic.Pointer[window]

	// Set by Attach before serving, read-only after.
	bus      delivery.Bus
	presence Presence // nil on a single node: the hub is the presence
	node     string
}

// Presence is who is online on which node, across nodes
// (delivery.RedisPresence).
type Presence interface {
	Login(ctx context.Context, app string, user int64, e delivery.PresenceEntry, max int) (replaced []delivery.PresenceEntry, ok bool, err error)
	Refresh(ctx context.Context, refs []delivery.PresenceRef) error
	Logout(ctx context.Context, app string, user int64, e delivery.PresenceEntry) error
	Online(ctx context.Context, app string, user int64) (bool, error)
	TTL() time.Duration
}

// Attach connects the hub to the bus its sessions' topics are subscribed
// on and kicks are published on, and, on several nodes, to the shared
// presence and this node's name. Call it before serving.
func (h *Hub) Attach(bus delivery.Bus, presence Presence, node string) {
	h.bus, h.presence, h.node = bus, presence, node
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	h := &Hub{}
	for i := range h.shards {
		h.shards[i].users = make(map[userKey][]*session)
		h.shards[i].groups = make(map[userKey]map[*session]struct{})
	}
	return h
}

func (h *Hub) shard(k userKey) *shard {
	f := fnv.New32a()
	f.Write([]byte(k.app))
	f.Write([]byte(strconv.FormatInt(k.user, 10)))
	return &h.shards[f.Sum32()%hubShards]
}

// login adds s unless the user has max other devices online. A session of
// the same device (same serial number or same guid) is replaced: it is
// returned in replaced for the caller to close. The check and the add
// happen under one lock, so concurrent logins cannot pass the limit.
func (h *Hub) login(s *session, max int) (replaced []*session, ok bool) {
	k := userKey{s.app, s.user}
	sh := h.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var kept []*session
	for _, o := range sh.users[k] {
		if o.sn == s.sn || (s.guid != "" && o.guid == s.guid) {
			replaced = append(replaced, o)
			continue
		}
		kept = append(kept, o)
	}
	if len(kept) >= max {
		return nil, false
	}
	if len(sh.users[k]) == 0 && h.bus != nil {
		h.bus.Subscribe(delivery.Topic{App: s.app, ID: s.user})
	}
	sh.users[k] = append(kept, s)
	return replaced, true
}

// logout removes s, if it is still registered.
func (h *Hub) logout(s *session) {
	k := userKey{s.app, s.user}
	sh := h.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.users[k]
	for i, o := range list {
		if o == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		if _, was := sh.users[k]; was && h.bus != nil {
			h.bus.Unsubscribe(delivery.Topic{App: s.app, ID: s.user})
		}
		delete(sh.users, k)
		return
	}
	sh.users[k] = list
}

// sessions returns a copy of the user's sessions.
func (h *Hub) sessions(app string, user int64) []*session {
	k := userKey{app, user}
	sh := h.shard(k)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return append([]*session(nil), sh.users[k]...)
}

// online tells whether the user has a session on this node.
func (h *Hub) online(app string, user int64) bool {
	k := userKey{app, user}
	sh := h.shard(k)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return len(sh.users[k]) > 0
}

// subscribe routes the group's messages to s.
func (h *Hub) subscribe(s *session, group int64) {
	k := userKey{s.app, group}
	sh := h.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	set := sh.groups[k]
	if set == nil {
		set = make(map[*session]struct{})
		sh.groups[k] = set
		if h.bus != nil {
			h.bus.Subscribe(delivery.Topic{App: s.app, Group: true, ID: group})
		}
	}
	set[s] = struct{}{}
}

// unsubscribe stops routing the group's messages to s.
func (h *Hub) unsubscribe(s *session, group int64) {
	k := userKey{s.app, group}
	sh := h.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	set, ok := sh.groups[k]
	if !ok {
		return
	}
	delete(set, s)
	if len(set) == 0 {
		delete(sh.groups, k)
		if h.bus != nil {
			h.bus.Unsubscribe(delivery.Topic{App: s.app, Group: true, ID: group})
		}
	}
}

// groupSessions returns the sessions subscribed to a group.
func (h *Hub) groupSessions(app string, group int64) []*session {
	k := userKey{app, group}
	sh := h.shard(k)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	out := make([]*session, 0, len(sh.groups[k]))
	for s := range sh.groups[k] {
		out = append(out, s)
	}
	return out
}

// all returns a copy of every session.
func (h *Hub) all() []*session {
	var out []*session
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for _, list := range sh.users {
			out = append(out, list...)
		}
		sh.mu.RUnlock()
	}
	return out
}

// Online reports whether any device of the user is logged in, on any
// node.
func (h *Hub) Online(ctx context.Context, appID string, userID int64) (bool, error) {
	if len(h.sessions(appID, userID)) > 0 {
		return true, nil
	}
	if h.presence == nil {
		return false, nil
	}
	return h.presence.Online(ctx, appID, userID)
}

// Kick sends the user's sessions of device sn (all when sn is 0), on
// every node, a UserNotice of the type and closes them.
func (h *Hub) Kick(ctx context.Context, appID string, userID int64, sn uint32, notice int) error {
	k := &delivery.Kick{User: userID, SN: sn, Notice: notice}
	h.publishKick(ctx, appID, k)
	return nil
}

// KickOthers is Kick of all the user's devices but the sessions logged
// in with the token id keep.
func (h *Hub) KickOthers(ctx context.Context, appID string, userID int64, keep string, notice int) error {
	h.publishKick(ctx, appID, &delivery.Kick{User: userID, KeepToken: keep, Notice: notice})
	return nil
}

// publishKick ends the sessions k names, wherever they are.
func (h *Hub) publishKick(ctx context.Context, appID string, k *delivery.Kick) {
	if h.bus == nil {
		h.kick(appID, k)
		return
	}
	_ = h.bus.Publish(ctx, &delivery.Event{Kind: delivery.Kicks, App: appID, Users: []int64{k.User}, Kick: k})
}

// forget removes a session from the shared presence.
func (h *Hub) forget(ctx context.Context, s *session) {
	if h.presence == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := h.presence.Logout(ctx, s.app, s.user, s.entry()); err != nil {
		s.srv.log.Debug("presence logout failed; the entry expires", "err", err)
	}
}

// Run keeps this node's sessions alive in the shared presence until ctx
// ends: it refreshes their entries three times per TTL, so that they
// outlive refreshes by a margin and a dead node's expire.
func (h *Hub) Run(ctx context.Context, logger *slog.Logger) error {
	if h.presence == nil {
		return nil
	}
	t := time.NewTicker(h.presence.TTL() / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		var refs []delivery.PresenceRef
		live := h.all()
		for _, s := range live {
			refs = append(refs, delivery.PresenceRef{App: s.app, User: s.user, Entry: s.entry()})
		}
		rctx, cancel := context.WithTimeout(ctx, h.presence.TTL()/3)
		if err := h.presence.Refresh(rctx, refs); err != nil && ctx.Err() == nil {
			logger.Warn("presence refresh failed", "err", err)
		}
		cancel()
		// A session that ended since the list was taken may have removed
		// its entry before the refresh added it again: remove it after.
		// (A session stops before it logs out, so one that removes its
		// entry after this check was not stopped at the check.)
		for _, s := range live {
			if s.ctx.Err() != nil {
				h.forget(ctx, s)
			}
		}
	}
}

// kick ends this node's sessions that k names.
func (h *Hub) kick(appID string, k *delivery.Kick) {
	for _, s := range h.sessions(appID, k.User) {
		if (k.Session == "" || s.id == k.Session) && (k.SN == 0 || s.sn == k.SN) && (k.KeepToken == "" || s.tokenID != k.KeepToken) {
			s.kick(k.Notice)
		}
	}
}
