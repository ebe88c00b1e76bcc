package gateway

import (
	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// Resync tells every session to pull each conversation it holds, and
// fetches their notices: the bus was cut off from the other nodes and may
// have lost events (it implements delivery.Router). Pulls that find
// nothing new cost one query each. The window forgets what it holds: it
// may have missed changes, and the sessions what their users hid.
func (h *Hub) Resync() {
	h.window.Load().clear()
	for _, s := range h.all() {
		s.resync()
	}
}

func (s *session) resync() {
	s.mu.Lock()
	for conv := range s.cursors {
		s.noticeLocked(conv, metrics.NoticeResync)
	}
	for g := range s.groups {
		s.noticeLocked(imgate.Conv{Kind: imgate.ConvGroup, Peer: g}, metrics.NoticeResync)
	}
	settled := s.settled
	s.mu.Unlock()
	s.fetchNotices()
	if settled {
		go s.noticeNewChats()
	}
}

// noticeNewChats tells the client of the chats the session holds no
// cursor for: they began while the bus was cut off, and their first
// messages were lost with it. (Before setup settles, setup loads them.)
func (s *session) noticeNewChats() {
	convs, err := s.srv.store.Conversations(s.ctx, s.app, s.user)
	if err != nil {
		if s.ctx.Err() == nil {
			s.srv.log.Error("load conversations", "user", s.user, "err", err)
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	for _, c := range convs {
		if c.Conv.Kind == imgate.ConvChat && s.cursors[c.Conv] == nil {
			s.noticeLocked(c.Conv, metrics.NoticeResync)
		}
	}
}
