package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/metrics"
)

// Page sizes of sync answers. A forward pull returns up to syncPage metas
// and a next_key to continue from; a history page (is_full_sync) returns
// full_sync_num metas, historyDefault when the client names none, at most
// historyMax.
const (
	syncPage       = 100
	historyDefault = 20
	historyMax     = 100
)

// serveSync answers a pull, or takes a send (a SyncUL with a meta).
func (s *session) serveSync(ctx context.Context, m *xsync.SyncUL) {
	if m.Meta != nil {
		s.sendMeta(ctx, m.Meta)
		return
	}
	ctx = metrics.WithStoreOp(ctx, metrics.OpPull)
	conv, err := s.conv(ctx, int64(m.Xid.GetUid()))
	if err == nil {
		err = s.pull(ctx, m, conv)
	}
	if err != nil {
		s.send(xsync.Frame_SYNC, &xsync.SyncDL{Status: s.statusOf(err), Xid: m.Xid, IsFullSync: m.IsFullSync})
	}
}

// pull answers a SyncUL: with is_full_sync, history before key (0: the
// newest); with a key, the messages after it; without one, what the
// device has not been sent: after the session's cursor, or after the
// user's read position when the session has none.
func (s *session) pull(ctx context.Context, m *xsync.SyncUL, conv imgate.Conv) error {
	if m.IsFullSync {
		return s.history(ctx, m, conv)
	}
	explicit := m.Key != 0
	s.mu.Lock()
	c := s.cursors[conv]
	var from cursor
	if c != nil {
		from = *c
	}
	winFrom, trusted := s.windowFromLocked(conv)
	heard := s.heard[conv]
	delete(s.noticed, conv)
	s.mu.Unlock()
	msgs, err := s.forward(ctx, m, conv, forwardFrom{cur: from, has: c != nil, heard: heard, winFrom: winFrom, trusted: trusted})
	if err != nil {
		return err
	}
	page, next := cut(msgs, syncPage, recentID)
	// Under the lock, so that pushes that raced with the query are
	// neither sent twice nor overtaken.
	s.mu.Lock()
	defer s.mu.Unlock()
	c = s.cursors[conv]
	if c != nil {
		// What the session queued is on its way to the client (or the
		// session dies): a key behind it, or a push that raced with the
		// query, does not make it send those again. What it only assumed
		// at login, a client that names a key gets.
		kept := page[:0:0]
		for _, msg := range page {
			if explicit && !c.sent(msg.seq) || !explicit && msg.seq > c.seq {
				kept = append(kept, msg)
			}
		}
		page = kept
	}
	var items *delivered
	if len(page) > 0 {
		items = &delivered{kind: delivery.KindOf(conv.Kind), path: metrics.Sync}
		for _, msg := range page {
			if c == nil || msg.seq > c.seq {
				items.ats = append(items.ats, msg.at)
			}
		}
		items.n = len(items.ats)
	}
	if n := len(page); n > 0 && c != nil {
		// What it sends of what the cursor only assumed is not owed
		// by a push any more.
		c.owed = max(c.owed, min(page[n-1].seq, c.base))
	}
	if n := len(page); n > 0 && (c == nil || page[n-1].seq > c.seq) {
		if c == nil {
			c = &cursor{}
			s.cursors[conv] = c
		}
		c.seq, c.id, c.byRead = page[n-1].seq, page[n-1].id, false
	}
	s.sendItems(xsync.Frame_SYNC, pageDL(m.Xid, page, next), items)
	return nil
}

// forwardFrom is what a forward pull starts from: the session's cursor
// (if it has one), the last Seq it heard of, and whether, and after which
// Seq, the window may answer (session.windowFromLocked).
type forwardFrom struct {
	cur     cursor
	has     bool
	heard   int64
	winFrom int64
	trusted bool
}

// forward reads a forward pull's page and one message more: from the
// window when it holds the conversation from where the pull starts and
// the user sees it all, else from the store.
func (s *session) forward(ctx context.Context, m *xsync.SyncUL, conv imgate.Conv, f forwardFrom) ([]recent, error) {
	if page, ok := s.fromWindow(m, conv, f); ok {
		s.srv.cfg.Metrics.Pulled(metrics.PullMemory)
		return page, nil
	}
	st := s.srv.store
	var msgs []imgate.Message
	var err error
	switch {
	case m.Key != 0:
		msgs, err = st.Messages(ctx, s.app, s.user, conv, int64(m.Key), syncPage+1)
	case f.has && !f.cur.byRead:
		msgs, err = st.Messages(ctx, s.app, s.user, conv, f.cur.id, syncPage+1)
	default:
		msgs, err = st.MessagesSinceRead(ctx, s.app, s.user, conv, syncPage+1)
	}
	if err != nil {
		return nil, err
	}
	s.srv.cfg.Metrics.Pulled(metrics.PullStore)
	out := make([]recent, len(msgs))
	for i, msg := range msgs {
		out[i] = recentOf(msg)
	}
	return out, nil
}

// fromWindow reads a forward pull from the window, if it may answer it:
// from a cursor (not a read position) or a key, with every message it
// returns after the Seq the user's view is known to equal the stream
// from.
func (s *session) fromWindow(m *xsync.SyncUL, conv imgate.Conv, f forwardFrom) ([]recent, bool) {
	if !f.trusted {
		return nil, false
	}
	r := windowRead{seq: f.cur.seq, heard: f.heard}
	switch {
	case m.Key != 0:
		r.id, r.byID = int64(m.Key), true
	case !f.has || f.cur.byRead:
		return nil, false
	}
	page, ok := s.srv.hub.window.Load().read(windowKeyOf(s.app, s.user, conv), r, syncPage+1)
	if !ok || len(page) > 0 && page[0].seq <= f.winFrom || !r.byID && r.seq < f.winFrom {
		return nil, false
	}
	return page, true
}

// history answers a history page (is_full_sync), from the store.
func (s *session) history(ctx context.Context, m *xsync.SyncUL, conv imgate.Conv) error {
	limit := int(m.FullSyncNum)
	if limit <= 0 {
		limit = historyDefault
	}
	limit = min(limit, historyMax)
	msgs, err := s.srv.store.History(ctx, s.app, s.user, conv, int64(m.Key), limit+1)
	if err != nil {
		return err
	}
	page, next := cut(msgs, limit, idOf)
	s.send(xsync.Frame_SYNC, syncDL(m.Xid, page, next, true))
	return nil
}

// cut splits a page read with one row more than limit: the rows to send,
// and the next_key to continue from (0 when that was all).
// id names a row's message id.
func cut[T any](msgs []T, limit int, id func(T) int64) ([]T, int64) {
	if len(msgs) > limit {
		return msgs[:limit], id(msgs[limit-1])
	}
	return msgs, 0
}

func idOf(m imgate.Message) int64 { return m.ID }

func recentID(r recent) int64 { return r.id }

func syncDL(xid *xsync.XID, page []imgate.Message, next int64, full bool) *xsync.SyncDL {
	dl := &xsync.SyncDL{Status: ok(), Xid: xid, IsFullSync: full, NextKey: uint64(next), Metas: make([]*xsync.Meta, len(page))}
	for i, msg := range page {
		dl.Metas[i] = delivery.MetaOf(msg)
	}
	return dl
}

// pageDL is the answer to a forward pull.
func pageDL(xid *xsync.XID, page []recent, next int64) *xsync.SyncDL {
	dl := &xsync.SyncDL{Status: ok(), Xid: xid, NextKey: uint64(next), Metas: make([]*xsync.Meta, len(page))}
	for i, msg := range page {
		dl.Metas[i] = msg.meta
	}
	return dl
}

// conv names the conversation a client means by a uid: a group the user
// belongs to, or else a chat with that user. Ids of users and groups come
// from one sequence, so the two cannot be confused.
func (s *session) conv(ctx context.Context, peer int64) (imgate.Conv, error) {
	if peer <= 0 {
		return imgate.Conv{}, imgate.Errorf(imgate.CodeInvalidParameter, "no conversation")
	}
	group := imgate.Conv{Kind: imgate.ConvGroup, Peer: peer}
	chat := imgate.Conv{Kind: imgate.ConvChat, Peer: peer}
	s.mu.Lock()
	isGroup, isChat := s.groups[peer], s.cursors[chat] != nil
	s.mu.Unlock()
	switch {
	case isGroup:
		return group, nil
	case isChat:
		return chat, nil
	}
	st := s.srv.store
	_, err := st.Group(ctx, s.app, peer)
	switch imgate.ErrorCode(err) {
	case imgate.CodeGroupNotFound:
		return chat, nil
	case imgate.CodeOK:
	default:
		return imgate.Conv{}, err
	}
	_, member, err := st.Member(ctx, s.app, peer, s.user)
	if err != nil {
		return imgate.Conv{}, err
	}
	if !member {
		return imgate.Conv{}, imgate.Errorf(imgate.CodeNotGroupMember, "not a member of group %d", peer)
	}
	return group, nil
}

// statusOf is the Status of a failed request: a refusal for business
// errors, FAIL (and a log line) for internal ones.
func (s *session) statusOf(err error) *xsync.Status {
	if errors.Is(err, errRateLimited) {
		return &xsync.Status{Code: xsync.Status_RATE_LIMIT_EXCEEDED, Reason: "too many messages; slow down"}
	}
	if errors.As(err, new(delivery.Banned)) {
		return &xsync.Status{Code: xsync.Status_USER_BANNED, Reason: imgate.ErrorMessage(err)}
	}
	switch imgate.ErrorCode(err) {
	case imgate.CodeTooManyAttempts: // the user's or the app's limit
		return &xsync.Status{Code: xsync.Status_RATE_LIMIT_EXCEEDED, Reason: imgate.ErrorMessage(err)}
	case imgate.CodeStore:
		s.srv.cfg.Metrics.StoreError("request")
		s.srv.log.Error("sync failed", "user", s.user, "err", err)
		return &xsync.Status{Code: xsync.Status_FAIL, Reason: "server error"}
	case imgate.CodeNotGroupMember, imgate.CodeForbidden, imgate.CodeInBlacklist:
		return &xsync.Status{Code: xsync.Status_UNAUTHORIZED, Reason: imgate.ErrorMessage(err)}
	}
	return &xsync.Status{Code: xsync.Status_INVALID_PARAMETER, Reason: imgate.ErrorMessage(err)}
}

// unread answers the heartbeat with the conversations that have unread
// messages, from the user's read positions.
func (s *session) unread(ctx context.Context) {
	ctx = metrics.WithStoreOp(ctx, metrics.OpUnread)
	s.saveNoticeCursor(ctx)
	us, fromLogin := s.takeLoginUnreads()
	if !fromLogin {
		var err error
		us, err = s.srv.store.Unreads(ctx, s.app, s.user)
		if err != nil {
			s.send(xsync.Frame_UNREAD, &xsync.UnreadDL{Status: s.statusOf(err)})
			return
		}
	}
	out := make([]*xsync.ConversationUnread, len(us))
	for i, u := range us {
		out[i] = &xsync.ConversationUnread{
			Xid: &xsync.XID{Uid: uint64(u.Conv.Peer)}, N: uint32(min(u.Count, 1<<32-1)),
			Type: xsync.ConversationUnread_ConvType(u.Conv.Kind),
		}
	}
	s.send(xsync.Frame_UNREAD, &xsync.UnreadDL{Status: ok(), Unread: out})
}

// loginUnreadsFor bounds how long after its login a session answers
// UNREAD from the counts the login read (MaxIM's SDKs send it at once).
const loginUnreadsFor = 10 * time.Second

// takeLoginUnreads returns the unread counts the login read, once, if
// nothing has reached the session or come from its client since (a
// message, a read receipt, a deletion: nothing that changes them) and
// the login is recent; the first UNREAD then costs no store read. The
// counts are then as recent as a store read just before an event still
// on its way, which the event's push brings up to date as it would
// after the read.
func (s *session) takeLoginUnreads() ([]imgate.Unread, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	us := s.loginUnreads
	s.loginUnreads = nil
	if us == nil || s.news.Load() != 0 || s.srv.now().Sub(s.since) > loginUnreadsFor {
		return nil, false
	}
	return us, true
}

// unreadsOf are the conversations of convs (newest message first, as
// LoginState has them) with unread messages, as Store.Unreads lists them.
func unreadsOf(convs []imgate.ConvState) []imgate.Unread {
	us := make([]imgate.Unread, 0, len(convs))
	for _, c := range convs {
		if c.Unread > 0 {
			us = append(us, imgate.Unread{Conv: c.Conv, Count: c.Unread, LastID: c.LastID})
		}
	}
	return us
}
