package gateway_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/auth"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/storage/embedded"
)

// gatedLogin is a real store whose second LoginState for one user (a
// first login's read of the state it starts from, once the session is
// registered and its groups routed) waits for a gate: a test can act
// while a session loads its state. For convsUser it waits before it
// reads; for groupsUser it reads, then waits, so that what it returns
// may be stale by then.
type gatedLogin struct {
	imgate.Store
	convsUser, groupsUser atomic.Int64 // whose calls wait; 0: nobody's
	calls                 atomic.Int64 // of those users, since set

	convsEntered, groupsEntered chan struct{}
	convsGate, groupsGate       chan struct{}
	convsOnce, groupsOnce       sync.Once
}

func newGatedLogin(t *testing.T) *gatedLogin {
	st, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &gatedLogin{
		Store: st, convsEntered: make(chan struct{}), groupsEntered: make(chan struct{}),
		convsGate: make(chan struct{}), groupsGate: make(chan struct{}),
	}
}

// LoginState gates the gated users' second call.
func (g *gatedLogin) LoginState(ctx context.Context, q imgate.LoginQuery) (imgate.LoginState, error) {
	convs, groups := q.User == g.convsUser.Load(), q.User == g.groupsUser.Load()
	second := (convs || groups) && g.calls.Add(1) == 2
	if second && convs {
		g.convsOnce.Do(func() { close(g.convsEntered) })
		<-g.convsGate
	}
	out, err := g.Store.LoginState(ctx, q)
	if second && groups {
		g.groupsOnce.Do(func() { close(g.groupsEntered) })
		<-g.groupsGate
	}
	return out, err
}

// loginAsync logs a new device in, in a goroutine, and hands it over
// once the login is answered; nil (and an error) if it is refused.
func (s *server) loginAsync(uid uint64, tok, guid string) <-chan *device {
	t := s.t
	logged := make(chan *device, 1)
	go func() {
		c := s.dial(client.Options{})
		p, err := c.Login(context.Background(), uid, 0, tok, guid)
		if err != nil || p.Status.GetCode() != xsync.Status_OK {
			t.Errorf("login: %v %v", p, err)
			logged <- nil
			return
		}
		logged <- &device{Session: client.Start(c, false), xid: p.Xid}
	}()
	return logged
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// settled waits until the device's session has loaded its state: the
// server answers frames only after that.
func (d *device) settled(t *testing.T) {
	t.Helper()
	var n int
	d.Read(func(v client.View) { n = len(v.Unreads()) })
	if err := d.Unread(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(ctx(t), func(v client.View) bool { return len(v.Unreads()) > n }); err != nil {
		t.Fatal(err)
	}
}

func TestOwnMessagesWhileLoggingIn(t *testing.T) {
	// A device whose session is registered gets what the user's other
	// device sends from then on, even while its session is still loading
	// its conversations (before its PROVISION is answered): the sender's
	// own message moves the user's read position, which must not swallow
	// it.
	for _, kind := range []string{"chat", "group"} {
		t.Run(kind, func(t *testing.T) {
			st := newGatedLogin(t)
			s := start(t, st, gateway.Config{})
			alice, atok := s.user("alice")
			bob, btok := s.user("bob")
			to := bob
			if kind == "group" {
				to = s.createGroup(btok, alice)
			}
			a2 := s.device(alice, atok, "a2", false)
			a2.settled(t)
			a2.send(t, to, text(map[string]xsync.MessageBody_Type{"chat": xsync.MessageBody_CHAT, "group": xsync.MessageBody_GROUPCHAT}[kind], "before"))

			st.convsUser.Store(int64(alice))
			logged := s.loginAsync(alice, atok, "a1")
			waitFor(t, st.convsEntered, "a1 loading its conversations")
			typ := xsync.MessageBody_CHAT
			if kind == "group" {
				typ = xsync.MessageBody_GROUPCHAT
			}
			mid := a2.send(t, to, text(typ, "while a1 logs in")).ServerMid
			close(st.convsGate)
			a1 := <-logged
			if a1 == nil {
				t.FailNow()
			}
			// It has the message, whether or not the older one reached it
			// too (pushed if it was still on its way when a1 logged in).
			a1.waitFor(t, to, mid, "the message sent after its login")
		})
	}
}

func TestOwnMessageOnItsWayAtLogin(t *testing.T) {
	// The user's other device sends while a1 logs in, and the message
	// reaches the node's hub only after a1 has loaded its position (as
	// one from another node does, over Redis): the read position a1
	// starts from covers it (the sender's own message moved it), but a1
	// was logged in when it was sent, and gets it by push.
	for _, kind := range []string{"chat", "group"} {
		t.Run(kind, func(t *testing.T) {
			st := newGatedLogin(t)
			held := &heldBus{}
			if err := st.CreateApp(context.Background(), imgate.App{ID: "app", Name: "app", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			s := restartBus(t, st, gateway.Config{}, auth.Config{}, func(b delivery.Bus) delivery.Bus {
				held.Bus = b
				return held
			})
			alice, atok := s.user("alice")
			bob, btok := s.user("bob")
			to, typ := bob, xsync.MessageBody_CHAT
			if kind == "group" {
				to, typ = s.createGroup(btok, alice), xsync.MessageBody_GROUPCHAT
			}
			a2 := s.device(alice, atok, "a2", false)
			a2.settled(t)
			a2.send(t, to, text(typ, "before"))

			st.convsUser.Store(int64(alice))
			logged := s.loginAsync(alice, atok, "a1")
			waitFor(t, st.convsEntered, "a1 loading its conversations")
			held.hold(true)
			mid := a2.send(t, to, text(typ, "while a1 logs in")).ServerMid
			close(st.convsGate)
			a1 := <-logged
			if a1 == nil {
				t.FailNow()
			}
			a1.settled(t) // its position loaded: setup is over
			held.hold(false)
			a1.waitFor(t, to, mid, "the message sent while it logged in")
		})
	}
}

// heldBus is a node's bus that holds the events published while told
// to, and publishes them when told to stop.
type heldBus struct {
	delivery.Bus
	mu      sync.Mutex
	holding bool
	events  []*delivery.Event
}

func (b *heldBus) Publish(ctx context.Context, e *delivery.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.holding {
		b.events = append(b.events, e)
		return nil
	}
	return b.Bus.Publish(ctx, e)
}

func (b *heldBus) hold(on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.holding = on
	if !on {
		for _, e := range b.events {
			b.Bus.Publish(context.Background(), e)
		}
		b.events = nil
	}
}

func TestGroupMessageRightAfterLogin(t *testing.T) {
	// A group message sent by the user's other device once the device has
	// its PROVISION answer reaches it, even if the session has not routed
	// the group to itself yet.
	st := newGatedLogin(t)
	s := start(t, st, gateway.Config{})
	alice, atok := s.user("alice")
	bob, btok := s.user("bob")
	_ = bob
	g := s.createGroup(btok, alice)
	a2 := s.device(alice, atok, "a2", false)
	a2.settled(t)

	st.groupsUser.Store(int64(alice))
	logged := s.loginAsync(alice, atok, "a1")
	waitFor(t, st.groupsEntered, "a1 loading its groups")
	var a1 *device
	var mid uint64
	select {
	case a1 = <-logged:
		// Logged in while its groups load: what is sent now must reach it.
		mid = a2.send(t, g, text(xsync.MessageBody_GROUPCHAT, "hello")).ServerMid
		close(st.groupsGate)
	case <-time.After(300 * time.Millisecond):
		// The login waits for its groups: send once it is answered.
		close(st.groupsGate)
		a1 = <-logged
		mid = a2.send(t, g, text(xsync.MessageBody_GROUPCHAT, "hello")).ServerMid
	}
	if a1 == nil {
		t.FailNow()
	}
	got := a1.waitConv(t, g, 1)
	if got[len(got)-1].Id != mid {
		t.Errorf("a1 got %v", contents(t, got))
	}
}

func TestKickWhileLoggingIn(t *testing.T) {
	// A member kicked while the session reads the user's groups is not
	// routed the group's messages afterwards.
	st := newGatedLogin(t)
	s := start(t, st, gateway.Config{})
	alice, atok := s.user("alice")
	bob, btok := s.user("bob")
	g := s.createGroup(atok, bob)
	a := s.device(alice, atok, "a", false)
	a.settled(t)

	st.groupsUser.Store(int64(bob))
	logged := s.loginAsync(bob, btok, "b")
	waitFor(t, st.groupsEntered, "bob's session reading its groups")
	headers := map[string]string{"app_id": "app", "access-token": atok}
	if code, data := s.rest("POST", "/group/kick", headers, `{"group_id":`+jsonNum(g)+`,"user_list":[`+jsonNum(bob)+`]}`); code != 200 {
		t.Fatalf("kick: %d %s", code, data)
	}
	time.Sleep(300 * time.Millisecond) // the kick's notice is published meanwhile
	close(st.groupsGate)
	b := <-logged
	if b == nil {
		t.FailNow()
	}
	// Bob's device learns of the kick.
	err := b.Wait(ctx(t), func(v client.View) bool {
		for _, m := range v.Notices() {
			var gn xsync.GroupNotice
			if m.Ns == xsync.Meta_GROUP_NOTICE && protoUnmarshal(m.Payload, &gn) == nil && gn.Gid == g && gn.Type == xsync.GroupNotice_KICKED {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("bob's device never got the kick: %v", err)
	}
	a.send(t, g, text(xsync.MessageBody_GROUPCHAT, "after the kick"))
	a.send(t, bob, text(xsync.MessageBody_CHAT, "and a chat"))
	b.waitConv(t, alice, 1)
	b.Read(func(v client.View) {
		if n := len(v.Conv(g)); n != 0 {
			t.Errorf("the kicked member's device got %d metas of the group: %v", n, contents(t, v.Conv(g)))
		}
	})
}

// recvPushed reads frames until a SyncDL that is not an answer to a send,
// failing on a NOTICE.
func recvPushed(t *testing.T, c *client.Conn) *xsync.SyncDL {
	t.Helper()
	for {
		_, msg, err := c.Recv(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		switch m := msg.(type) {
		case *xsync.Notice:
			t.Fatalf("got NOTICE of %d, want the message pushed", m.Xid.GetUid())
		case *xsync.SyncDL:
			if m.ClientMid == 0 {
				return m
			}
		}
	}
}

func TestReplyInNewChatPushed(t *testing.T) {
	// A device that opens a chat has its first message (the answer carried
	// its id): the reply continues what it has and is pushed, and a pull
	// does not send its own message back.
	s := embeddedServer(t, gateway.Config{})
	alice, atok := s.user("alice")
	bob, btok := s.user("bob")
	b := s.device(bob, btok, "b", false)
	b.settled(t)
	ac, sn := s.login(alice, 0, atok, "a")
	if err := ac.Send(ctx(t), xsync.Frame_UNREAD, &xsync.UnreadUL{}); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ac.Recv(ctx(t)); err != nil {
		t.Fatal(err)
	} else if _, ok := msg.(*xsync.UnreadDL); !ok {
		t.Fatalf("got %T, want UnreadDL", msg)
	}
	payload, _ := proto.Marshal(text(xsync.MessageBody_CHAT, "hi"))
	err := ac.Send(ctx(t), xsync.Frame_SYNC, &xsync.SyncUL{Meta: &xsync.Meta{
		Id: 1, From: &xsync.XID{Uid: alice, DeviceSN: sn}, To: &xsync.XID{Uid: bob}, Ns: xsync.Meta_MESSAGE, Payload: payload,
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, msg, err := ac.Recv(ctx(t))
	if dl, ok := msg.(*xsync.SyncDL); err != nil || !ok || dl.ServerMid == 0 {
		t.Fatalf("answer to the send: %v %v", msg, err)
	}
	b.waitConv(t, alice, 1)
	reply := b.send(t, alice, text(xsync.MessageBody_CHAT, "hey")).ServerMid
	if dl := recvPushed(t, ac); len(dl.Metas) != 1 || dl.Metas[0].Id != reply || !dl.IsEagerSync {
		t.Fatalf("pushed %v, want the reply", dl)
	}
	if err := ac.Send(ctx(t), xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: bob}}); err != nil {
		t.Fatal(err)
	}
	if dl := recvPushed(t, ac); len(dl.Metas) != 0 {
		t.Errorf("a pull after the reply sent %d metas again", len(dl.Metas))
	}
}

func TestKeyedDeviceRejoinsAfterLiveOperation(t *testing.T) {
	// A device pulling with explicit keys holds, in a group, a live
	// operation (a READ_ACK from the user's other device, whose id is that
	// device's client id). When the user rejoins the group the server
	// sends a NOTICE; the pull it answers with must still get the group's
	// new messages.
	s := embeddedServer(t, gateway.Config{})
	alice, atok := s.user("alice")
	bob, btok := s.user("bob")
	g := s.createGroup(atok, bob)
	a := s.device(alice, atok, "a", false)
	b1 := s.device(bob, btok, "b1", false)
	b2 := s.device(bob, btok, "b2", true)
	for _, d := range []*device{a, b1, b2} {
		d.settled(t)
	}
	m1 := a.send(t, g, text(xsync.MessageBody_GROUPCHAT, "one")).ServerMid
	b1.waitConv(t, g, 1)
	b2.waitConv(t, g, 1)
	b1.send(t, g, oper(xsync.MessageOperation_READ_ACK, m1, g))
	b2.waitOp(t, g, xsync.MessageOperation_READ_ACK, m1)

	headers := map[string]string{"app_id": "app", "access-token": atok}
	groupNotice := func(typ xsync.GroupNotice_Type) {
		t.Helper()
		err := b2.Wait(ctx(t), func(v client.View) bool {
			for _, m := range v.Notices() {
				var gn xsync.GroupNotice
				if m.Ns == xsync.Meta_GROUP_NOTICE && protoUnmarshal(m.Payload, &gn) == nil && gn.Gid == g && gn.Type == typ {
					return true
				}
			}
			return false
		})
		if err != nil {
			t.Fatalf("no %s notice: %v", typ, err)
		}
	}
	if code, data := s.rest("POST", "/group/kick", headers, `{"group_id":`+jsonNum(g)+`,"user_list":[`+jsonNum(bob)+`]}`); code != 200 {
		t.Fatalf("kick: %d %s", code, data)
	}
	groupNotice(xsync.GroupNotice_KICKED)
	if code, data := s.rest("POST", "/group/invite", headers, `{"group_id":`+jsonNum(g)+`,"user_list":[`+jsonNum(bob)+`]}`); code != 200 {
		t.Fatalf("invite: %d %s", code, data)
	}
	if _, member, _ := s.store.Member(context.Background(), "app", int64(g), int64(bob)); !member {
		t.Fatalf("bob did not rejoin %d", g)
	}
	m2 := a.send(t, g, text(xsync.MessageBody_GROUPCHAT, "two")).ServerMid
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b2.Wait(c, func(v client.View) bool {
		for _, m := range v.Conv(g) {
			if m.Id == m2 {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Errorf("the keyed device never got the message sent after it rejoined: %v", err)
	}
}

func TestEditResentOnce(t *testing.T) {
	// An APPEND resent with its client_mid (its answer was lost) answers
	// the same server_mid and appends nothing more.
	s := embeddedServer(t, gateway.Config{})
	alice, atok := s.user("alice")
	bob, _ := s.user("bob")
	a := s.device(alice, atok, "a", false)
	m1 := a.send(t, bob, text(xsync.MessageBody_CHAT, "one")).ServerMid
	edit := oper(xsync.MessageOperation_APPEND, m1, bob)
	edit.Content = ", two"
	const mid = 777
	first, err := a.SendAs(ctx(t), mid, a.xid, bob, edit)
	if err != nil || first.Status.GetCode() != xsync.Status_OK || first.ServerMid == 0 {
		t.Fatalf("APPEND: %v %v", first, err)
	}
	again, err := a.SendAs(ctx(t), mid, a.xid, bob, edit)
	if err != nil || again.Status.GetCode() != xsync.Status_OK || again.ServerMid != first.ServerMid {
		t.Errorf("APPEND resent: %v %v, want server_mid %d", again, err, first.ServerMid)
	}
	got, err := s.store.Message(context.Background(), "app", int64(m1))
	if err != nil || got.Content != "one, two" {
		t.Errorf("message after an APPEND and its resend: %q %v, want %q", got.Content, err, "one, two")
	}
}

func TestAppendKeepsSizeLimit(t *testing.T) {
	// An APPEND that would take a message over the 64 KiB of content,
	// config, attachment and ext is refused, as a send of it would be.
	s := embeddedServer(t, gateway.Config{})
	alice, atok := s.user("alice")
	bob, _ := s.user("bob")
	a := s.device(alice, atok, "a", false)
	long := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'x'
		}
		return string(b)
	}
	m1 := a.send(t, bob, text(xsync.MessageBody_CHAT, long(40<<10))).ServerMid
	edit := oper(xsync.MessageOperation_APPEND, m1, bob)
	edit.Content = long(30 << 10)
	dl, err := a.Send(ctx(t), a.xid, bob, edit)
	if err != nil || dl.Status.GetCode() != xsync.Status_INVALID_PARAMETER {
		t.Errorf("APPEND to 70 KiB: %v %v, want INVALID_PARAMETER", dl.GetStatus(), err)
	}
	if got, _ := s.store.Message(context.Background(), "app", int64(m1)); len(got.Content) != 40<<10 {
		t.Errorf("message of %d bytes after a refused APPEND", len(got.Content))
	}
}

func TestUnknownMessageTypeRefused(t *testing.T) {
	// A MessageBody type the protocol does not know is refused with
	// INVALID_PARAMETER, not stored.
	s := embeddedServer(t, gateway.Config{})
	alice, atok := s.user("alice")
	bob, _ := s.user("bob")
	a := s.device(alice, atok, "a", false)
	dl, err := a.Send(ctx(t), a.xid, bob, &xsync.MessageBody{Type: 9, Ctype: xsync.MessageBody_TEXT, Content: "?"})
	if err != nil || dl.Status.GetCode() != xsync.Status_INVALID_PARAMETER || dl.ServerMid != 0 {
		t.Errorf("a message of type 9: %v %v, want INVALID_PARAMETER", dl, err)
	}
	if h, _ := s.store.History(context.Background(), "app", int64(alice), imgate.Conv{Kind: imgate.ConvChat, Peer: int64(bob)}, 0, 10); len(h) != 0 {
		t.Errorf("stored %d messages", len(h))
	}
}

func TestChatAcrossNodesNotHeld(t *testing.T) {
	// alice is on this node, bob on another: alice's messages are this
	// node's commits, delivered as they are published; bob's come from
	// the bus narrowed to alice's channel. Both are one stream of the
	// conversation for alice's sessions: a reply must not leave the next
	// message waiting for a gap that never closes.
	s := start(t, newGatedLogin(t), gateway.Config{})
	alice, atok := s.user("alice")
	bob, _ := s.user("bob")
	a := s.device(alice, atok, "a", false)
	a.settled(t)
	chat := func(from, to uint64, seq int64, narrowed ...int64) *delivery.Event {
		return &delivery.Event{
			Kind: delivery.Stored, App: "app", Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: int64(to)}, From: int64(from),
			FirstSeq: seq, LastSeq: seq, LastID: seq, Users: narrowed,
		}
	}
	s.hub.Deliver(chat(alice, bob, 1))               // committed here
	s.hub.Deliver(chat(bob, alice, 2, int64(alice))) // on another node
	s.hub.Deliver(chat(alice, bob, 3))               // here again
	s.hub.Deliver(chat(bob, alice, 4, int64(alice))) // there
	if held, _ := gateway.Holds(s.hub); held != 0 {
		t.Errorf("%d events held for a gap in a conversation that had none", held)
	}
}

// waitFor waits until the device has the message id in the conversation
// with uid, and says what it got if it does not within 10 s.
func (d *device) waitFor(t *testing.T, uid, id uint64, what string) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []*xsync.Meta
	err := d.Wait(c, func(v client.View) bool {
		got = v.Conv(uid)
		return slices.ContainsFunc(got, func(m *xsync.Meta) bool { return m.Id == id })
	})
	if err != nil {
		t.Errorf("device %v got %v, want %s: %v", d.xid, contents(t, got), what, err)
	}
}
