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

// noticePage bounds the notices sent in one SyncDL.
const noticePage = 100

// noticeXID is the xid of the frames that carry notices: the system, not
// a conversation.
func noticeXID() *xsync.XID { return &xsync.XID{Uid: 0} }

// fetchNotices sends the user's notices after the session's notice cursor,
// in a goroutine of its own; calls while one runs make it run once more,
// so a burst of notices costs one fetch, not one per notice.
func (s *session) fetchNotices() { s.fetchNoticesFor(metrics.OpNotices) }

// fetchNoticesFor is fetchNotices, its first page's store round trips
// counted for op.
func (s *session) fetchNoticesFor(op string) {
	s.mu.Lock()
	if !s.groupsReady {
		// The login is routing the groups; setup fetches after that.
		s.noticeWanted = true
		s.mu.Unlock()
		return
	}
	if s.fetching {
		s.fetchAgain = true
		s.mu.Unlock()
		return
	}
	s.fetching = true
	s.mu.Unlock()
	go func() {
		ctx := metrics.WithStoreOp(s.ctx, op)
		for {
			more := s.sendNotices(ctx)
			ctx = metrics.WithStoreOp(s.ctx, metrics.OpNotices)
			s.mu.Lock()
			if !more && !s.fetchAgain {
				s.fetching = false
				s.mu.Unlock()
				return
			}
			s.fetchAgain = false
			s.mu.Unlock()
		}
	}()
}

// sendNotices sends one page of notices; true if there may be more.
func (s *session) sendNotices(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	s.mu.Lock()
	after := s.noticeSent
	s.mu.Unlock()
	ns, err := s.srv.store.Notices(ctx, s.app, s.user, after, noticePage)
	if err != nil {
		if ctx.Err() == nil {
			s.srv.log.Error("load notices", "user", s.user, "err", err)
		}
		return false
	}
	if len(ns) == 0 {
		return false
	}
	metas := make([]*xsync.Meta, len(ns))
	groups := map[int64]bool{}
	// Notices made while the device was online are pushes; older ones it
	// syncs at login.
	items := &delivered{kind: metrics.Notice, path: metrics.Push, n: len(ns), ats: make([]int64, len(ns))}
	for i, n := range ns {
		metas[i] = delivery.NoticeMeta(n)
		items.ats[i] = n.At.UnixNano()
		if n.At.Before(s.since) {
			items.path = metrics.Sync
		}
		if n.Kind == imgate.NoticeGroup {
			groups[n.GroupID] = true
		}
	}
	// Membership first, so that a member who just joined is routed the
	// group's messages from now on.
	for g := range groups {
		s.refreshGroup(ctx, g)
	}
	last := ns[len(ns)-1].Seq
	s.mu.Lock()
	s.noticeSent = last
	s.mu.Unlock()
	m, err := encodePush(s.codec, noticeXID(), metas)
	if err != nil {
		s.srv.log.Error("encode notices", "err", err)
		return false
	}
	m.notice, m.items = last, items
	s.enqueue(m)
	return len(ns) == noticePage
}

// refreshGroup checks the user's membership of a group after a notice
// about it, and routes the group's messages to the session, or stops, to
// match. A new member is told to pull the group.
func (s *session) refreshGroup(ctx context.Context, group int64) {
	// A join, a leave and a join again move what the user sees of the
	// group: its pulls go to the store from now on.
	s.unsure(imgate.Conv{Kind: imgate.ConvGroup, Peer: group})
	_, member, err := s.srv.store.Member(ctx, s.app, group, s.user)
	if err != nil {
		return // a store hiccup; the next notice or login corrects it
	}
	conv := imgate.Conv{Kind: imgate.ConvGroup, Peer: group}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return // logged out, or about to: nothing to route
	}
	switch was := s.groups[group]; {
	case member && !was:
		s.groups[group] = true
		s.srv.hub.subscribe(s, group)
		s.noticeLocked(conv, metrics.NoticeJoined)
	case !member && was:
		delete(s.groups, group)
		delete(s.cursors, conv)
		s.srv.hub.unsubscribe(s, group)
	}
}

// saveNoticeCursor records how far the device has been written notices,
// so that a reconnect resumes after them.
func (s *session) saveNoticeCursor(ctx context.Context) {
	written := s.w.noticeWritten()
	s.mu.Lock()
	if written <= s.noticeSaved {
		s.mu.Unlock()
		return
	}
	s.noticeSaved = written
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := s.srv.store.UpdateDevice(ctx, s.app, s.user, s.sn, func(d *imgate.Device) error {
		d.NoticeSeq = max(d.NoticeSeq, written)
		return nil
	})
	if err != nil && !errors.Is(err, imgate.ErrDeviceNotFound) {
		s.srv.log.Warn("save notice cursor", "user", s.user, "err", err)
	}
}
