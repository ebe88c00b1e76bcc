package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
)

func oper(typ xsync.MessageOperation_Type, mid, conv uint64) *xsync.MessageBody {
	return &xsync.MessageBody{
		Type: xsync.MessageBody_OPER, Ctype: xsync.MessageBody_COMMAND,
		Operation: &xsync.MessageOperation{Type: typ, Mid: mid, Xid: &xsync.XID{Uid: conv}},
	}
}

// waitOp waits until the device holds an OPER meta of the type for mid in
// conversation uid and returns its body.
func (d *device) waitOp(t *testing.T, uid uint64, typ xsync.MessageOperation_Type, mid uint64) *xsync.MessageBody {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var found *xsync.MessageBody
	err := d.Wait(c, func(v client.View) bool {
		for _, m := range v.Conv(uid) {
			if b := bodyOf(t, m); b.Type == xsync.MessageBody_OPER && b.Operation.GetType() == typ && b.Operation.GetMid() == mid {
				found = b
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("device %v: no %s of %d in %d: %v", d.xid, typ, mid, uid, err)
	}
	return found
}

func TestOperations(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open(t), gateway.Config{})
		alice, atok := s.user("alice")
		bob, btok := s.user("bob")
		a1 := s.device(alice, atok, "a1", false)
		a2 := s.device(alice, atok, "a2", false)
		b1 := s.device(bob, btok, "b1", false)
		b2 := s.device(bob, btok, "b2", true)
		m1 := a1.send(t, bob, text(xsync.MessageBody_CHAT, "one")).ServerMid
		m2 := a1.send(t, bob, text(xsync.MessageBody_CHAT, "two")).ServerMid
		b1.waitConv(t, alice, 2)
		b2.waitConv(t, alice, 2)

		// Read receipt: the sender's devices and the reader's other device
		// are told; the reader's unread count drops to 0 for every device.
		b1.send(t, alice, oper(xsync.MessageOperation_READ_ACK, m2, alice))
		a1.waitOp(t, bob, xsync.MessageOperation_READ_ACK, m2)
		a2.waitOp(t, bob, xsync.MessageOperation_READ_ACK, m2)
		b2.waitOp(t, alice, xsync.MessageOperation_READ_ACK, m2)
		if us, err := s.store.Unreads(context.Background(), "app", int64(bob)); err != nil || len(us) != 0 {
			t.Errorf("bob's unreads after READ_ACK of the last: %v %v", us, err)
		}

		// Edit: every device gets the stored REPLACE; the message reads
		// edited from the store.
		edit := oper(xsync.MessageOperation_REPLACE, m1, bob)
		edit.Content = "one, edited"
		ack := a1.send(t, bob, edit)
		if ack.EditTimestamp == 0 {
			t.Errorf("REPLACE answered without edit_timestamp: %v", ack)
		}
		for _, d := range []*device{a2, b1, b2} {
			peer := alice
			if d == a2 {
				peer = bob
			}
			if b := d.waitOp(t, peer, xsync.MessageOperation_REPLACE, m1); b.Content != "one, edited" || b.EditTimestamp == 0 {
				t.Errorf("device %v: REPLACE body %v", d.xid, b)
			}
		}

		// Only the sender edits or recalls.
		if dl, _ := b1.Send(ctx(t), b1.xid, alice, oper(xsync.MessageOperation_RECALL, m1, alice)); dl.Status.GetCode() == xsync.Status_OK {
			t.Errorf("bob recalled alice's message: %v", dl)
		}
		// Recall: every device learns; a device that logs in later pulls
		// the message blanked and the RECALL after it.
		a1.send(t, bob, oper(xsync.MessageOperation_RECALL, m2, bob))
		for _, d := range []*device{a2, b1, b2} {
			peer := alice
			if d == a2 {
				peer = bob
			}
			d.waitOp(t, peer, xsync.MessageOperation_RECALL, m2)
		}
		got, err := s.store.Message(context.Background(), "app", int64(m2))
		if err != nil || !got.Recalled {
			t.Errorf("m2 after RECALL: %+v %v", got, err)
		}

		// Delete for me: bob's other device is told; bob no longer sees
		// m1, alice still does.
		b1.send(t, bob, oper(xsync.MessageOperation_DELETE, m1, alice))
		b2.waitOp(t, alice, xsync.MessageOperation_DELETE, m1)
		conv := imgate.Conv{Kind: imgate.ConvChat, Peer: int64(alice)}
		bh, _ := s.store.History(context.Background(), "app", int64(bob), conv, 0, 10)
		ah, _ := s.store.History(context.Background(), "app", int64(alice), imgate.Conv{Kind: imgate.ConvChat, Peer: int64(bob)}, 0, 10)
		for _, m := range bh {
			if m.ID == int64(m1) {
				t.Errorf("bob's history still lists deleted %d", m1)
			}
		}
		if len(ah) != len(bh)+1 {
			t.Errorf("alice's history has %d, bob's %d: want one more for alice", len(ah), len(bh))
		}
	})
}
