package gateway

import "github.com/imgate/imgate"

// Resync tells every session to pull each conversation it holds, and
// fetches their notices: the bus was cut off from the other nodes and may
// have lost events (it implements delivery.Router). Pulls that find
// nothing new cost one query each.
func (h *Hub) Resync() {
	for _, s := range h.all() {
		s.resync()
	}
}

func (s *session) resync() {
	s.mu.Lock()
	for conv := range s.cursors {
		s.noticeLocked(conv)
	}
	for g := range s.groups {
		s.noticeLocked(imgate.Conv{Kind: imgate.ConvGroup, Peer: g})
	}
	s.mu.Unlock()
	s.fetchNotices()
}
