package delivery

import (
	"context"
	"sync"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/gateway/xsync"
)

// EventKind tells what an Event carries.
type EventKind int

// Event kinds.
const (
	// Stored events carry messages committed to one conversation, with
	// the Seq range they cover, so that a session can tell whether it
	// missed any.
	Stored EventKind = iota + 1
	// Live events carry metas that are not part of a conversation's
	// sequence: operations whose effect is state (read positions,
	// deliveries, deletions) and online-only messages.
	Live
	// Notices events tell the users in Users that they have new notices
	// to fetch.
	Notices
	// Kicks end the sessions Kick names, wherever they are.
	Kicks
	// Hides events tell the sessions of Users that what the user sees of
	// Conv (as the user sees it) changed without a message (a cleared
	// conversation): they stop answering pulls of it from memory. Devices
	// are sent nothing.
	Hides
)

// Kick names sessions to end and the UserNotice that tells them why.
type Kick struct {
	User int64  `json:"user"`
	SN   uint32 `json:"sn,omitempty"` // 0: every device of the user
	// Session, when set, is the only session to end: one a login on
	// another node replaced.
	Session string `json:"session,omitempty"`
	// KeepToken, when set, spares the sessions logged in with this token
	// id: the device that changed the password keeps its session.
	KeepToken string `json:"keep_token,omitempty"`
	Notice    int    `json:"notice"` // an imgate.User* notice type
}

// Event is one change on the bus.
type Event struct {
	Kind EventKind
	App  string
	// Conv is the conversation of a Stored event as its sender sees it;
	// for a chat Peer is the other user, for a group the group.
	Conv imgate.Conv
	// From is the user whose action made the event; FromDevice the device
	// (0: none, e.g. REST), which is not sent its own event: it has the
	// answer to its request.
	From       int64
	FromDevice uint32
	// FirstSeq and LastSeq are the Seqs of a Stored event's first and last
	// message, LastID the id of its last.
	FirstSeq, LastSeq, LastID int64
	// Metas are what recipients are sent, in order.
	Metas []*xsync.Meta
	// Users are the recipients of a Live, Notices or Kicks event. Stored
	// events go to the conversation's users (a chat) or the group's
	// members; a Stored chat event a node received on one user's channel
	// has Users set to that user alone.
	Users []int64
	// Kick is what a Kicks event ends.
	Kick *Kick
	// Accepted is when the event's first message or operation was
	// accepted (unix nanoseconds; 0: unknown), from which the gateway
	// measures fan-out latency. Published is when a node published it on
	// the bus, set by the bus.
	Accepted, Published int64
}

// Recipients are whom a Stored event is routed to: users (both sides of a
// chat) or the members of a group.
func (e *Event) Recipients() (users []int64, group int64) {
	switch {
	case e.Kind != Stored:
		return e.Users, 0
	case e.Conv.Kind == imgate.ConvGroup:
		return nil, e.Conv.Peer
	case len(e.Users) > 0:
		return e.Users, 0
	case e.Conv.Peer == e.From:
		return []int64{e.From}, 0
	}
	return []int64{e.From, e.Conv.Peer}, 0
}

// ConvFor is the conversation of a Stored event as user sees it.
func (e *Event) ConvFor(user int64) imgate.Conv {
	if e.Conv.Kind == imgate.ConvChat && user != e.From {
		return imgate.Conv{Kind: imgate.ConvChat, Peer: e.From}
	}
	return e.Conv
}

// Router receives the events of the bus on one node and pushes them to
// the node's sessions. The gateway's Hub implements it.
type Router interface {
	Deliver(e *Event)
	// Resync is called when the bus may have lost events (it was cut off
	// from the other nodes and is back): the router must tell its sessions
	// to pull what they may have missed.
	Resync()
}

// Topic is what a node subscribes to: a user's events or a group's.
type Topic struct {
	App   string
	Group bool
	ID    int64
}

// Bus carries events to the Router of every node that has sessions of
// their recipients. Publish must not block on slow sessions.
type Bus interface {
	Publish(ctx context.Context, e *Event) error
	// Subscribe and Unsubscribe tell the bus which topics this node has
	// sessions for: the router calls them when a user's or a group's first
	// local session comes and when its last goes.
	Subscribe(t Topic)
	Unsubscribe(t Topic)
	// Ready reports whether the bus reaches the other nodes: nil, or why
	// not. Sends work either way (they are stored); pushes to other nodes
	// do not.
	Ready(ctx context.Context) error
}

// LocalBus is the bus of a single node: Publish hands the event straight
// to the node's router.
type LocalBus struct {
	mu     sync.RWMutex
	router Router
}

// NewLocalBus returns a bus delivering to router; router may be set
// later with SetRouter (the gateway is built after the core).
func NewLocalBus(router Router) *LocalBus { return &LocalBus{router: router} }

// SetRouter sets where events go.
func (b *LocalBus) SetRouter(r Router) {
	b.mu.Lock()
	b.router = r
	b.mu.Unlock()
}

// Subscribe does nothing: every event is local.
func (b *LocalBus) Subscribe(Topic) {}

// Unsubscribe does nothing.
func (b *LocalBus) Unsubscribe(Topic) {}

// Ready is always nil.
func (b *LocalBus) Ready(context.Context) error { return nil }

// Publish delivers e to the router, if any.
func (b *LocalBus) Publish(_ context.Context, e *Event) error {
	b.mu.RLock()
	r := b.router
	b.mu.RUnlock()
	if r != nil {
		r.Deliver(e)
	}
	return nil
}
