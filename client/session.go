package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate/gateway/xsync"
)

// Session runs a logged-in Conn the way an app does: it answers NOTICEs
// and next_keys with pulls, keeps what it receives by conversation
// (dropping metas it already has, by id, and counting them), and matches
// send answers to sends. Start it after Login.
type Session struct {
	conn *Conn
	// Keys makes pulls carry the id of the last meta held for the
	// conversation, as a careful client does; without it pulls send key 0
	// and rely on the server's cursor, as MaxIM's SDKs do.
	keys bool

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	convs   map[uint64][]*xsync.Meta
	seen    map[uint64]bool
	own     map[uint64]bool // ids of what this device sent
	dups    int
	notices []*xsync.Meta
	acks    map[uint64]chan *xsync.SyncDL
	unread  []*xsync.UnreadDL
	err     error // why the read loop ended
	done    chan struct{}
	nextMID uint64
}

// Start runs the session's read loop until the connection ends. keys
// selects pulls with explicit keys (see Session).
func Start(conn *Conn, keys bool) *Session {
	s := &Session{
		conn: conn, keys: keys, changed: make(chan struct{}), convs: map[uint64][]*xsync.Meta{},
		seen: map[uint64]bool{}, own: map[uint64]bool{}, acks: map[uint64]chan *xsync.SyncDL{}, done: make(chan struct{}),
		// Client ids as MaxIM's SDKs make them: a millisecond timestamp
		// and a counter, unique across a user's devices in practice.
		nextMID: uint64(time.Now().UnixMilli()) * 1000,
	}
	go s.read()
	return s
}

// Conn is the session's connection.
func (s *Session) Conn() *Conn { return s.conn }

func (s *Session) read() {
	ctx := context.Background()
	for {
		cmd, msg, err := s.conn.Recv(ctx)
		if err != nil {
			s.mu.Lock()
			s.err = err
			s.changedLocked()
			s.mu.Unlock()
			close(s.done)
			return
		}
		s.handle(ctx, cmd, msg)
	}
}

func (s *Session) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Session) handle(ctx context.Context, cmd xsync.Frame_Command, msg proto.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changedLocked()
	switch m := msg.(type) {
	case *xsync.Notice:
		go s.Pull(ctx, m.Xid.GetUid(), s.keyLocked(m.Xid.GetUid()))
	case *xsync.UnreadDL:
		s.unread = append(s.unread, m)
	case *xsync.SyncDL:
		if m.ClientMid != 0 {
			if m.ServerMid != 0 {
				// What this device sent is in its conversation already,
				// as an app shows it; a pull returning it is no news.
				s.seen[m.ServerMid], s.own[m.ServerMid] = true, true
			}
			if ch := s.acks[m.ClientMid]; ch != nil {
				ch <- m
				delete(s.acks, m.ClientMid)
			}
			return
		}
		if m.IsFullSync {
			return
		}
		uid := m.Xid.GetUid()
		for _, meta := range m.Metas {
			if uid == 0 || meta.Ns != xsync.Meta_MESSAGE {
				s.notices = append(s.notices, meta)
				continue
			}
			if s.seen[meta.Id] {
				if !s.own[meta.Id] {
					s.dups++
				}
				continue
			}
			s.seen[meta.Id] = true
			s.convs[uid] = append(s.convs[uid], meta)
		}
		if m.NextKey != 0 {
			go s.Pull(ctx, uid, m.NextKey)
		}
	}
}

// keyLocked is the key of the next pull of a conversation.
func (s *Session) keyLocked(uid uint64) uint64 {
	if !s.keys {
		return 0
	}
	var last uint64
	for _, m := range s.convs[uid] {
		if !live(m) {
			last = max(last, m.Id)
		}
	}
	return last
}

// live tells a pushed operation that is not stored in the conversation
// (read receipts, deliveries, deletions): its id is the operating
// client's, not a server_mid, so it is no key to pull after.
func live(m *xsync.Meta) bool {
	var b xsync.MessageBody
	if proto.Unmarshal(m.Payload, &b) != nil || b.Type != xsync.MessageBody_OPER {
		return false
	}
	switch b.Operation.GetType() {
	case xsync.MessageOperation_RECALL, xsync.MessageOperation_APPEND, xsync.MessageOperation_REPLACE:
		return false
	}
	return true
}

// Pull asks for a conversation's metas after key (0: after the server's
// cursor for this device).
func (s *Session) Pull(ctx context.Context, uid, key uint64) error {
	return s.conn.Send(ctx, xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: uid}, Key: key})
}

// Unread sends the heartbeat; its answers collect in Unreads.
func (s *Session) Unread(ctx context.Context) error {
	return s.conn.Send(ctx, xsync.Frame_UNREAD, &xsync.UnreadUL{})
}

// ErrNoAnswer is returned by Send when the connection ended first.
var ErrNoAnswer = errors.New("client: connection ended before the answer")

// Send sends a message (or an operation) with a new client id and waits
// for the server's answer: a SyncDL with client_mid and, if stored,
// server_mid; a refusal carries a Status other than OK.
func (s *Session) Send(ctx context.Context, from *xsync.XID, to uint64, body *xsync.MessageBody) (*xsync.SyncDL, error) {
	s.mu.Lock()
	s.nextMID++
	mid := s.nextMID
	s.mu.Unlock()
	return s.SendAs(ctx, mid, from, to, body)
}

// SendAs is Send with the client id given, to test resends.
func (s *Session) SendAs(ctx context.Context, mid uint64, from *xsync.XID, to uint64, body *xsync.MessageBody) (*xsync.SyncDL, error) {
	return s.sendMeta(ctx, mid, from, to, xsync.Meta_MESSAGE, body)
}

// DeleteConversation deletes the conversation with a user or group for
// the user, as MaxIM's SDKs do (a CONVERSATION meta), and waits for the
// server's answer.
func (s *Session) DeleteConversation(ctx context.Context, from *xsync.XID, conv uint64, everywhere bool) (*xsync.SyncDL, error) {
	typ := xsync.Conversation_Operation_DELETE
	if everywhere {
		typ = xsync.Conversation_Operation_DELETE_EVERYWHERE
	}
	s.mu.Lock()
	s.nextMID++
	mid := s.nextMID
	s.mu.Unlock()
	return s.sendMeta(ctx, mid, from, from.GetUid(), xsync.Meta_CONVERSATION, &xsync.Conversation{
		Type: xsync.Conversation_OPER, Operation: &xsync.Conversation_Operation{Type: typ, Xid: &xsync.XID{Uid: conv}},
	})
}

// sendMeta sends a meta of the namespace with the payload and waits for
// the server's answer.
func (s *Session) sendMeta(ctx context.Context, mid uint64, from *xsync.XID, to uint64, ns xsync.Meta_NameSpace, body proto.Message) (*xsync.SyncDL, error) {
	payload, err := proto.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("client: encode body: %w", err)
	}
	ch := make(chan *xsync.SyncDL, 1)
	s.mu.Lock()
	s.acks[mid] = ch
	s.mu.Unlock()
	err = s.conn.Send(ctx, xsync.Frame_SYNC, &xsync.SyncUL{Meta: &xsync.Meta{
		Id: mid, From: from, To: &xsync.XID{Uid: to}, Ns: ns, Payload: payload,
	}})
	if err != nil {
		return nil, err
	}
	select {
	case dl := <-ch:
		return dl, nil
	case <-s.done:
		return nil, ErrNoAnswer
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Wait waits until cond, called under the session's lock with what it
// holds, is true, or the connection ends, or ctx ends.
func (s *Session) Wait(ctx context.Context, cond func(v View) bool) error {
	for {
		s.mu.Lock()
		ok := cond(View{s})
		ch, err := s.changed, s.err
		s.mu.Unlock()
		if ok {
			return nil
		}
		if err != nil {
			return fmt.Errorf("client: connection ended: %w", err)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// View reads a session's state inside Wait and Read.
type View struct{ s *Session }

// Conv is the metas received in a conversation (a peer or a group), in
// the order received, each once.
func (v View) Conv(uid uint64) []*xsync.Meta { return v.s.convs[uid] }

// Dups counts metas received again after the first time.
func (v View) Dups() int { return v.s.dups }

// Notices is the notice metas (group, roster and user) received.
func (v View) Notices() []*xsync.Meta { return v.s.notices }

// Unreads is the heartbeat answers received.
func (v View) Unreads() []*xsync.UnreadDL { return v.s.unread }

// Err is why the connection ended, nil while it runs.
func (v View) Err() error { return v.s.err }

// Read calls fn with the session's state.
func (s *Session) Read(fn func(v View)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(View{s})
}

// Done is closed when the connection has ended.
func (s *Session) Done() <-chan struct{} { return s.done }
