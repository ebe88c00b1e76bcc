package gateway

import (
	"container/list"
	"slices"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/metrics"
)

// The window keeps the newest messages of each conversation this node
// delivers, from the Stored events the hub receives (its own commits and
// the bus's), so that a pull that starts inside it is answered without
// the store.
//
// What it holds of a conversation are messages by Seq, as they were
// stored, with gaps where the node has not seen one (yet: the streams of
// a conversation, this node's commits and each bus channel, interleave),
// above a floor: the Seq of the last OPER message seen (recall, append,
// replace), since an OPER changes a message older than itself. Events at
// or below the floor are refused, so a late copy of a changed message is
// never taken back. A Resync (the bus lost events) empties the window.
//
// A pull is answered only if the session has heard of messages after
// the pull's start (a NOTICE made the device pull; a pull of its own, or
// one after an event the node never received, goes to the store), and
// the window holds every Seq from the one after the start through the
// last the session heard of, with no gap. The answer is that run, as
// far as it goes without a gap: it holds no OPER, so its messages are as
// the store has them except for changes stored after it, which reach the
// device as the events that follow (the cursor continues from the run's
// end). What a user sees of a conversation can differ from its stream
// (hidden, cleared, before a join): the session decides whether its
// user's view equals the stream from the pull's start
// (session.windowFromLocked).
type window struct {
	max     int64
	lookups metrics.CacheCounters

	mu    sync.Mutex
	bytes int64
	gen   uint64 // counts Resyncs: sessions set up before one trust no window
	convs map[windowKey]*convWindow
	lru   list.List // of *convWindow, least recently fed first
}

// windowConvMax bounds the messages kept of one conversation: a few pull
// pages, so that one busy group does not take the whole budget.
const windowConvMax = 4 * syncPage

// Estimated memory of what the window holds beyond the metas' encoded
// sizes: a recent and its Meta's structs; a conversation's entry, map
// slot and list element.
const (
	recentOverhead = 192
	convOverhead   = 256
)

// windowKey names a conversation across apps, the same from both sides
// of a chat.
type windowKey struct {
	app  string
	kind imgate.ConvKind
	a, b int64
}

func windowKeyOf(app string, user int64, conv imgate.Conv) windowKey {
	if conv.Kind == imgate.ConvGroup {
		return windowKey{app: app, kind: conv.Kind, a: conv.Peer}
	}
	return windowKey{app: app, kind: conv.Kind, a: min(user, conv.Peer), b: max(user, conv.Peer)}
}

// recent is one message of a forward pull: from the window, or from the
// store (recentOf).
type recent struct {
	seq, id, at int64 // at: unix nanoseconds
	meta        *xsync.Meta
	size        int64
}

func recentOf(m imgate.Message) recent {
	return recent{seq: m.Seq, id: m.ID, at: m.At.UnixNano(), meta: delivery.MetaOf(m)}
}

// convWindow is what the window holds of one conversation.
type convWindow struct {
	key     windowKey
	entries []recent // by Seq, each above floor
	floor   int64    // the Seq of the last OPER seen
	bytes   int64
	elem    *list.Element
}

// newWindow returns a window holding up to max bytes; nil (no window)
// when max is not positive.
func newWindow(max int64, m *metrics.Metrics) *window {
	if max <= 0 {
		return nil
	}
	return &window{max: max, lookups: m.Cache("window"), convs: map[windowKey]*convWindow{}}
}

// feed takes a Stored event in.
func (w *window) feed(e *delivery.Event) {
	if w == nil || e.LastSeq < e.FirstSeq || e.FirstSeq <= 0 {
		return
	}
	add, plain := recentsOf(e)
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.convLocked(windowKeyOf(e.App, e.From, e.Conv))
	if !plain {
		// An OPER changed a message before it: forget those.
		c.floor = max(c.floor, e.LastSeq)
		n, _ := slices.BinarySearchFunc(c.entries, c.floor+1, bySeq)
		w.dropLocked(c, n)
		return
	}
	for _, r := range add {
		if r.seq > c.floor {
			w.insertLocked(c, r)
		}
	}
	if n := len(c.entries) - windowConvMax; n > 0 {
		w.dropLocked(c, n)
	}
	w.evictLocked(c)
}

func bySeq(r recent, seq int64) int { return int(r.seq - seq) }

// recentsOf reads a Stored event's messages; plain is false when one is
// an OPER (it changes another) or the event's metas do not match its
// Seqs.
func recentsOf(e *delivery.Event) (out []recent, plain bool) {
	if int64(len(e.Metas)) != e.LastSeq-e.FirstSeq+1 {
		return nil, false
	}
	out = make([]recent, len(e.Metas))
	for i, m := range e.Metas {
		if typ, ok := bodyType(m.Payload); !ok || typ == xsync.MessageBody_OPER {
			return nil, false
		}
		out[i] = recent{
			seq: e.FirstSeq + int64(i), id: int64(m.Id), at: int64(m.Timestamp) * 1e6, meta: m,
			size: int64(proto.Size(m)) + recentOverhead,
		}
	}
	return out, true
}

// bodyType reads a MessageBody's type without decoding the rest (its
// content may be large): false if the payload is malformed.
func bodyType(payload []byte) (xsync.MessageBody_Type, bool) {
	typ := xsync.MessageBody_NORMAL
	for len(payload) > 0 {
		num, wt, n := protowire.ConsumeTag(payload)
		if n < 0 {
			return 0, false
		}
		payload = payload[n:]
		if num == 1 && wt == protowire.VarintType {
			v, n := protowire.ConsumeVarint(payload)
			if n < 0 {
				return 0, false
			}
			typ, payload = xsync.MessageBody_Type(v), payload[n:]
			continue
		}
		if n = protowire.ConsumeFieldValue(num, wt, payload); n < 0 {
			return 0, false
		}
		payload = payload[n:]
	}
	return typ, true
}

// convLocked returns the conversation's entry, made if new, as the most
// recently fed. w.mu is held.
func (w *window) convLocked(k windowKey) *convWindow {
	c := w.convs[k]
	if c == nil {
		c = &convWindow{key: k, bytes: convOverhead}
		c.elem = w.lru.PushBack(c)
		w.convs[k] = c
		w.bytes += c.bytes
		return c
	}
	w.lru.MoveToBack(c.elem)
	return c
}

// insertLocked adds r in Seq order, unless held already (a copy from
// another channel). w.mu is held.
func (w *window) insertLocked(c *convWindow, r recent) {
	i, held := len(c.entries), false
	if i > 0 && c.entries[i-1].seq >= r.seq {
		i, held = slices.BinarySearchFunc(c.entries, r.seq, bySeq)
	}
	if held {
		return
	}
	c.entries = slices.Insert(c.entries, i, r)
	c.bytes += r.size
	w.bytes += r.size
}

// dropLocked forgets the oldest n messages of c. w.mu is held.
func (w *window) dropLocked(c *convWindow, n int) {
	for _, r := range c.entries[:n] {
		c.bytes -= r.size
		w.bytes -= r.size
	}
	c.entries = slices.Delete(c.entries, 0, n)
	if len(c.entries) == 0 {
		c.entries = nil // let a long run's array go
	}
}

// evictLocked forgets the least recently fed conversations until the
// window is within its budget, then the oldest messages of keep, the one
// just fed. w.mu is held.
func (w *window) evictLocked(keep *convWindow) {
	for w.bytes > w.max {
		c := w.lru.Front().Value.(*convWindow)
		if c == keep {
			if len(c.entries) == 0 {
				return
			}
			w.dropLocked(c, max(len(c.entries)/2, 1))
			continue
		}
		w.bytes -= c.bytes
		w.lru.Remove(c.elem)
		delete(w.convs, c.key)
	}
}

// clear forgets everything: the bus may have lost events (Resync), and
// sessions set up before stop trusting the window for good.
func (w *window) clear() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.convs = map[windowKey]*convWindow{}
	w.lru.Init()
	w.bytes = 0
	w.gen++
}

// generation counts the clears so far.
func (w *window) generation() uint64 {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gen
}

// windowRead is where a forward pull starts: after the message of Seq
// seq (a cursor's), or, when byID, after the message id (a client's key).
// heard is the highest Seq the session was told of.
type windowRead struct {
	seq, id int64
	byID    bool
	heard   int64
}

// read returns the conversation's messages after r, as far as they go
// without a gap, at most limit, or false when they do not reach
// r.heard.
func (w *window) read(k windowKey, r windowRead, limit int) ([]recent, bool) {
	if w == nil {
		return nil, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.convs[k]
	start := -1
	if c != nil {
		start = c.startOf(r)
	}
	if start < 0 {
		w.lookups.Misses.Inc()
		return nil, false
	}
	w.lookups.Hits.Inc()
	end := start + 1
	for end < len(c.entries) && end-start < limit && c.entries[end].seq == c.entries[end-1].seq+1 {
		end++
	}
	return slices.Clone(c.entries[start:end]), true
}

// startOf is the index of the first entry after r, or -1 unless the
// entries from there are every Seq through r.heard (and r.heard is past
// the start).
func (c *convWindow) startOf(r windowRead) int {
	seq := r.seq
	if r.byID {
		var ok bool
		if seq, ok = c.seqOfKey(r.id); !ok {
			return -1
		}
	}
	if seq >= r.heard {
		return -1
	}
	i, _ := slices.BinarySearchFunc(c.entries, seq+1, bySeq)
	// Distinct Seqs from seq+1 on: the one heard-seq-1 places on is
	// heard only if none is missing before it.
	j := i + int(r.heard-seq-1)
	if j >= len(c.entries) || c.entries[i].seq != seq+1 || c.entries[j].seq != r.heard {
		return -1
	}
	return i
}

// seqOfKey is the Seq after which the messages with ids above id start:
// that of the message id, or of the one before an id no message has
// (ids increase with Seqs within a conversation). false when the window
// cannot tell.
func (c *convWindow) seqOfKey(id int64) (int64, bool) {
	// i: the first entry with an id above id.
	i, _ := slices.BinarySearchFunc(c.entries, id, func(e recent, id int64) int {
		if e.id <= id {
			return -1
		}
		return 1
	})
	if i == 0 {
		return 0, false
	}
	before := c.entries[i-1]
	if before.id != id && (i == len(c.entries) || c.entries[i].seq != before.seq+1) {
		return 0, false // between before and a message the window lacks
	}
	return before.seq, true
}

// stats is the window's size, for metrics.
func (w *window) stats() metrics.WindowStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return metrics.WindowStats{Bytes: w.bytes, Conversations: int64(len(w.convs))}
}

// The sessions' side: when a user's view of a conversation provably
// equals its stream.

// primeWindowLocked notes, at setup, where the window may start to
// answer the session's pulls: after each conversation's last message at
// login. What came before may be hidden from the user (hidden, cleared,
// before a join) in ways only the store knows; what comes after can be
// hidden only by a change the session hears of (unsure), since the
// session was registered for its user's events before the store was
// read. s.mu is held.
func (s *session) primeWindowLocked(convs []imgate.ConvState) {
	for _, c := range convs {
		s.winFrom[c.Conv] = c.LastSeq
		s.hearLocked(c.Conv, c.LastSeq)
	}
	for g := range s.groups {
		// Groups without messages yet: all of them is after the join.
		if conv := (imgate.Conv{Kind: imgate.ConvGroup, Peer: g}); s.cursors[conv] != nil {
			if _, ok := s.winFrom[conv]; !ok {
				s.winFrom[conv] = 0
			}
		}
	}
}

// windowFromLocked is the Seq after which the window may answer the
// session's pulls of conv, or false when the session cannot tell that
// its user sees the conversation's stream there: before setup loaded
// the conversations, after a Resync or a dropped event (events about
// hides may be lost), after a hide or clear it heard of, and in a group
// it joined (or that changed) since login. A chat the session has no
// mark for began after login. s.mu is held.
func (s *session) windowFromLocked(conv imgate.Conv) (int64, bool) {
	if !s.primed || s.unsureOf[conv] || s.winEpoch != s.srv.hub.epoch() {
		return 0, false
	}
	from, ok := s.winFrom[conv]
	if !ok && conv.Kind == imgate.ConvChat {
		return 0, true
	}
	return from, ok
}

// hearLocked notes that conv has messages through seq. s.mu is held.
func (s *session) hearLocked(conv imgate.Conv, seq int64) {
	s.heard[conv] = max(s.heard[conv], seq)
}

// epoch counts what makes sessions stop trusting the window for good:
// Resyncs, and events the bus dropped without one (delivery.RedisBus
// drops when a queue is full): a lost event can be a hide or a clear no
// session hears of.
func (h *Hub) epoch() int64 {
	n := int64(h.window.Load().generation())
	if b, ok := h.bus.(interface{ Stats() delivery.RedisStats }); ok {
		n += b.Stats().Dropped
	}
	return n
}

// unsure stops the window from answering the session's pulls of conv:
// what its user sees of it changed.
func (s *session) unsure(conv imgate.Conv) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unsureOf[conv] = true
}

// deliverHides passes a Hides event to the sessions of its users.
func (h *Hub) deliverHides(e *delivery.Event) {
	for _, u := range e.Users {
		for _, s := range h.sessions(e.App, u) {
			s.news.Add(1)
			s.unsure(e.ConvFor(s.user))
		}
	}
}

// deletes tells whether a Live event hides a message from its user (the
// DELETE operation).
func deletes(e *delivery.Event) bool {
	for _, m := range e.Metas {
		var body xsync.MessageBody
		if proto.Unmarshal(m.Payload, &body) == nil && body.Type == xsync.MessageBody_OPER &&
			body.Operation.GetType() == xsync.MessageOperation_DELETE {
			return true
		}
	}
	return false
}
