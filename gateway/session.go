package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway/xsync"
)

var errUnsupported = errors.New("compressed or encrypted frames are not supported")

// session is one logged-in connection: one reader goroutine (run), and a
// writer goroutine while something is queued (writer.go).
type session struct {
	srv   *Server
	conn  transport
	codec codec
	w     *writer

	id string // unique across nodes: presence and kicks name sessions by it

	// Set by login, read-only after.
	app     string
	user    int64
	sn      uint32
	guid    string
	tokenID string
	// tokenExpires is when the login's token expires; zero: never, or a
	// password login (see Server.WatchTokens).
	tokenExpires time.Time
	since        time.Time // when the login was accepted
	release      func()    // gives back the login slot, once setup is done
	device       imgate.Device

	state *imgate.LoginState // read by login for setup, which drops it

	// news counts the events the hub handed the session and the metas its
	// client sent: while it is 0, the unread counts the login read are
	// the user's, and the first UNREAD is answered from them
	// (loginUnreads, set by setup) instead of the store.
	news         atomic.Int64
	loginUnreads []imgate.Unread

	// ctx ends when the session stops; work the session starts on its
	// own (notice fetches) runs under it.
	ctx    context.Context
	cancel context.CancelFunc

	limiter *rate.Limiter // sends and operations from the client
	// unreads bounds the heartbeats (UNREAD), each a store read: MaxIM's
	// SDKs send one at login and one every 50 s.
	unreads *rate.Limiter

	// Delivery state, guarded by mu (held only for map work and enqueues).
	mu           sync.Mutex
	groupsReady  bool                    // setup has routed the user's groups to the session
	noticeWanted bool                    // a notice fetch was asked for before that
	settled      bool                    // setup has loaded the cursors (or failed to)
	primed       bool                    // cursors loaded after login
	pending      []*delivery.Event       // Stored events that came before setup settled
	cursors      map[imgate.Conv]*cursor // what the session was sent, by conversation
	noticed      map[imgate.Conv]bool    // NOTICE sent, not pulled yet
	groups       map[int64]bool          // groups routed to the session
	noticeSent   int64                   // Seq of the last notice queued
	noticeSaved  int64                   // Seq of the notice cursor last stored
	fetching     bool                    // a notice fetch runs
	fetchAgain   bool                    // and must run once more
	// What the window may answer (window.go): after which Seq, by
	// conversation (set up at login), the conversations whose view
	// changed since, and the hub's epoch when the session began;
	// and the last Seq of each conversation the session was told of
	// (pushed, noticed, or at login its last), through which a pull must
	// be answered.
	winFrom  map[imgate.Conv]int64
	unsureOf map[imgate.Conv]bool
	winEpoch int64
	heard    map[imgate.Conv]int64

	stopOnce sync.Once
	reason   closeReason
	detail   string // replaces the reason's close text when set
}

func newSession(srv *Server, conn transport, c codec) *session {
	s := &session{
		srv: srv, conn: conn, codec: c,
		limiter: rate.NewLimiter(rate.Limit(srv.cfg.SendRate), srv.cfg.SendBurst),
		unreads: rate.NewLimiter(unreadRate, unreadBurst),
		cursors: map[imgate.Conv]*cursor{}, noticed: map[imgate.Conv]bool{}, groups: map[int64]bool{},
		winFrom: map[imgate.Conv]int64{}, unsureOf: map[imgate.Conv]bool{}, heard: map[imgate.Conv]int64{},
		// Before the session registers for its user's events: a Resync
		// or a lost event from now on makes it trust no window.
		winEpoch: srv.hub.epoch(),
	}
	s.w = newWriter(srv.cfg.QueueBytes, srv.cfg.Metrics, conn, srv.cfg.WriteTimeout, &srv.deadlines, s.writerEnded)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	var id [8]byte
	_, _ = rand.Read(id[:])
	s.id = hex.EncodeToString(id[:])
	return s
}

// entry is the session in the shared presence.
func (s *session) entry() delivery.PresenceEntry {
	return delivery.PresenceEntry{Session: s.id, SN: s.sn, GUID: s.guid, Node: s.srv.hub.node}
}

// run logs the session in and sets it up, then serves the connection
// until the session ends in a new goroutine, and returns; ended is
// called once the session has ended. The writer owns closing: when the
// session stops it flushes what is queued and sends the close frame,
// which also ends the reader's Read (writerEnded).
//
// The reader that serves the logged-in session is a fresh goroutine, not
// the caller's: the login's store calls grow a goroutine's stack, and
// the caller's (net/http's) goroutine holds the request's buffers, both
// of which would otherwise stay with every idle connection.
func (s *session) run(ctx context.Context, appID string, ended func()) {
	loginTimer := time.AfterFunc(s.srv.cfg.LoginTimeout, func() { s.stop(closeLoginTimeout) })
	ok := s.login(ctx, appID, func() { loginTimer.Stop() })
	defer func() {
		if s.release != nil {
			s.release()
			s.release = nil
		}
	}()
	if !ok {
		<-s.w.ended // login stops the session when it fails
		s.conn.closeNow()
		ended()
		return
	}
	s.srv.cfg.Metrics.Devices.Inc()
	s.setup(s.ctx) // ends with the session, as the login's work
	go func() {
		defer ended()
		defer s.conn.closeNow()
		defer s.srv.cfg.Metrics.Devices.Dec()
		idle := time.AfterFunc(s.srv.cfg.IdleTimeout, func() { s.stop(closeIdle) })
		s.readLoop(ctx, idle)
		idle.Stop()
		s.stop(closeClient)
		<-s.w.ended // what was queued is written (or failed) before the notice cursor is saved
		s.logout(ctx)
	}()
}

// writerEnded is the writer's end, called once by its last drain: after
// a failed write it stops the session and drops the connection, which
// ends the reader's Read; after the session stopped and what was queued
// is written, it closes the connection with the session's reason.
func (s *session) writerEnded(err error) {
	if err != nil {
		s.stop(closeWriteError)
		_ = s.conn.closeNow()
		if !isClosed(err) {
			s.srv.log.Debug("write failed", "user", s.user, "err", err)
		}
		return
	}
	c := closeTable[s.reason]
	text := c.text
	if s.detail != "" {
		text = clip(s.detail, maxCloseReason)
	}
	s.conn.close(c.code, text)
}

// stop ends the session with the reason; the first reason wins.
func (s *session) stop(r closeReason) { s.stopWith(r, "") }

// stopWith ends the session with the reason and, unless empty, detail
// as the close frame's text.
func (s *session) stopWith(r closeReason, detail string) {
	s.stopOnce.Do(func() {
		s.reason, s.detail = r, detail
		s.srv.cfg.Metrics.Closed(closeTable[r].name)
		s.cancel()
		s.w.stop() // after the reason is set: the writer's end reads it
	})
}

// kick tells the client why with a UserNotice and stops the session.
func (s *session) kick(notice int) {
	s.sendUserNotice(notice)
	s.stop(closeKicked)
}

// send queues a message; a full queue stops the session as slow.
func (s *session) send(cmd xsync.Frame_Command, msg proto.Message) {
	typ, data, err := s.codec.encode(cmd, msg)
	if err != nil {
		s.srv.log.Error("encode frame", "err", err)
		return
	}
	s.enqueue(outMsg{typ: typ, data: data})
}

// sendItems queues a message that delivers items to the device.
func (s *session) sendItems(cmd xsync.Frame_Command, msg proto.Message, items *delivered) {
	typ, data, err := s.codec.encode(cmd, msg)
	if err != nil {
		s.srv.log.Error("encode frame", "err", err)
		return
	}
	s.enqueue(outMsg{typ: typ, data: data, items: items})
}

// enqueue queues an encoded message: false, and the session stops as
// slow, if the queue is full.
func (s *session) enqueue(m outMsg) bool {
	if s.w.enqueue(m) {
		return true
	}
	s.stop(closeSlow)
	return false
}

func (s *session) sendUserNotice(typ int) {
	payload, err := proto.Marshal(&xsync.UserNotice{Type: xsync.UserNotice_Type(typ)})
	if err != nil {
		return
	}
	s.send(xsync.Frame_SYNC, &xsync.SyncDL{
		Status: ok(), IsEagerSync: true, Xid: &xsync.XID{Uid: uint64(s.user)},
		Metas: []*xsync.Meta{{
			From: &xsync.XID{}, To: &xsync.XID{Uid: uint64(s.user), DeviceSN: s.sn},
			Timestamp: uint64(s.srv.now().UnixMilli()), Ns: xsync.Meta_USER_NOTICE, Payload: payload,
		}},
	})
}

func ok() *xsync.Status { return &xsync.Status{Code: xsync.Status_OK} }

// readLoop reads and serves frames until the client leaves, breaks the
// protocol, or the session stops; every frame re-arms the idle timer.
func (s *session) readLoop(ctx context.Context, idle *time.Timer) {
	for {
		idle.Reset(s.srv.cfg.IdleTimeout)
		cmd, msg, reason, err := s.read(ctx)
		if err != nil {
			s.refuse(cmd, reason, err)
			return
		}
		s.serveAside(ctx, cmd, msg)
	}
}

// serveAside serves a frame in a goroutine of its own and waits for it.
// Serving calls the store, whose driver (SQLite's, in Go) grows a
// goroutine's stack to tens of KiB, and a grown stack is kept until the
// garbage collector shrinks it: the reader, which spends its life waiting
// for the next frame, keeps a small one instead. Frames stay served one
// at a time, in order.
func (s *session) serveAside(ctx context.Context, cmd xsync.Frame_Command, msg proto.Message) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.serve(ctx, cmd, msg)
	}()
	<-done
}

// read reads one frame; on failure it says why the session must end.
func (s *session) read(ctx context.Context) (xsync.Frame_Command, proto.Message, closeReason, error) {
	typ, data, err := s.conn.read(ctx)
	var fe *framingError
	switch {
	case err == nil:
	case errors.As(err, &fe):
		return noCommand, nil, closeFraming, err
	case websocket.CloseStatus(err) == websocket.StatusMessageTooBig, isTooBig(err):
		return noCommand, nil, closeTooBig, err
	default:
		return noCommand, nil, closeClient, err
	}
	cmd, msg, err := s.codec.decode(typ, data)
	if err != nil {
		return cmd, nil, closeProtocol, err
	}
	return cmd, msg, closeClient, nil
}

// refuse ends the session after a failed read, answering a malformed
// frame with PB_PARSER_ERROR first.
func (s *session) refuse(cmd xsync.Frame_Command, reason closeReason, err error) {
	if reason == closeProtocol {
		code := xsync.Status_PB_PARSER_ERROR
		if errors.Is(err, errUnsupported) {
			code = xsync.Status_ENCRYPT_METHOD_UNSUPPORTED
		}
		st := &xsync.Status{Code: code, Reason: err.Error()}
		switch cmd {
		case xsync.Frame_UNREAD:
			s.send(cmd, &xsync.UnreadDL{Status: st})
		case xsync.Frame_PROVISION:
			s.send(cmd, &xsync.Provision{Status: st})
		default:
			s.send(xsync.Frame_SYNC, &xsync.SyncDL{Status: st})
		}
	}
	if reason == closeFraming {
		s.stopWith(reason, err.Error())
		return
	}
	s.stop(reason)
}

// serve answers one frame of a logged-in client.
func (s *session) serve(ctx context.Context, cmd xsync.Frame_Command, msg proto.Message) {
	switch m := msg.(type) {
	case *xsync.UnreadUL:
		if !s.unreads.Allow() {
			s.srv.cfg.Metrics.RateLimited("unread").Inc()
			s.send(xsync.Frame_UNREAD, &xsync.UnreadDL{Status: &xsync.Status{
				Code: xsync.Status_RATE_LIMIT_EXCEEDED, Reason: "too many heartbeats: at most one a second (bursts of 10)"}})
			return
		}
		s.unread(ctx)
	case *xsync.SyncUL:
		s.serveSync(ctx, m)
	case *xsync.Provision:
		s.send(xsync.Frame_PROVISION, &xsync.Provision{
			Status: &xsync.Status{Code: xsync.Status_INVALID_PARAMETER, Reason: "already logged in"},
			Xid:    &xsync.XID{Uid: uint64(s.user), DeviceSN: s.sn},
		})
	case *xsync.Notice:
		// Notices flow from server to client; one from a client means nothing.
	default:
		s.refuse(cmd, closeProtocol, fmt.Errorf("unexpected %s frame", cmd))
	}
}

// The heartbeats (UNREAD) a session may send: one a second, bursts of 10.
const (
	unreadRate  = rate.Limit(1)
	unreadBurst = 10
)

func isTooBig(err error) bool { return errors.Is(err, websocket.ErrMessageTooBig) }
