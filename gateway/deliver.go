package gateway

import (
	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/metrics"
)

// cursor is how far a session has been sent a conversation: every message
// through Seq seq (id id). Up to base the session assumed it rather than
// sent it: at login the cursor starts at the user's read position. A
// cursor byRead has no id for that position: the session pulls from the
// read position until it has sent more.
//
// The read position moves with what the user's other devices send and
// read, so it can cover messages still on their way to the hub when the
// session loads it: a Stored event the session hears of only after that,
// in (owed, base], was published while the session was logged in, and
// is pushed although the cursor covers it (as setup replays the events
// that came while it loaded). owed starts at the last Seq the session
// heard of before it settled, and moves past what it pushes or pulls of
// that range.
type cursor struct {
	seq, id int64
	base    int64
	owed    int64
	byRead  bool
}

// sent tells whether the session queued the message of Seq seq itself.
func (c *cursor) sent(seq int64) bool { return seq > c.base && seq <= c.seq }

// frames encodes an event's frame once per codec and conversation, so
// that a group message is encoded once for all its recipients.
type frames struct {
	e     *delivery.Event
	cache map[frameKey]outMsg
	items *delivered // what each frame delivers, for metrics
}

type frameKey struct {
	codec codec
	peer  int64
}

func (f *frames) get(s *session, conv imgate.Conv) (outMsg, bool) {
	k := frameKey{s.codec, conv.Peer}
	if m, ok := f.cache[k]; ok {
		return m, true
	}
	m, err := encodePush(s.codec, &xsync.XID{Uid: uint64(conv.Peer)}, f.e.Metas)
	if err != nil {
		s.srv.log.Error("encode event", "err", err)
		return outMsg{}, false
	}
	if f.items == nil {
		f.items = &delivered{kind: delivery.KindOf(f.e.Conv.Kind), path: metrics.Push, n: len(f.e.Metas), at: f.e.Accepted}
	}
	m.items = f.items
	f.cache[k] = m
	return m, true
}

// encodePush encodes an eager SyncDL of metas to xid (a conversation, or
// 0 for notices). On the binary codec the writer may merge it with the
// pushes queued next to it.
func encodePush(c codec, xid *xsync.XID, metas []*xsync.Meta) (outMsg, error) {
	typ, data, err := c.encode(xsync.Frame_SYNC, &xsync.SyncDL{Status: ok(), Xid: xid, Metas: metas, IsEagerSync: true})
	if err != nil {
		return outMsg{}, err
	}
	m := outMsg{typ: typ, data: data}
	if _, binary := c.(binaryCodec); binary {
		m.push = splitPush(data)
	}
	return m, nil
}

// Deliver pushes an event of the bus to this node's sessions of its
// recipients (it implements delivery.Router). It never blocks: a session
// whose queue is full is closed as slow and syncs when it comes back.
func (h *Hub) Deliver(e *delivery.Event) {
	switch e.Kind {
	case delivery.Kicks:
		if e.Kick != nil {
			h.kick(e.App, e.Kick)
		}
	case delivery.Stored:
		// As it comes, even if held for the ones before it: a session
		// told of a later one pulls, and finds the window complete.
		h.window.Load().feed(e)
		if users, _ := e.Recipients(); e.Conv.Kind == imgate.ConvChat && len(users) == 2 && len(e.Users) == 0 {
			// A chat's events from other nodes come once per user's
			// channel, each copy narrowed to its user and ordered with
			// the others of that user (orderKey); this node's own
			// commits take the same streams, or each stream would miss
			// the other's events and hold the next one for holdEarly:
			// two users on two nodes answering each other would wait
			// that long for every message after a reply.
			// A user with no session here has no stream to keep.
			for _, u := range users {
				if !h.online(e.App, u) {
					continue
				}
				one := *e
				one.Users = []int64{u}
				h.deliverStored(&one)
			}
			return
		}
		h.deliverStored(e)
	case delivery.Hides:
		h.deliverHides(e)
	default:
		h.deliverNow(e)
	}
}

// deliverNow pushes an event to the sessions of its recipients.
func (h *Hub) deliverNow(e *delivery.Event) {
	hides := e.Kind == delivery.Live && deletes(e)
	f := &frames{e: e, cache: map[frameKey]outMsg{}}
	visit := func(s *session) {
		s.news.Add(1)
		if hides {
			s.unsure(e.ConvFor(s.user))
		}
		if e.FromDevice != 0 && s.user == e.From && s.sn == e.FromDevice {
			// The sending device has its answer; its cursor moves past
			// the event here, in the conversation's order, so that the
			// next event continues it even if it overtakes the answer.
			if e.Kind == delivery.Stored {
				s.advanceStored(e)
			}
			return
		}
		switch e.Kind {
		case delivery.Stored:
			s.push(e, f)
		case delivery.Live:
			if m, ok := f.get(s, e.ConvFor(s.user)); ok {
				s.enqueue(m)
			}
		case delivery.Notices:
			s.fetchNotices()
		}
	}
	users, group := e.Recipients()
	if group != 0 {
		for _, s := range h.groupSessions(e.App, group) {
			visit(s)
		}
	}
	for _, u := range users {
		for _, s := range h.sessions(e.App, u) {
			visit(s)
		}
	}
}

// push sends a Stored event if it continues what the session was sent of
// the conversation; if it does not (the session missed something, or
// knows nothing of the conversation yet) it sends a NOTICE, and the
// client's pull fills the gap.
func (s *session) push(e *delivery.Event, f *frames) {
	conv := e.ConvFor(s.user)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hearLocked(conv, e.LastSeq)
	if !s.settled {
		if len(s.pending) < maxPending {
			// The cursors are loading from the read positions, which the
			// user's own sends move: setup replays the event against them.
			s.pending = append(s.pending, e)
			return
		}
		s.noticeLocked(conv, metrics.NoticePendingOverflow)
		return
	}
	c := s.cursors[conv]
	if c == nil {
		if !s.primed || conv.Kind == imgate.ConvGroup {
			s.noticeLocked(conv, metrics.NoticeNoCursor)
			return
		}
		// A chat that began after the session loaded its conversations:
		// the session has been sent all of it there is.
		c = &cursor{}
		s.cursors[conv] = c
	}
	switch {
	case e.LastSeq <= c.seq && e.FirstSeq > c.owed && e.LastSeq <= c.base:
		// Assumed at login, but on its way then: not sent yet.
		if m, ok := f.get(s, conv); ok && s.enqueue(m) {
			c.owed = e.LastSeq
		}
	case e.LastSeq <= c.seq:
		// Sent already, by a pull that saw it committed.
	case e.FirstSeq == c.seq+1:
		if m, ok := f.get(s, conv); ok && s.enqueue(m) {
			c.seq, c.id, c.byRead = e.LastSeq, e.LastID, false
		}
	default:
		s.noticeLocked(conv, metrics.NoticeGap)
	}
}

// maxPending bounds the events a session keeps while it loads its
// cursors; beyond it they become NOTICEs.
const maxPending = 1024

// replayLocked pushes an event that came while the session was loading its
// cursors. The device was logged in when it was published, so it is sent
// even if the cursor, loaded from the user's read position, already
// covers it (the user's other device sent it); a gap becomes a NOTICE.
// s.mu is held.
func (s *session) replayLocked(e *delivery.Event) {
	conv := e.ConvFor(s.user)
	c := s.cursors[conv]
	if !s.primed || c == nil && conv.Kind == imgate.ConvGroup {
		s.noticeLocked(conv, metrics.NoticeLogin)
		return
	}
	if c == nil {
		c = &cursor{}
		s.cursors[conv] = c
	}
	if e.FirstSeq > c.seq+1 {
		s.noticeLocked(conv, metrics.NoticeLogin)
		return
	}
	f := &frames{e: e, cache: map[frameKey]outMsg{}}
	if m, ok := f.get(s, conv); ok && s.enqueue(m) && e.LastSeq > c.seq {
		c.seq, c.id, c.byRead = e.LastSeq, e.LastID, false
	}
}

// noticeLocked tells the client that conv has news to pull, once until it
// pulls, and counts why. s.mu is held.
func (s *session) noticeLocked(conv imgate.Conv, cause metrics.NoticeCause) {
	if s.noticed[conv] {
		return
	}
	s.noticed[conv] = true
	s.srv.cfg.Metrics.Noticed(cause)
	s.send(xsync.Frame_NOTICE, &xsync.Notice{Xid: &xsync.XID{Uid: uint64(conv.Peer)}})
}

// advanceStored moves the cursor past a Stored event of the session's
// own device, as advance does.
func (s *session) advanceStored(e *delivery.Event) {
	conv := e.ConvFor(s.user)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hearLocked(conv, e.LastSeq)
	if !s.settled {
		// setup replays it against the cursors it loads; replay skips
		// what the cursor covers and sends the rest.
		return
	}
	s.advanceLocked(conv, e.FirstSeq, e.LastSeq, e.LastID)
}

// advance moves the cursor of conv past a message the session's own
// client sent (it has it: the answer carried its id), if that continues
// the cursor.
func (s *session) advance(conv imgate.Conv, seq, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(conv, seq, seq, id)
}

// advanceLocked moves the cursor of conv past Seqs first..last of the
// session's own client, if they continue it. s.mu is held.
func (s *session) advanceLocked(conv imgate.Conv, first, last, id int64) {
	c := s.cursors[conv]
	if c == nil && s.primed && conv.Kind == imgate.ConvChat {
		// A chat that began after the session loaded its conversations,
		// as push takes it.
		c = &cursor{}
		s.cursors[conv] = c
	}
	s.hearLocked(conv, last)
	if c != nil && c.seq+1 == first {
		c.seq, c.id, c.byRead = last, id, false
	}
}
