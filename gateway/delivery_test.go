package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/storage/embedded"
	"github.com/imgate/imgate/storage/postgres"
)

// opener opens the same store again and again, for restarts.
type opener func(t *testing.T) imgate.Store

// eachStore runs test on a fresh embedded store and a fresh Postgres
// database.
func eachStore(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("embedded", func(t *testing.T) {
		dir := t.TempDir()
		test(t, func(t *testing.T) imgate.Store {
			st, err := embedded.Open(context.Background(), embedded.Config{Dir: dir}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		test(t, func(t *testing.T) imgate.Store {
			st, err := postgres.Open(context.Background(), postgres.Config{DSN: dsn}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
}

// device is a logged-in session that behaves like an app.
type device struct {
	*client.Session
	xid *xsync.XID
}

// device logs in and starts a session; keys picks explicit pull keys
// (see client.Session) over the SDK's key 0.
func (s *server) device(uid uint64, tok, guid string, keys bool) *device {
	s.t.Helper()
	c, sn := s.login(uid, 0, tok, guid)
	return &device{Session: client.Start(c, keys), xid: &xsync.XID{Uid: uid, DeviceSN: sn}}
}

func text(typ xsync.MessageBody_Type, content string) *xsync.MessageBody {
	return &xsync.MessageBody{Type: typ, Ctype: xsync.MessageBody_TEXT, Content: content}
}

// send sends and fails the test unless the server stored the message.
func (d *device) send(t *testing.T, to uint64, body *xsync.MessageBody) *xsync.SyncDL {
	t.Helper()
	dl, err := d.Send(ctx(t), d.xid, to, body)
	if err != nil {
		t.Fatal(err)
	}
	if dl.Status.GetCode() != xsync.Status_OK || dl.ServerMid == 0 || dl.ServerTime == 0 {
		t.Fatalf("send to %d: %v", to, dl)
	}
	return dl
}

// waitConv waits until the device holds n metas of a conversation and
// returns them.
func (d *device) waitConv(t *testing.T, uid uint64, n int) []*xsync.Meta {
	t.Helper()
	return d.waitConvWithin(t, uid, n, 30*time.Second)
}

// waitConvWithin is waitConv with the wait's bound: a guard against a
// hang, not a timing requirement.
func (d *device) waitConvWithin(t *testing.T, uid uint64, n int, within time.Duration) []*xsync.Meta {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got []*xsync.Meta
	err := d.Wait(c, func(v client.View) bool {
		got = v.Conv(uid)
		return len(got) >= n
	})
	if err != nil {
		t.Fatalf("device %v: %d of %d metas of %d: %v", d.xid, len(got), n, uid, err)
	}
	return got
}

func bodyOf(t *testing.T, m *xsync.Meta) *xsync.MessageBody {
	t.Helper()
	var b xsync.MessageBody
	if err := proto.Unmarshal(m.Payload, &b); err != nil {
		t.Fatal(err)
	}
	return &b
}

func contents(t *testing.T, metas []*xsync.Meta) []string {
	out := make([]string, len(metas))
	for i, m := range metas {
		out[i] = bodyOf(t, m).Content
	}
	return out
}

func TestChat(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open(t), gateway.Config{})
		alice, atok := s.user("alice")
		bob, btok := s.user("bob")
		a1 := s.device(alice, atok, "a1", false)
		a2 := s.device(alice, atok, "a2", false)
		b := s.device(bob, btok, "b", false)

		var mids, cmids []uint64
		for i := range 3 {
			ack := a1.send(t, bob, text(xsync.MessageBody_CHAT, fmt.Sprint("hi ", i)))
			mids, cmids = append(mids, ack.ServerMid), append(cmids, ack.ClientMid)
		}
		if !(mids[0] < mids[1] && mids[1] < mids[2]) {
			t.Errorf("server_mids %v do not increase", mids)
		}
		// The recipient and the sender's other device get every message,
		// once, in order, pushed; the sending device only its answers.
		for _, d := range []*device{b, a2} {
			peer := alice
			if d == a2 {
				peer = bob
			}
			got := d.waitConv(t, peer, 3)
			if c := contents(t, got); fmt.Sprint(c) != "[hi 0 hi 1 hi 2]" || got[2].Id != mids[2] {
				t.Errorf("device %v got %v", d.xid, c)
			}
		}
		// A resend of a client_mid returns the first server_mid and stores
		// nothing new.
		dl, err := a1.SendAs(ctx(t), cmids[0], a1.xid, bob, text(xsync.MessageBody_CHAT, "hi 0"))
		if err != nil || dl.ServerMid != mids[0] {
			t.Errorf("resend of client_mid %d: %v %v, want server_mid %d", cmids[0], dl, err, mids[0])
		}
		hist, err := s.store.History(context.Background(), "app", int64(bob), imgate.Conv{Kind: imgate.ConvChat, Peer: int64(alice)}, 0, 10)
		if err != nil || len(hist) != 3 {
			t.Errorf("stored %d messages after a resend, want 3 (%v)", len(hist), err)
		}
		b.Read(func(v client.View) {
			if v.Dups() != 0 || len(v.Conv(alice)) != 3 {
				t.Errorf("recipient: %d metas, %d sent twice", len(v.Conv(alice)), v.Dups())
			}
		})
		// A reply reaches all of alice's devices.
		b.send(t, alice, text(xsync.MessageBody_CHAT, "hello alice"))
		a1.waitConv(t, bob, 1)
		a2.waitConv(t, bob, 4)
	})
}

// createGroup creates a group of the owner with members and returns its id.
func (s *server) createGroup(otok string, members ...uint64) uint64 {
	s.t.Helper()
	ids, _ := json.Marshal(members)
	code, data := s.rest("POST", "/group/create", map[string]string{"app_id": "app", "access-token": otok}, `{"name":"g","user_list":`+string(ids)+`}`)
	var g struct {
		GroupID uint64 `json:"group_id"`
	}
	if code != 200 || jsonUnmarshal(data, &g) != nil || g.GroupID == 0 {
		s.t.Fatalf("create group: %d %s", code, data)
	}
	return g.GroupID
}

func TestGroupConcurrentSenders(t *testing.T) {
	// Many senders into one group while several devices receive: every
	// device ends with every message exactly once, in the same order,
	// which is the order of the ids.
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open(t), gateway.Config{SendRate: 1e6, SendBurst: 1000})
		const senders, each = 6, 40
		var uids []uint64
		var toks []string
		for i := range senders {
			uid, tok := s.user(fmt.Sprint("u", i))
			uids, toks = append(uids, uid), append(toks, tok)
		}
		g := s.createGroup(toks[0], uids[1:]...)
		// Receivers: an SDK-like device of u1, a keyed device of u2, and
		// each sender's own device (which sees the others' messages).
		watchers := []*device{s.device(uids[1], toks[1], "w1", false), s.device(uids[2], toks[2], "w2", true)}
		var wg sync.WaitGroup
		for i := range senders {
			d := s.device(uids[i], toks[i], "s", false)
			watchers = append(watchers, d)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range each {
					dl, err := d.Send(context.Background(), d.xid, g, text(xsync.MessageBody_GROUPCHAT, fmt.Sprintf("%d/%d", i, j)))
					if err != nil || dl.Status.GetCode() != xsync.Status_OK {
						t.Errorf("sender %d: %v %v", i, dl, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		total := senders * each
		var want []string
		for i, w := range watchers[:2] {
			got := w.waitConv(t, g, total)
			for k := 1; k < len(got); k++ {
				if got[k].Id <= got[k-1].Id {
					t.Fatalf("watcher %d: meta %d has id %d after %d", i, k, got[k].Id, got[k-1].Id)
				}
			}
			c := contents(t, got)
			if want == nil {
				want = c
			} else if fmt.Sprint(c) != fmt.Sprint(want) {
				t.Errorf("watchers disagree on the order")
			}
			w.Read(func(v client.View) {
				if v.Dups() != 0 {
					t.Errorf("watcher %d got %d metas twice", i, v.Dups())
				}
			})
		}
		// Each sender's device has everyone else's messages.
		for i, d := range watchers[2:] {
			d.waitConv(t, g, total-each)
			d.Read(func(v client.View) {
				if v.Dups() != 0 || len(v.Conv(g)) != total-each {
					t.Errorf("sender %d holds %d metas (%d twice), want %d", i, len(v.Conv(g)), v.Dups(), total-each)
				}
			})
		}
	})
}

func TestOfflineAcrossRestart(t *testing.T) {
	// A device offline while 1,000 messages arrive gets them all, once,
	// in order, when it reconnects after the server restarted.
	eachStore(t, func(t *testing.T, open opener) {
		cfg := gateway.Config{SendRate: 1e6, SendBurst: 2000}
		s := start(t, open(t), cfg)
		alice, atok := s.user("alice")
		bob, btok := s.user("bob")
		b := s.device(bob, btok, "b", false)
		sn := b.xid.DeviceSN
		b.Conn().Close()
		<-b.Done()
		a := s.device(alice, atok, "a", false)
		const n = 1000
		var wg sync.WaitGroup
		mids := make([]uint64, n)
		for w := range 4 { // four pipelines, as a busy app would
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 4 {
					dl, err := a.Send(context.Background(), a.xid, bob, text(xsync.MessageBody_CHAT, fmt.Sprint(i)))
					if err != nil || dl.Status.GetCode() != xsync.Status_OK {
						t.Errorf("send %d: %v %v", i, dl, err)
						return
					}
					mids[i] = dl.ServerMid
				}
			}()
		}
		wg.Wait()
		s.stop()

		s = restart(t, open(t), cfg)
		c, again := s.login(bob, sn, btok, "b")
		if again != sn {
			t.Fatalf("reconnect got deviceSN %d, want %d", again, sn)
		}
		d := &device{Session: client.Start(c, false), xid: &xsync.XID{Uid: bob, DeviceSN: sn}}
		if err := d.Unread(ctx(t)); err != nil {
			t.Fatal(err)
		}
		var unread *xsync.UnreadDL
		d.Wait(ctx(t), func(v client.View) bool {
			if u := v.Unreads(); len(u) > 0 {
				unread = u[0]
			}
			return unread != nil
		})
		if len(unread.Unread) != 1 || unread.Unread[0].N != n {
			t.Fatalf("UNREAD after restart: %v, want %d from alice", unread, n)
		}
		// As the SDK does: pull each conversation UNREAD names, key 0.
		if err := d.Pull(ctx(t), alice, 0); err != nil {
			t.Fatal(err)
		}
		got := d.waitConv(t, alice, n)
		ids := map[uint64]bool{}
		for i, m := range got {
			ids[m.Id] = true
			if i > 0 && m.Id <= got[i-1].Id {
				t.Fatalf("meta %d out of order", i)
			}
		}
		for i, mid := range mids {
			if !ids[mid] {
				t.Fatalf("message %d (%d) never arrived", i, mid)
			}
		}
		d.Read(func(v client.View) {
			if v.Dups() != 0 || len(v.Conv(alice)) != n {
				t.Errorf("%d metas, %d twice; want %d once", len(v.Conv(alice)), v.Dups(), n)
			}
		})
	})
}

func TestRESTSendPushed(t *testing.T) {
	// The quick start's /message/send, with the admin token, reaches a
	// logged-in device at once as a pushed message; sending as a user
	// (from_user_id) reaches the recipient and the sender's devices.
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open(t), gateway.Config{})
		alice, atok := s.user("alice")
		bob, btok := s.user("bob")
		b := s.device(bob, btok, "b", false)
		a := s.device(alice, atok, "a", false)
		headers := map[string]string{"app_id": "app", "access-token": s.admin, "Content-Type": "application/json"}
		code, data := s.rest("POST", "/message/send", headers, `{"targets":[`+jsonNum(bob)+`],"type":1,"content":"hello","content_type":0}`)
		if code != 200 || string(data) != "true" {
			t.Fatalf("/message/send: %d %s", code, data)
		}
		got := b.waitConv(t, uint64(imgate.SystemUser), 1)
		if body := bodyOf(t, got[0]); body.Content != "hello" || !body.IsSystem {
			t.Errorf("pushed %v", body)
		}
		code, data = s.rest("POST", "/message/send", headers, `{"targets":[`+jsonNum(bob)+`],"type":1,"content":"from alice","content_type":0,"from_user_id":`+jsonNum(alice)+`}`)
		if code != 200 {
			t.Fatalf("/message/send from alice: %d %s", code, data)
		}
		if body := bodyOf(t, b.waitConv(t, alice, 1)[0]); body.Content != "from alice" {
			t.Errorf("bob got %v", body)
		}
		if body := bodyOf(t, a.waitConv(t, bob, 1)[0]); body.Content != "from alice" {
			t.Errorf("alice's device got %v", body)
		}
		b.Read(func(v client.View) {
			for _, u := range []uint64{uint64(imgate.SystemUser), alice} {
				if len(v.Conv(u)) != 1 || v.Dups() != 0 {
					t.Errorf("bob holds %d of conversation %d, %d twice", len(v.Conv(u)), u, v.Dups())
				}
			}
		})
	})
}

// TestClientMIDCollision: the web SDK makes client mids from the clock in
// milliseconds, so two distinct messages can share one. Both are stored
// and delivered, each with its own server_mid; a resend of either (same
// client_mid, same message) still answers its first server_mid and
// stores nothing, and so does a resend of an earlier one to another
// conversation with the same client_mid.
func TestClientMIDCollision(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open(t), gateway.Config{})
		alice, atok := s.user("alice")
		bob, btok := s.user("bob")
		carol, _ := s.user("carol")
		a := s.device(alice, atok, "a", false)
		b := s.device(bob, btok, "b", false)
		const cmid = 1_765_000_000_123 // a Date.getTime()
		send := func(to uint64, content string) uint64 {
			t.Helper()
			dl, err := a.SendAs(ctx(t), cmid, a.xid, to, text(xsync.MessageBody_CHAT, content))
			if err != nil || dl.Status.GetCode() != xsync.Status_OK || dl.ClientMid != cmid {
				t.Fatalf("send %q with client_mid %d: %v %v", content, uint64(cmid), dl, err)
			}
			return dl.ServerMid
		}
		first, second := send(bob, "one"), send(bob, "two")
		if first == second {
			t.Errorf("two distinct messages with one client_mid got one server_mid %d", first)
		}
		toCarol := send(carol, "one")
		if toCarol == first || toCarol == second {
			t.Errorf("a message to another conversation with the client_mid got server_mid %d of an earlier one", toCarol)
		}
		if again := send(bob, "two"); again != second {
			t.Errorf("resend of the second message: server_mid %d, want %d", again, second)
		}
		if again := send(bob, "one"); again != first {
			t.Errorf("resend of the first message: server_mid %d, want %d", again, first)
		}
		hist, err := s.store.History(context.Background(), "app", int64(bob), imgate.Conv{Kind: imgate.ConvChat, Peer: int64(alice)}, 0, 10)
		if err != nil || len(hist) != 2 {
			t.Errorf("stored %d messages to bob, want 2 (%v)", len(hist), err)
		}
		if got := contents(t, b.waitConv(t, alice, 2)); fmt.Sprint(got) != "[one two]" {
			t.Errorf("bob got %v, want [one two]", got)
		}
		b.Read(func(v client.View) {
			if v.Dups() != 0 || len(v.Conv(alice)) != 2 {
				t.Errorf("bob: %d metas, %d twice", len(v.Conv(alice)), v.Dups())
			}
		})
	})
}
