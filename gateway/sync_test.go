package gateway_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
)

// store appends chat messages from one user to another, as the delivery
// core will.
func (s *server) chat(from, to uint64, texts ...string) []imgate.Message {
	s.t.Helper()
	msgs := make([]imgate.Message, len(texts))
	for i, text := range texts {
		msgs[i] = imgate.Message{
			AppID: "app", Kind: imgate.ConvChat, From: int64(from), To: int64(to), Type: int(xsync.MessageBody_CHAT),
			Content: text, At: time.UnixMilli(time.Now().UnixMilli()),
		}
	}
	out, _, err := s.store.AppendMessages(context.Background(), msgs)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

func (s *server) roundTrip(c *client.Conn, cmd xsync.Frame_Command, msg proto.Message) proto.Message {
	s.t.Helper()
	if err := c.Send(ctx(s.t), cmd, msg); err != nil {
		s.t.Fatal(err)
	}
	_, got, err := c.Recv(ctx(s.t))
	if err != nil {
		s.t.Fatal(err)
	}
	return got
}

func TestSyncPull(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	alice, _ := s.user("alice")
	bob, btok := s.user("bob")
	var texts []string
	for i := range 150 {
		texts = append(texts, fmt.Sprintf("m%d", i))
	}
	sent := s.chat(alice, bob, texts...)
	c, _ := s.login(bob, 0, btok, "")

	unread := s.roundTrip(c, xsync.Frame_UNREAD, &xsync.UnreadUL{}).(*xsync.UnreadDL)
	if len(unread.Unread) != 1 || unread.Unread[0].Xid.GetUid() != alice || unread.Unread[0].N != 150 ||
		unread.Unread[0].Type != xsync.ConversationUnread_CHAT {
		t.Fatalf("UNREAD = %v, want 150 unread in the chat with alice", unread)
	}

	// Notify-then-pull: pages of 100 by key until next_key is 0, every
	// message once, in order, with its body.
	var got []*xsync.Meta
	key := uint64(0)
	for pages := 0; ; pages++ {
		dl := s.roundTrip(c, xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: alice}, Key: key}).(*xsync.SyncDL)
		if dl.Status.GetCode() != xsync.Status_OK || dl.Xid.GetUid() != alice {
			t.Fatalf("pull: %v", dl)
		}
		got = append(got, dl.Metas...)
		if key = dl.NextKey; key == 0 || pages > 5 {
			break
		}
	}
	if len(got) != 150 {
		t.Fatalf("pulled %d metas, want 150", len(got))
	}
	for i, m := range got {
		var body xsync.MessageBody
		if err := proto.Unmarshal(m.Payload, &body); err != nil || m.Id != uint64(sent[i].ID) || body.Content != texts[i] ||
			m.From.GetUid() != alice || m.To.GetUid() != bob || m.Ns != xsync.Meta_MESSAGE {
			t.Fatalf("meta %d = %v %v, want message %d %q", i, m, &body, sent[i].ID, texts[i])
		}
	}
	// The sender sees the same conversation, keyed by the peer.
	_, atok := s.freshToken("alice")
	ca, _ := s.login(alice, 0, atok, "")
	dl := s.roundTrip(ca, xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: bob}, Key: uint64(sent[148].ID)}).(*xsync.SyncDL)
	if len(dl.Metas) != 1 || dl.Metas[0].Id != uint64(sent[149].ID) || dl.NextKey != 0 {
		t.Errorf("alice's pull after the 149th: %v", dl)
	}
	if u := s.roundTrip(ca, xsync.Frame_UNREAD, &xsync.UnreadUL{}).(*xsync.UnreadDL); len(u.Unread) != 0 {
		t.Errorf("the sender has unread %v; own messages count as read", u.Unread)
	}
}

func TestSyncHistory(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	alice, _ := s.user("alice")
	bob, btok := s.user("bob")
	sent := s.chat(alice, bob, "a", "b", "c", "d", "e")
	c, _ := s.login(bob, 0, btok, "")
	dl := s.roundTrip(c, xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: alice}, IsFullSync: true, FullSyncNum: 2}).(*xsync.SyncDL)
	if !dl.IsFullSync || len(dl.Metas) != 2 || dl.Metas[0].Id != uint64(sent[4].ID) || dl.Metas[1].Id != uint64(sent[3].ID) ||
		dl.NextKey != uint64(sent[3].ID) {
		t.Fatalf("newest history page: %v", dl)
	}
	dl = s.roundTrip(c, xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: alice}, IsFullSync: true, FullSyncNum: 5, Key: dl.NextKey}).(*xsync.SyncDL)
	if len(dl.Metas) != 3 || dl.Metas[2].Id != uint64(sent[0].ID) || dl.NextKey != 0 {
		t.Errorf("last history page: %v", dl)
	}
}

func TestSyncGroup(t *testing.T) {
	s := embeddedServer(t, gateway.Config{})
	owner, otok := s.user("owner")
	member, _ := s.user("member")
	outsider, xtok := s.user("outsider")
	g := struct{ GroupID uint64 }{s.createGroup(otok, member)}
	msg := imgate.Message{AppID: "app", Kind: imgate.ConvGroup, From: int64(member), To: int64(g.GroupID),
		Type: int(xsync.MessageBody_GROUPCHAT), Content: "hi all", At: time.Now()}
	if _, _, err := s.store.AppendMessages(context.Background(), []imgate.Message{msg}); err != nil {
		t.Fatal(err)
	}
	co, _ := s.login(owner, 0, otok, "")
	dl := s.roundTrip(co, xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: g.GroupID}}).(*xsync.SyncDL)
	if dl.Status.GetCode() != xsync.Status_OK || len(dl.Metas) != 1 || dl.Metas[0].To.GetUid() != g.GroupID {
		t.Errorf("member's group pull: %v", dl)
	}
	cx, _ := s.login(outsider, 0, xtok, "")
	dl = s.roundTrip(cx, xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: g.GroupID}}).(*xsync.SyncDL)
	if dl.Status.GetCode() != xsync.Status_UNAUTHORIZED || len(dl.Metas) != 0 {
		t.Errorf("outsider's group pull: %v, want UNAUTHORIZED and nothing", dl)
	}
}
