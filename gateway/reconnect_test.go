package gateway_test

import (
	"bytes"
	"testing"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
)

func TestReconnectAfterChanges(t *testing.T) {
	// A device that reconnects to the node it left starts from the groups
	// and the device record the node kept; what changed while it was away
	// must win: a group it was kicked from is no longer routed to it, one
	// it was added to is (and what was sent there reaches it), and a
	// device removed meanwhile is registered again.
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open(t), gateway.Config{})
		alice, atok := s.user("alice")
		bob, btok := s.user("bob")
		left := s.createGroup(btok, alice)
		c, sn := s.login(alice, 0, atok, "alice")
		c.Close()
		eventually(t, "alice offline", func() bool { return !s.online(alice) })

		byBob := map[string]string{"app_id": "app", "access-token": btok}
		if code, data := s.rest("POST", "/group/kick", byBob, `{"group_id":`+jsonNum(left)+`,"user_list":[`+jsonNum(alice)+`]}`); code != 200 {
			t.Fatalf("kick: %d %s", code, data)
		}
		joined := s.createGroup(btok, alice)
		b := s.device(bob, btok, "bob", false)
		b.send(t, joined, text(xsync.MessageBody_GROUPCHAT, "while away"))

		c, again := s.login(alice, sn, atok, "alice")
		if again != sn {
			t.Fatalf("reconnect of device %d answered %d", sn, again)
		}
		a := &device{Session: client.Start(c, false), xid: &xsync.XID{Uid: alice, DeviceSN: sn}}
		a.waitConv(t, joined, 1)
		b.send(t, left, text(xsync.MessageBody_GROUPCHAT, "after the kick"))
		b.send(t, joined, text(xsync.MessageBody_GROUPCHAT, "after the reconnect"))
		a.waitConv(t, joined, 2)
		b.send(t, alice, text(xsync.MessageBody_CHAT, "and a chat"))
		a.waitConv(t, bob, 1)
		a.Read(func(v client.View) {
			if n := len(v.Conv(left)); n != 0 {
				t.Errorf("the kicked member's device got %d metas of the group: %v", n, contents(t, v.Conv(left)))
			}
		})
		c.Close()
		eventually(t, "alice offline", func() bool { return !s.online(alice) })

		asAlice := map[string]string{"app_id": "app", "access-token": s.admin, "user_id": jsonNum(alice)}
		if code, data := s.rest("DELETE", "/user/device/remove?device_sn="+jsonNum(uint64(sn)), asAlice, ""); code != 200 {
			t.Fatalf("remove device: %d %s", code, data)
		}
		_, sn = s.login(alice, sn, atok, "alice")
		code, data := s.rest("GET", "/user/device/list", asAlice, "")
		if code != 200 || !bytes.Contains(data, []byte(`"device_sn":`+jsonNum(uint64(sn)))) {
			t.Errorf("device list after a removed device came back as %d: %d %s", sn, code, data)
		}
	})
}
