package gateway

import (
	"context"
	"hash/fnv"
	"strconv"
	"sync"
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
// admin.Sessions).
type Hub struct {
	shards [hubShards]shard
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
	}
	set[s] = struct{}{}
}

// unsubscribe stops routing the group's messages to s.
func (h *Hub) unsubscribe(s *session, group int64) {
	k := userKey{s.app, group}
	sh := h.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.groups[k], s)
	if len(sh.groups[k]) == 0 {
		delete(sh.groups, k)
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

// Online reports whether any device of the user is logged in here.
func (h *Hub) Online(_ context.Context, appID string, userID int64) (bool, error) {
	return len(h.sessions(appID, userID)) > 0, nil
}

// Kick sends the user's sessions of device sn (all when sn is 0) a
// UserNotice of the type and closes them.
func (h *Hub) Kick(_ context.Context, appID string, userID int64, sn uint32, notice int) error {
	for _, s := range h.sessions(appID, userID) {
		if sn == 0 || s.sn == sn {
			s.kick(notice)
		}
	}
	return nil
}

// closeAll closes every session with the reason.
func (h *Hub) closeAll(r closeReason) {
	for _, s := range h.all() {
		s.stop(r)
	}
}
