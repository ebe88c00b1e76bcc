package gateway_test

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/delivery"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/metrics"
)

// countingStore counts the forward pulls that reach the store.
type countingStore struct {
	imgate.Store
	reads atomic.Int64
}

func (c *countingStore) Messages(ctx context.Context, appID string, user int64, conv imgate.Conv, after int64, limit int) ([]imgate.Message, error) {
	c.reads.Add(1)
	return c.Store.Messages(ctx, appID, user, conv, after, limit)
}

func (c *countingStore) MessagesSinceRead(ctx context.Context, appID string, user int64, conv imgate.Conv, limit int) ([]imgate.Message, error) {
	c.reads.Add(1)
	return c.Store.MessagesSinceRead(ctx, appID, user, conv, limit)
}

// rawDevice is a logged-in connection the test reads frame by frame; it
// keeps the conversation metas it was sent, by id, as an app does.
type rawDevice struct {
	t    *testing.T
	c    *client.Conn
	uid  uint64
	view map[uint64]map[uint64]*xsync.Meta // by conversation, by id
}

func (s *server) raw(uid uint64, tok, guid string) *rawDevice {
	c, _ := s.login(uid, 0, tok, guid)
	return &rawDevice{t: s.t, c: c, uid: uid, view: map[uint64]map[uint64]*xsync.Meta{}}
}

// until reads frames until one that match takes, and returns it.
func (d *rawDevice) until(what string, match func(proto.Message) bool) proto.Message {
	d.t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, msg, err := d.c.Recv(c)
		if err != nil {
			d.t.Fatalf("device %d waiting for %s: %v", d.uid, what, err)
		}
		if dl, ok := msg.(*xsync.SyncDL); ok && dl.ClientMid == 0 && dl.Xid.GetUid() != 0 {
			d.keep(dl)
		}
		if match(msg) {
			return msg
		}
	}
}

func (d *rawDevice) keep(dl *xsync.SyncDL) {
	conv := d.view[dl.Xid.GetUid()]
	if conv == nil {
		conv = map[uint64]*xsync.Meta{}
		d.view[dl.Xid.GetUid()] = conv
	}
	for _, m := range dl.Metas {
		conv[m.Id] = m
	}
}

// pushed waits for a push of the message id in conversation peer.
func (d *rawDevice) pushed(peer, id uint64) {
	d.t.Helper()
	d.until(fmt.Sprintf("push of %d", id), func(msg proto.Message) bool {
		dl, ok := msg.(*xsync.SyncDL)
		if !ok || !dl.IsEagerSync || dl.Xid.GetUid() != peer {
			return false
		}
		for _, m := range dl.Metas {
			if m.Id == id {
				return true
			}
		}
		return false
	})
}

// noticed waits for a NOTICE of conversation peer.
func (d *rawDevice) noticed(peer uint64) {
	d.t.Helper()
	d.until(fmt.Sprintf("NOTICE of %d", peer), func(msg proto.Message) bool {
		n, ok := msg.(*xsync.Notice)
		return ok && n.Xid.GetUid() == peer
	})
}

// pull pulls conversation peer after key (0: after the cursor) and
// returns the answer.
func (d *rawDevice) pull(peer, key uint64) *xsync.SyncDL {
	d.t.Helper()
	if err := d.c.Send(ctx(d.t), xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: peer}, Key: key}); err != nil {
		d.t.Fatal(err)
	}
	return d.until(fmt.Sprintf("pull of %d", peer), func(msg proto.Message) bool {
		dl, ok := msg.(*xsync.SyncDL)
		return ok && !dl.IsEagerSync && dl.ClientMid == 0 && dl.Xid.GetUid() == peer
	}).(*xsync.SyncDL)
}

// windowCase is a server whose window and store reads the test watches.
type windowCase struct {
	*server
	st  *countingStore
	mem func() float64 // pulls answered from memory so far
}

func startWindow(t *testing.T, open opener) *windowCase {
	reg, m := metrics.NewRegistry()
	st := &countingStore{Store: open(t)}
	s := start(t, st, gateway.Config{Metrics: m})
	return &windowCase{server: s, st: st, mem: func() float64 {
		return gateway.Gathered(t, reg, "imgate_pulls_total", map[string]string{"source": "memory"})
	}}
}

// inject stores a message without delivering it and hands its event to
// the window alone: a message another node committed, whose event this
// node's window saw on one stream and the device's session did not (yet).
func (w *windowCase) inject(from, to uint64, kind imgate.ConvKind, content string) imgate.Message {
	w.t.Helper()
	typ := imgate.TypeChat
	if kind == imgate.ConvGroup {
		typ = imgate.TypeGroupChat
	}
	out, _, err := w.st.AppendMessages(context.Background(), []imgate.Message{{
		AppID: "app", Kind: kind, From: int64(from), To: int64(to), Type: typ, Content: content, At: time.Now(),
	}})
	if err != nil {
		w.t.Fatal(err)
	}
	m := out[0]
	gateway.FeedWindow(w.gw, &delivery.Event{
		Kind: delivery.Stored, App: "app", Conv: m.ConvOf(m.From), From: m.From,
		FirstSeq: m.Seq, LastSeq: m.Seq, LastID: m.ID, Metas: []*xsync.Meta{delivery.MetaOf(m)},
	})
	return m
}

// wantStore fails unless the answer is, meta for meta, the store's list
// of user's conversation after the message id after.
func (w *windowCase) wantStore(dl *xsync.SyncDL, user uint64, conv imgate.Conv, after int64) {
	w.t.Helper()
	msgs, err := w.st.Store.Messages(context.Background(), "app", int64(user), conv, after, 101)
	if err != nil {
		w.t.Fatal(err)
	}
	if dl.Status.GetCode() != xsync.Status_OK || dl.NextKey != 0 || len(dl.Metas) != len(msgs) {
		w.t.Fatalf("pull answered %v; the store has %d messages after %d", dl, len(msgs), after)
	}
	for i, m := range msgs {
		if want := delivery.MetaOf(m); !proto.Equal(dl.Metas[i], want) {
			w.t.Errorf("meta %d: got %v, the store's is %v", i, dl.Metas[i], want)
		}
	}
}

// wantView fails unless the device holds, for each message the store
// lists to it, that message as stored or the operation that changed it,
// and nothing the store does not list.
func (w *windowCase) wantView(d *rawDevice, peer uint64, conv imgate.Conv) {
	w.t.Helper()
	msgs, err := w.st.Store.Messages(context.Background(), "app", int64(d.uid), conv, 0, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	view := d.view[peer]
	changed := map[uint64]bool{}
	stored := map[uint64]bool{}
	for _, m := range msgs {
		stored[uint64(m.ID)] = true
		if m.Op != 0 {
			changed[uint64(m.OpMID)] = true
		}
	}
	for _, m := range msgs {
		got, ok := view[uint64(m.ID)]
		switch {
		case !ok:
			w.t.Errorf("device %d lacks message %d (%q)", d.uid, m.ID, m.Content)
		case !changed[uint64(m.ID)] && !proto.Equal(got, delivery.MetaOf(m)):
			w.t.Errorf("device %d holds message %d as %v, the store as %v", d.uid, m.ID, got, delivery.MetaOf(m))
		}
	}
	for id, m := range view {
		var b xsync.MessageBody
		if !stored[id] && (proto.Unmarshal(m.Payload, &b) != nil || b.Type != xsync.MessageBody_OPER) {
			w.t.Errorf("device %d holds message %d, which the store does not list to it", d.uid, id)
		}
	}
}

// fromMemory runs pull and fails unless the window answered it without
// the store; fromStore, unless the store did.
func (w *windowCase) fromMemory(pull func() *xsync.SyncDL) *xsync.SyncDL {
	w.t.Helper()
	reads, mem := w.st.reads.Load(), w.mem()
	dl := pull()
	if got := w.st.reads.Load() - reads; got != 0 || w.mem() != mem+1 {
		w.t.Fatalf("pull: %d store reads, %v memory answers; want 0 and 1", got, w.mem()-mem)
	}
	return dl
}

func (w *windowCase) fromStore(pull func() *xsync.SyncDL) *xsync.SyncDL {
	w.t.Helper()
	reads, mem := w.st.reads.Load(), w.mem()
	dl := pull()
	if w.st.reads.Load() == reads || w.mem() != mem {
		w.t.Fatalf("pull: %d store reads, %v memory answers; want some and 0", w.st.reads.Load()-reads, w.mem()-mem)
	}
	return dl
}

func TestWindowChat(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		w := startWindow(t, open)
		alice, atok := w.user("alice")
		bob, btok := w.user("bob")
		a := w.device(alice, atok, "a", false)
		b := w.raw(bob, btok, "b") // online before the chat began
		chat := imgate.Conv{Kind: imgate.ConvChat, Peer: int64(alice)}
		say := func(content string) uint64 { return a.send(t, bob, text(xsync.MessageBody_CHAT, content)).ServerMid }

		// Pushed messages. A pull of the device's own, with nothing it
		// was told of past its cursor, is the store's to answer: only the
		// store knows of a message whose event this node missed.
		var last uint64
		for i := range 3 {
			last = say(fmt.Sprint("m", i))
			b.pushed(alice, last)
		}
		if dl := w.fromStore(func() *xsync.SyncDL { return b.pull(alice, 0) }); len(dl.Metas) != 0 {
			t.Fatalf("pull after every push: %v", dl)
		}
		// A message the session missed and the window holds: the NOTICE's
		// pull is answered from memory, as the store answers it.
		w.inject(alice, bob, imgate.ConvChat, "from elsewhere")
		next := say("after it")
		b.noticed(alice)
		w.wantStore(w.fromMemory(func() *xsync.SyncDL { return b.pull(alice, 0) }), bob, chat, int64(last))
		last = next

		// Recall and edit of a message the window holds: the window
		// drops what it holds, the pull reads the changed message.
		for _, op := range []xsync.MessageOperation_Type{xsync.MessageOperation_RECALL, xsync.MessageOperation_REPLACE} {
			m := w.inject(alice, bob, imgate.ConvChat, "to change")
			body := oper(op, uint64(m.ID), bob)
			body.Content = "changed"
			a.send(t, bob, body)
			b.noticed(alice)
			dl := w.fromStore(func() *xsync.SyncDL { return b.pull(alice, 0) })
			w.wantStore(dl, bob, chat, int64(last))
			last = dl.Metas[len(dl.Metas)-1].Id
		}
		// Back in memory once messages continue.
		w.inject(alice, bob, imgate.ConvChat, "again")
		next = say("and again")
		b.noticed(alice)
		w.wantStore(w.fromMemory(func() *xsync.SyncDL { return b.pull(alice, 0) }), bob, chat, int64(last))
		last = next

		// Bob deletes, on his other device, a message this one was not
		// sent yet: his view is no longer the stream, his pulls go to
		// the store, which hides it; alice still has it.
		hidden := w.inject(alice, bob, imgate.ConvChat, "bob deletes this")
		b2 := w.device(bob, btok, "b2", false)
		b2.send(t, alice, oper(xsync.MessageOperation_DELETE, uint64(hidden.ID), alice))
		say("after the delete")
		b.noticed(alice)
		w.wantStore(w.fromStore(func() *xsync.SyncDL { return b.pull(alice, 0) }), bob, chat, int64(last))
		if ms, _ := w.st.Store.Messages(context.Background(), "app", int64(alice), imgate.Conv{Kind: imgate.ConvChat, Peer: int64(bob)}, hidden.ID-1, 1); len(ms) != 1 || ms[0].ID != hidden.ID {
			t.Errorf("alice's list lost the message bob deleted: %v", ms)
		}
		w.wantView(b, alice, chat)
	})
}

func TestWindowClearedConversation(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		w := startWindow(t, open)
		alice, atok := w.user("alice")
		bob, btok := w.user("bob")
		a := w.device(alice, atok, "a", false)
		b := w.raw(bob, btok, "b")
		chat := imgate.Conv{Kind: imgate.ConvChat, Peer: int64(alice)}
		last := a.send(t, bob, text(xsync.MessageBody_CHAT, "one")).ServerMid
		b.pushed(alice, last)
		// Bob clears the conversation over REST (with a message his
		// session was not sent yet in the window): his pulls stop
		// showing what the clear hid.
		w.inject(alice, bob, imgate.ConvChat, "cleared")
		headers := map[string]string{"app_id": "app", "access-token": btok}
		if code, data := w.rest("DELETE", "/message/conversation?conversation_id="+url.QueryEscape(jsonNum(alice)), headers, ""); code != 200 {
			t.Fatalf("clear: %d %s", code, data)
		}
		a.send(t, bob, text(xsync.MessageBody_CHAT, "after the clear"))
		b.noticed(alice)
		dl := w.fromStore(func() *xsync.SyncDL { return b.pull(alice, 0) })
		w.wantStore(dl, bob, chat, int64(last))
		if len(dl.Metas) != 1 {
			t.Errorf("pull after the clear: %d metas, want the one after it", len(dl.Metas))
		}
	})
}

func TestWindowGroupJoin(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		w := startWindow(t, open)
		alice, atok := w.user("alice")
		bob, btok := w.user("bob")
		carol, ctok := w.user("carol")
		g := w.createGroup(atok, bob)
		conv := imgate.Conv{Kind: imgate.ConvGroup, Peer: int64(g)}
		a := w.device(alice, atok, "a", false)
		b := w.raw(bob, btok, "b")
		c := w.raw(carol, ctok, "c") // online, not a member yet
		say := func(content string) uint64 {
			return a.send(t, g, text(xsync.MessageBody_GROUPCHAT, content)).ServerMid
		}
		first := say("before carol")
		b.pushed(g, first)
		w.inject(alice, g, imgate.ConvGroup, "before carol, elsewhere")

		// Carol joins while online; what she may see is the store's to
		// say: her pulls of the group go to the store.
		headers := map[string]string{"app_id": "app", "access-token": w.admin}
		if code, data := w.rest("POST", "/group/invite", headers, `{"group_id":`+jsonNum(g)+`,"user_list":[`+jsonNum(carol)+`]}`); code != 200 {
			t.Fatalf("invite: %d %s", code, data)
		}
		c.noticed(g)
		w.fromStore(func() *xsync.SyncDL { return c.pull(g, 0) })
		w.inject(alice, g, imgate.ConvGroup, "after carol joined, elsewhere")
		after := say("after carol joined")
		c.until("carol's news of the group", func(msg proto.Message) bool {
			if n, ok := msg.(*xsync.Notice); ok && n.Xid.GetUid() == g {
				w.fromStore(func() *xsync.SyncDL { return c.pull(g, 0) })
			}
			return c.view[g][after] != nil
		})
		w.wantView(c, g, conv)
		// With a cursor now, her session still cannot tell what the join
		// hid: the store answers.
		w.inject(alice, g, imgate.ConvGroup, "more, elsewhere")
		say("more")
		c.noticed(g)
		w.fromStore(func() *xsync.SyncDL { return c.pull(g, 0) })
		w.wantView(c, g, conv)

		// Carol logs in again: from her login on, the window may answer.
		c2 := w.raw(carol, ctok, "c2")
		w.inject(alice, g, imgate.ConvGroup, "after carol's login, elsewhere")
		say("after carol's login")
		c2.noticed(g)
		dl := w.fromStore(func() *xsync.SyncDL { return c2.pull(g, 0) }) // from her read position
		w.wantView(c2, g, conv)
		w.inject(alice, g, imgate.ConvGroup, "later, elsewhere")
		say("later")
		c2.noticed(g)
		w.wantStore(w.fromMemory(func() *xsync.SyncDL { return c2.pull(g, 0) }), carol, conv, int64(dl.Metas[len(dl.Metas)-1].Id))
		w.wantView(c2, g, conv)
	})
}
