package delivery

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Device sessions in presence: who is online where.
type PresenceEntry struct {
	Session string // the session's id, unique across nodes
	SN      uint32 // the device's serial number
	GUID    string // the device's guid, "" when the client sent none
	Node    string // the node holding the session
}

func (e PresenceEntry) member() string {
	return e.Session + "|" + strconv.FormatUint(uint64(e.SN), 10) + "|" + e.Node + "|" + e.GUID
}

func parseEntry(m string) (PresenceEntry, bool) {
	parts := strings.SplitN(m, "|", 4)
	if len(parts) != 4 {
		return PresenceEntry{}, false
	}
	sn, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return PresenceEntry{}, false
	}
	return PresenceEntry{Session: parts[0], SN: uint32(sn), Node: parts[2], GUID: parts[3]}, true
}

// PresenceRef is one session's entry with its user.
type PresenceRef struct {
	App   string
	User  int64
	Entry PresenceEntry
}

// RedisPresence keeps which devices are online on which node in Redis,
// one sorted set per user whose scores are expiry times: a node that dies
// leaves nothing behind once its entries expire. Nodes refresh their
// sessions' entries well within the TTL.
type RedisPresence struct {
	login  *redis.Script
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
	now    func() time.Time
}

// NewRedisPresence keeps presence under the key prefix with entries that
// live ttl unless refreshed.
func NewRedisPresence(client redis.UniversalClient, prefix string, ttl time.Duration) *RedisPresence {
	if prefix == "" {
		prefix = "imgate"
	}
	return &RedisPresence{login: redis.NewScript(loginScript), client: client, prefix: prefix, ttl: ttl, now: time.Now}
}

// TTL is how long an entry lives without a refresh.
func (p *RedisPresence) TTL() time.Duration { return p.ttl }

func (p *RedisPresence) key(app string, user int64) string {
	// The braces keep a user's key in one cluster slot.
	return p.prefix + ":p:{" + app + ":" + strconv.FormatInt(user, 10) + "}"
}

// loginScript drops expired entries, refuses when the user has max other
// devices online, and otherwise drops the entries of the same device (same
// serial number, or same guid when one is given) and adds the new entry. A
// refused login changes nothing else. It returns {1|0, replaced members…}.
const loginScript = `
local now, expiry, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local sn, guid, member = ARGV[4], ARGV[5], ARGV[6]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {0}
local kept = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local msn, mguid = string.match(m, '^[^|]*|([^|]*)|[^|]*|(.*)$')
  if msn == sn or (guid ~= '' and mguid == guid) then
    table.insert(out, m)
  else
    kept = kept + 1
  end
end
if kept >= max then
  return {0}
end
for i = 2, #out do
  redis.call('ZREM', KEYS[1], out[i])
end
redis.call('ZADD', KEYS[1], expiry, member)
redis.call('PEXPIREAT', KEYS[1], expiry)
out[1] = 1
return out
`

// Login records a session of a user's device. It refuses (ok false) when
// the user has max other devices online anywhere, and returns the entries
// of the same device that the new session replaces, on any node.
func (p *RedisPresence) Login(ctx context.Context, app string, user int64, e PresenceEntry, max int) (replaced []PresenceEntry, ok bool, err error) {
	now := p.now()
	res, err := p.login.Run(ctx, p.client, []string{p.key(app, user)},
		now.UnixMilli(), now.Add(p.ttl).UnixMilli(), max, strconv.FormatUint(uint64(e.SN), 10), e.GUID, e.member()).Slice()
	if err != nil {
		return nil, false, fmt.Errorf("presence: login of %d: %w", user, err)
	}
	if len(res) == 0 || res[0] != int64(1) {
		return nil, false, nil
	}
	for _, r := range res[1:] {
		if m, isStr := r.(string); isStr {
			if old, parsed := parseEntry(m); parsed {
				replaced = append(replaced, old)
			}
		}
	}
	return replaced, true, nil
}

// Refresh extends the entries of live sessions, in one pipeline. An entry
// Redis lost (a restart without persistence, a failover) is added again:
// the session is live. The caller removes the entries of sessions that
// ended while it refreshed (see gateway.Hub.Run).
func (p *RedisPresence) Refresh(ctx context.Context, refs []PresenceRef) error {
	if len(refs) == 0 {
		return nil
	}
	expiry := p.now().Add(p.ttl)
	pipe := p.client.Pipeline()
	for _, r := range refs {
		k := p.key(r.App, r.User)
		pipe.ZAdd(ctx, k, redis.Z{Score: float64(expiry.UnixMilli()), Member: r.Entry.member()})
		pipe.PExpireAt(ctx, k, expiry)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("presence: refresh: %w", err)
	}
	return nil
}

// Logout removes a session's entry.
func (p *RedisPresence) Logout(ctx context.Context, app string, user int64, e PresenceEntry) error {
	if err := p.client.ZRem(ctx, p.key(app, user), e.member()).Err(); err != nil {
		return fmt.Errorf("presence: logout of %d: %w", user, err)
	}
	return nil
}

// Online reports whether the user has a live entry.
func (p *RedisPresence) Online(ctx context.Context, app string, user int64) (bool, error) {
	n, err := p.client.ZCount(ctx, p.key(app, user), strconv.FormatInt(p.now().UnixMilli(), 10), "+inf").Result()
	if err != nil {
		return false, fmt.Errorf("presence: online of %d: %w", user, err)
	}
	return n > 0, nil
}

// Entries lists the user's live entries.
func (p *RedisPresence) Entries(ctx context.Context, app string, user int64) ([]PresenceEntry, error) {
	ms, err := p.client.ZRangeByScore(ctx, p.key(app, user), &redis.ZRangeBy{
		Min: strconv.FormatInt(p.now().UnixMilli(), 10), Max: "+inf",
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("presence: entries of %d: %w", user, err)
	}
	out := make([]PresenceEntry, 0, len(ms))
	for _, m := range ms {
		if e, ok := parseEntry(m); ok {
			out = append(out, e)
		}
	}
	return out, nil
}
