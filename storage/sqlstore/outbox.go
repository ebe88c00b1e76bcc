package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

var _ imgate.OutboxStore = (*Store)(nil)

// hookCache keeps each app's webhook as this store last read it, for
// WebhookConfigTTL, so that a write whose app has no webhook costs no
// statement: an outbox row is written only for the apps whose webhook
// sends the event's type. SetWebhook on this store updates it at once.
type hookCache struct {
	mu    sync.Mutex
	hooks map[string]cachedHook
}

type cachedHook struct {
	w     imgate.Webhook
	until time.Time
}

// hooksOf returns the webhooks of apps, in their order, reading those
// not cached (or expired) in tx, in one statement. apps holds no
// duplicates.
func (c *hookCache) hooksOf(ctx context.Context, tx *sqlx.Tx, apps []string) ([]imgate.Webhook, error) {
	now := time.Now()
	out := make([]imgate.Webhook, len(apps))
	var miss []string
	c.mu.Lock()
	for i, app := range apps {
		if h, ok := c.hooks[app]; ok && now.Before(h.until) {
			out[i] = h.w
		} else {
			miss = append(miss, app)
		}
	}
	c.mu.Unlock()
	if len(miss) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In("SELECT "+appColumns+" FROM apps WHERE id IN (?)", miss)
	if err != nil {
		return nil, fmt.Errorf("webhooks of apps: %w", err)
	}
	var rows []appRow
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("webhooks of apps: %w", err)
	}
	for _, r := range rows {
		w := r.app().Webhook
		out[slices.Index(apps, r.ID)] = w
		c.put(r.ID, w, now)
	}
	return out, nil
}

func (c *hookCache) put(app string, w imgate.Webhook, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.hooks) >= maxCachedHooks {
		clear(c.hooks)
	}
	c.hooks[app] = cachedHook{w: w, until: now.Add(imgate.WebhookConfigTTL)}
}

// maxCachedHooks bounds the webhook cache; a cache that starts over only
// costs a read per app.
const maxCachedHooks = 10_000

// pendingEvent is an event to write in the outbox.
type pendingEvent struct {
	app  string
	typ  imgate.EventType
	key  string
	data any
}

// writeEvents writes the events of apps whose webhook sends their type
// to the outbox in tx, in one statement.
func (s *Store) writeEvents(ctx context.Context, tx *sqlx.Tx, events []pendingEvent) error {
	if len(events) == 0 {
		return nil
	}
	var apps []string
	for _, e := range events {
		if !slices.Contains(apps, e.app) {
			apps = append(apps, e.app)
		}
	}
	hooks, err := s.hooks.hooksOf(ctx, tx, apps)
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	var q strings.Builder
	var args []any
	for _, e := range events {
		if !hooks[slices.Index(apps, e.app)].Sends(e.typ) {
			continue
		}
		data, err := json.Marshal(e.data)
		if err != nil {
			return fmt.Errorf("encode %s event: %w", e.typ, err)
		}
		if len(args) > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?)")
		args = append(args, e.app, string(e.typ), e.key, string(data), now, now)
	}
	if len(args) == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO webhook_outbox (app_id, event_type, ordering, data, created_at, next_at) VALUES "+q.String()), args...)
	if err != nil {
		return fmt.Errorf("write webhook events: %w", err)
	}
	return nil
}

// writeMessageEvents writes the events of a batch's new messages (a
// message, or a stored operation on one: recall, edit). A batch whose
// apps have no webhook (the cache holding them) costs no statement and
// builds no event.
func (s *Store) writeMessageEvents(ctx context.Context, tx *sqlx.Tx, out []imgate.Message, dup []bool, keys []convKey) error {
	apps := make([]string, 0, 1)
	for _, m := range out {
		if !slices.Contains(apps, m.AppID) {
			apps = append(apps, m.AppID)
		}
	}
	hooks, err := s.hooks.hooksOf(ctx, tx, apps)
	if err != nil || !slices.ContainsFunc(hooks, func(w imgate.Webhook) bool { return w.URL != "" }) {
		return err
	}
	return s.writeEvents(ctx, tx, messageEvents(out, dup, keys))
}

// messageEvents are the events of a batch's new messages.
func messageEvents(out []imgate.Message, dup []bool, keys []convKey) []pendingEvent {
	var events []pendingEvent
	for i, m := range out {
		if dup[i] {
			continue
		}
		typ := messageEventType(m)
		if typ == "" {
			continue
		}
		events = append(events, pendingEvent{app: m.AppID, typ: typ, key: keys[i].orderingKey(), data: m})
	}
	return events
}

func messageEventType(m imgate.Message) imgate.EventType {
	switch {
	case m.Type != imgate.TypeOper && m.Op == 0:
		return imgate.EventMessage
	case m.Op == imgate.OpRecall:
		return imgate.EventMessageRecall
	case m.Op == imgate.OpAppend || m.Op == imgate.OpReplace:
		return imgate.EventMessageEdit
	}
	return ""
}

// orderingKey names the conversation in the outbox.
func (k convKey) orderingKey() string {
	return fmt.Sprintf("c%d:%d:%d", k.kind, k.a, k.b)
}

// userEvent is the event of a user's creation or deletion.
func userEvent(app string, typ imgate.EventType, id int64, username string) pendingEvent {
	return pendingEvent{app: app, typ: typ, key: fmt.Sprintf("u%d", id),
		data: imgate.UserEvent{UserID: id, Username: username}}
}

// SetWebhook sets the app's webhook and wakes its parked events:
// CodeUnknownApp.
func (s *Store) SetWebhook(ctx context.Context, appID string, w imgate.Webhook) error {
	events := make([]string, len(w.Events))
	for i, e := range w.Events {
		events[i] = string(e)
	}
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		n, err := execCount(ctx, tx, tx.Rebind("UPDATE apps SET webhook_url = ?, webhook_secret = ?,"+
			" callback_signature = ?, webhook_events = ? WHERE id = ?"),
			w.URL, w.Secret, w.CallbackSignature, strings.Join(events, ","), appID)
		if err == nil && n == 0 {
			err = imgate.Errorf(imgate.CodeUnknownApp, "unknown app %s", appID)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("UPDATE webhook_outbox SET next_at = ? WHERE app_id = ? AND attempts > 0"),
			time.Now().UnixMilli(), appID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set webhook of app %q: %w", appID, err)
	}
	s.hooks.put(appID, w, time.Now())
	return nil
}

// eventRow is the SQL form of imgate.Event.
type eventRow struct {
	ID        int64  `db:"id"`
	AppID     string `db:"app_id"`
	Type      string `db:"event_type"`
	Key       string `db:"ordering"`
	Data      string `db:"data"`
	CreatedAt int64  `db:"created_at"`
	Attempts  int    `db:"attempts"`
}

// ClaimEvents leases the oldest due event of each ordering key that no
// lease holds, in one statement. On PostgreSQL the candidates are locked
// with SKIP LOCKED, so concurrent claims of several nodes take disjoint
// events; a claim that finds an event another just leased re-checks its
// lease and skips it.
func (s *Store) ClaimEvents(ctx context.Context, c imgate.EventClaim) ([]imgate.Event, error) {
	now := c.Now.UnixMilli()
	skip := ""
	args := []any{now + c.Lease.Milliseconds(), now, now}
	if len(c.SkipApps) > 0 {
		skip = " AND o.app_id NOT IN (?" + strings.Repeat(", ?", len(c.SkipApps)-1) + ")"
		for _, app := range c.SkipApps {
			args = append(args, app)
		}
	}
	args = append(args, c.Limit)
	var rows []eventRow
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		rows = rows[:0]
		return tx.SelectContext(ctx, &rows, tx.Rebind("UPDATE webhook_outbox SET lease_until = ? WHERE id IN ("+
			"SELECT o.id FROM webhook_outbox o WHERE o.next_at <= ? AND o.lease_until <= ?"+skip+
			" AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.app_id = o.app_id AND p.ordering = o.ordering AND p.id < o.id)"+
			" ORDER BY o.id LIMIT ?"+s.d.SkipLocked+")"+
			" RETURNING id, app_id, event_type, ordering, data, created_at, attempts"),
			args...)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim events: %w", err)
	}
	slices.SortFunc(rows, func(a, b eventRow) int { return cmpInt(a.ID, b.ID) })
	out := make([]imgate.Event, len(rows))
	for i, r := range rows {
		out[i] = imgate.Event{ID: r.ID, AppID: r.AppID, Type: imgate.EventType(r.Type), Key: r.Key,
			Data: []byte(r.Data), CreatedAt: fromMillis(r.CreatedAt), Attempts: r.Attempts}
	}
	return out, nil
}

// DeleteEvents removes sent events.
func (s *Store) DeleteEvents(ctx context.Context, ids []int64) error {
	return s.eventsExec(ctx, "delete events", "DELETE FROM webhook_outbox WHERE id IN (?)", ids)
}

// ReleaseEvents ends the lease of claimed events that were not sent.
func (s *Store) ReleaseEvents(ctx context.Context, ids []int64) error {
	return s.eventsExec(ctx, "release events", "UPDATE webhook_outbox SET lease_until = 0 WHERE id IN (?)", ids)
}

func (s *Store) eventsExec(ctx context.Context, what, q string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	q, args, err := sqlx.In(q, ids)
	if err == nil {
		err = s.write(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	return nil
}

// RetryEvent records a failed send and when to try again.
func (s *Store) RetryEvent(ctx context.Context, id int64, attempts int, next time.Time, reason string) error {
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE webhook_outbox SET attempts = ?, next_at = ?, lease_until = 0, last_error = ? WHERE id = ?"),
			attempts, next.UnixMilli(), reason, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: retry event %d: %w", id, err)
	}
	return nil
}

// WakeEvents makes the app's parked events due at now.
func (s *Store) WakeEvents(ctx context.Context, appID string, parked int, now time.Time) error {
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE webhook_outbox SET next_at = ? WHERE app_id = ? AND attempts >= ? AND next_at > ?"),
			now.UnixMilli(), appID, parked, now.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: wake events of app %q: %w", appID, err)
	}
	return nil
}

// OutboxStats counts each app's waiting events.
func (s *Store) OutboxStats(ctx context.Context, parked int) ([]imgate.OutboxStats, error) {
	var rows []struct {
		AppID   string `db:"app_id"`
		Pending int64  `db:"pending"`
		Parked  int64  `db:"parked"`
		Oldest  int64  `db:"oldest"`
	}
	err := s.r.SelectContext(ctx, &rows, s.r.Rebind("SELECT app_id, COUNT(*) AS pending,"+
		" SUM(CASE WHEN attempts >= ? THEN 1 ELSE 0 END) AS parked, MIN(created_at) AS oldest"+
		" FROM webhook_outbox GROUP BY app_id ORDER BY app_id"), parked)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: outbox stats: %w", err)
	}
	out := make([]imgate.OutboxStats, len(rows))
	for i, r := range rows {
		out[i] = imgate.OutboxStats{AppID: r.AppID, Pending: r.Pending, Parked: r.Parked, Oldest: fromMillis(r.Oldest)}
	}
	return out, nil
}
