package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
)

func TestSendRefusals(t *testing.T) {
	s := embeddedServer(t, gateway.Config{SendRate: 5, SendBurst: 5})
	owner, otok := s.user("owner")
	member, mtok := s.user("member")
	outsider, xtok := s.user("outsider")
	g := s.createGroup(otok, member)
	o := s.device(owner, otok, "o", false)
	m := s.device(member, mtok, "m", false)
	x := s.device(outsider, xtok, "x", false)
	as := func(uid uint64, tok string) map[string]string {
		return map[string]string{"app_id": "app", "access-token": tok}
	}
	refused := func(d *device, to uint64, body *xsync.MessageBody, want xsync.Status_ErrorCode) {
		t.Helper()
		dl, err := d.Send(ctx(t), d.xid, to, body)
		if err != nil {
			t.Fatal(err)
		}
		if dl.Status.GetCode() != want || dl.ServerMid != 0 || dl.ClientMid == 0 {
			t.Errorf("send to %d: %v, want %s with client_mid and no server_mid", to, dl, want)
		}
	}
	refused(x, g, text(xsync.MessageBody_GROUPCHAT, "let me in"), xsync.Status_UNAUTHORIZED)
	refused(x, 999999999999, text(xsync.MessageBody_CHAT, "anyone?"), xsync.Status_INVALID_PARAMETER)

	// Blocked by the peer.
	if code, data := s.rest("POST", "/roster/block?user_id="+jsonNum(outsider), as(member, mtok), ""); code != 200 {
		t.Fatalf("block: %d %s", code, data)
	}
	refused(x, member, text(xsync.MessageBody_CHAT, "hello?"), xsync.Status_UNAUTHORIZED)

	// Muted in the group, then the whole group banned.
	if code, data := s.rest("POST", "/group/ban", as(owner, otok), `{"group_id":`+jsonNum(g)+`,"user_list":[`+jsonNum(member)+`],"duration":10}`); code != 200 {
		t.Fatalf("ban: %d %s", code, data)
	}
	refused(m, g, text(xsync.MessageBody_GROUPCHAT, "muted?"), xsync.Status_USER_BANNED)
	s.rest("POST", "/group/unban", as(owner, otok), `{"group_id":`+jsonNum(g)+`,"user_list":[`+jsonNum(member)+`]}`)
	if code, data := s.rest("POST", "/group/settings/ban_all", as(owner, otok), `{"group_id":`+jsonNum(g)+`,"duration":10}`); code != 200 {
		t.Fatalf("ban_all: %d %s", code, data)
	}
	refused(m, g, text(xsync.MessageBody_GROUPCHAT, "all banned?"), xsync.Status_USER_BANNED)
	o.send(t, g, text(xsync.MessageBody_GROUPCHAT, "the owner still speaks"))

	// A malformed body and a zero client id.
	dl, err := o.Send(ctx(t), o.xid, g, &xsync.MessageBody{Type: xsync.MessageBody_GROUPCHAT, Ctype: 99})
	if err != nil || dl.Status.GetCode() != xsync.Status_INVALID_PARAMETER {
		t.Errorf("content type 99: %v %v", dl, err)
	}
	dl, err = o.SendAs(ctx(t), 0, o.xid, g, text(xsync.MessageBody_GROUPCHAT, "no id"))
	if err == nil && dl.Status.GetCode() == xsync.Status_OK {
		t.Errorf("a send with meta.id 0 was taken: %v", dl)
	}

	// The rate limit: a burst over it is refused, then sends pass again.
	var limited int
	for range 10 {
		dl, err := m.Send(ctx(t), m.xid, owner, text(xsync.MessageBody_CHAT, "spam"))
		if err != nil {
			t.Fatal(err)
		}
		if dl.Status.GetCode() == xsync.Status_RATE_LIMIT_EXCEEDED {
			limited++
		}
	}
	if limited == 0 {
		t.Errorf("10 sends at once against a limit of 5 per second: none refused")
	}
	time.Sleep(400 * time.Millisecond)
	m.send(t, owner, text(xsync.MessageBody_CHAT, "calm again"))
}

func TestNoticesLive(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open(t), gateway.Config{})
		alice, atok := s.user("alice")
		bob, btok := s.user("bob")
		b := s.device(bob, btok, "b", false)
		// A friend request reaches bob's online device as a ROSTER_NOTICE.
		if code, data := s.rest("POST", "/roster/apply", map[string]string{"app_id": "app", "access-token": atok}, `{"user_id":`+jsonNum(bob)+`,"reason":"hi"}`); code != 200 {
			t.Fatalf("apply: %d %s", code, data)
		}
		var n xsync.RosterNotice
		err := b.Wait(ctx(t), func(v client.View) bool {
			for _, m := range v.Notices() {
				if m.Ns == xsync.Meta_ROSTER_NOTICE && protoUnmarshal(m.Payload, &n) == nil {
					return true
				}
			}
			return false
		})
		if err != nil || (n.Type != xsync.RosterNotice_APPLIED && n.Type != xsync.RosterNotice_ADDED) || n.From.GetUid() != alice {
			t.Fatalf("bob's notice: %v %v", &n, err)
		}
		// Joining a group while online: the new member is told, and the
		// group's messages reach it from then on.
		a := s.device(alice, atok, "a", false)
		g := s.createGroup(atok)
		if code, data := s.rest("POST", "/group/invite", map[string]string{"app_id": "app", "access-token": atok}, `{"group_id":`+jsonNum(g)+`,"user_list":[`+jsonNum(bob)+`]}`); code != 200 {
			t.Fatalf("invite: %d %s", code, data)
		}
		var inviteSeen bool
		b.Wait(ctx(t), func(v client.View) bool {
			for _, m := range v.Notices() {
				var gn xsync.GroupNotice
				if m.Ns == xsync.Meta_GROUP_NOTICE && protoUnmarshal(m.Payload, &gn) == nil && gn.Gid == g {
					inviteSeen = true
				}
			}
			return inviteSeen
		})
		// Bob joins if the invite needs an answer; either way he must end
		// up a member receiving the group's messages.
		s.rest("POST", "/group/invite/accept", map[string]string{"app_id": "app", "access-token": btok}, `{"group_id":`+jsonNum(g)+`,"user_id":`+jsonNum(alice)+`}`)
		if _, member, _ := s.store.Member(context.Background(), "app", int64(g), int64(bob)); !member {
			t.Fatalf("bob did not become a member of %d", g)
		}
		eventually(t, "bob's device routed the group", func() bool {
			dl, err := a.Send(ctx(t), a.xid, g, text(xsync.MessageBody_GROUPCHAT, "welcome"))
			if err != nil || dl.Status.GetCode() != xsync.Status_OK {
				t.Fatalf("send to the group: %v %v", dl, err)
			}
			c, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			return b.Wait(c, func(v client.View) bool { return len(v.Conv(g)) > 0 }) == nil
		})
	})
}

func TestSlowReaderSyncsAfter(t *testing.T) {
	// A device that stops reading while a conversation streams is closed
	// as slow without holding anyone up, and gets everything when it
	// comes back.
	s := embeddedServer(t, gateway.Config{SendRate: 1e6, SendBurst: 1000})
	alice, atok := s.user("alice")
	bob, btok := s.user("bob")
	slowConn, sn := s.login(bob, 0, btok, "slow") // never read
	fast := s.device(bob, btok, "fast", false)
	a := s.device(alice, atok, "a", false)
	const n = 1200
	long := make([]byte, 16000)
	for i := range long {
		long[i] = 'x'
	}
	for i := range n {
		a.send(t, bob, text(xsync.MessageBody_CHAT, string(long)+jsonNum(uint64(i))))
	}
	fast.waitConvWithin(t, alice, n, 3*time.Minute)
	// 4005, or an abrupt close when the socket stayed full past the
	// write timeout, so that even the close frame could not be written.
	if code, _ := closed(t, slowConn); code != 4005 && code != -1 {
		t.Errorf("slow device closed with %d, want 4005", code)
	}
	c, again := s.login(bob, sn, btok, "slow")
	if again != sn {
		t.Fatalf("reconnect: deviceSN %d, want %d", again, sn)
	}
	back := &device{Session: client.Start(c, false), xid: &xsync.XID{Uid: bob, DeviceSN: sn}}
	if err := back.Pull(ctx(t), alice, 0); err != nil {
		t.Fatal(err)
	}
	// 19 MB in pages of 100: under the race detector on a busy machine
	// this takes far longer than a device's usual wait.
	got := back.waitConvWithin(t, alice, n, 3*time.Minute)
	back.Read(func(v client.View) {
		if len(got) != n || v.Dups() != 0 {
			t.Errorf("after reconnecting: %d metas, %d twice; want %d once", len(got), v.Dups(), n)
		}
	})
}
