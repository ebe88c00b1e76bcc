package admin_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

// mtItem is one message of GET /message/conversation.
type mtItem struct {
	MsgID   int64 `json:"msg_id"`
	FromXID struct {
		UID      int64  `json:"uid"`
		DeviceSN uint32 `json:"device_sn"`
	} `json:"from_xid"`
	ToXID struct {
		UID int64 `json:"uid"`
	} `json:"to_xid"`
	CType     string `json:"ctype"`
	Content   string `json:"content"`
	Config    string `json:"config"`
	Ext       string `json:"ext"`
	Status    string `json:"status"`
	Timestamp int64  `json:"timestamp"`
}

type mtPage struct {
	Messages  []mtItem `json:"messages"`
	NextMsgID int64    `json:"next_msg_id"`
	IsLast    bool     `json:"is_last"`
}

// mtSend posts a MessageRequest that must succeed and returns msg_ids.
func mtSend(a *api, path string, hs h, body any) []int64 {
	a.t.Helper()
	r := a.ok("POST", path, hs, body, nil)
	if string(r.Data) != "true" {
		a.t.Fatalf("POST %s: data = %s, want true", path, r.Data)
	}
	var env struct {
		MsgIDs []int64 `json:"msg_ids"`
	}
	if err := json.Unmarshal([]byte(r.raw), &env); err != nil {
		a.t.Fatal(err)
	}
	return env.MsgIDs
}

// mtText is a text message to users (type 1) or groups (type 2).
func mtText(typ int, content string, targets ...int64) map[string]any {
	return map[string]any{"type": typ, "targets": targets, "content_type": 0, "content": content}
}

func mtHistory(a *api, hs h, peer, start int64, limit int) mtPage {
	a.t.Helper()
	var p mtPage
	a.ok("GET", fmt.Sprintf("/message/conversation?opposite_id=%d&msg_id_start=%d&limit=%d", peer, start, limit), hs, nil, &p)
	return p
}

// mtContents are the contents of a whole history, newest first.
func mtContents(a *api, hs h, peer int64) []string {
	a.t.Helper()
	out := []string{}
	for _, m := range mtHistory(a, hs, peer, 0, 100).Messages {
		out = append(out, m.Content)
	}
	return out
}

// mtUnread maps each conversation with unread messages to its count.
func mtUnread(a *api, hs h) map[int64]int64 {
	a.t.Helper()
	var list []struct {
		ConversationID struct {
			UID int64 `json:"uid"`
		} `json:"conversation_id"`
		Num int64 `json:"num"`
	}
	a.ok("GET", "/message/unread", hs, nil, &list)
	out := map[int64]int64{}
	for _, u := range list {
		out[u.ConversationID.UID] = u.Num
	}
	return out
}

func mtWant[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

// The quick start's request, verbatim: an admin token sends to a user as
// the system, which the user finds among its unread conversations.
func TestMessageQuickStart(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		bob, btok := a.user("bob")
		body := fmt.Sprintf(`{"targets":[%d],"type":1,"content":"hello","content_type":0}`, bob)
		r := a.do("POST", "/message/send", h{"app_id": a.app, "access-token": a.admin}, body)
		if r.Code != 200 || string(r.Data) != "true" {
			t.Fatalf("quick start send: %s, want code 200 and data true", r.raw)
		}
		unread := mtUnread(a, a.as(btok))
		if len(unread) != 1 {
			t.Fatalf("bob's unread = %v, want one conversation", unread)
		}
		for sys, n := range unread {
			if n != 1 || sys == bob {
				t.Errorf("bob's unread = %v, want 1 in a conversation with the system", unread)
			}
			p := mtHistory(a, a.as(btok), sys, 0, 10)
			if len(p.Messages) != 1 || p.Messages[0].Content != "hello" || p.Messages[0].FromXID.UID != sys {
				t.Errorf("bob's history with the system = %+v, want the hello from %d", p, sys)
			}
			ms, err := a.store.History(t.Context(), a.app, bob, imgate.Conv{Kind: imgate.ConvChat, Peer: sys}, 0, 10)
			if err != nil || len(ms) != 1 || !ms[0].System {
				t.Errorf("stored = %+v, %v; want one system message", ms, err)
			}
		}
	})
}

func TestMessageSendHistoryAndAck(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		alice, atok := a.user("alice")
		bob, btok := a.user("bob")
		before := time.Now().UnixMilli()
		ids := mtSend(a, "/message/send", a.as(atok), map[string]any{
			"type": 1, "targets": []int64{bob}, "content_type": 1, "content": "pic",
			"attachment": `{"url":"u"}`, "config": `{"c":1}`, "ext": `{"e":2}`,
		})
		if len(ids) != 1 || ids[0] <= 0 {
			t.Fatalf("msg_ids = %v, want one id", ids)
		}
		r := a.ok("GET", fmt.Sprintf("/message/conversation?opposite_id=%d&msg_id_start=0&limit=10", alice), a.as(btok), nil, nil)
		var raw struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal(r.Data, &raw); err != nil || len(raw.Messages) != 1 {
			t.Fatalf("bob's history: %s", r.Data)
		}
		mtWant(t, "history keys", keys(t, r.Data), []string{"is_last", "messages", "next_msg_id"})
		mtWant(t, "item keys", keys(t, raw.Messages[0]), []string{"attachment", "config", "content", "ctype", "ext",
			"from_xid", "msg_id", "status", "timestamp", "to_xid"})
		p := mtHistory(a, a.as(btok), alice, 0, 10)
		m := p.Messages[0]
		if m.MsgID != ids[0] || m.FromXID.UID != alice || m.ToXID.UID != bob || m.CType != "IMAGE" ||
			m.Content != "pic" || m.Config != `{"c":1}` || m.Ext != `{"e":2}` || m.Status != "UNREAD" ||
			m.Timestamp < before || !p.IsLast || p.NextMsgID != 0 {
			t.Errorf("bob's history = %+v", p)
		}
		mtWant(t, "bob's unread", mtUnread(a, a.as(btok)), map[int64]int64{alice: 1})
		mtWant(t, "alice's unread", mtUnread(a, a.as(atok)), map[int64]int64{})
		if got := mtHistory(a, a.as(atok), bob, 0, 10).Messages; len(got) != 1 || got[0].Status != "UNREAD" {
			t.Errorf("alice's history before bob read = %+v, want her message unread", got)
		}

		a.ok("GET", fmt.Sprintf("/message/ack?conversation_id=%d&msg_id=%d", alice, ids[0]), a.as(btok), nil, nil)
		mtWant(t, "bob's unread after ack", mtUnread(a, a.as(btok)), map[int64]int64{})
		if got := mtHistory(a, a.as(atok), bob, 0, 10).Messages; len(got) != 1 || got[0].Status != "READ" {
			t.Errorf("alice's history after bob read = %+v, want her message read", got)
		}
		// Acting as bob with the admin token reads the same history.
		if got := mtHistory(a, a.as(a.admin, bob), alice, 0, 10).Messages; len(got) != 1 || got[0].MsgID != ids[0] {
			t.Errorf("bob's history through the admin token = %+v", got)
		}
	})
}

func TestMessageTransactionID(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		alice, _ := a.user("alice")
		bob, btok := a.user("bob")
		carol, ctok := a.user("carol")
		body := mtText(1, "once", bob, carol)
		body["from_user_id"] = alice
		body["transaction_id"] = 42
		first := mtSend(a, "/message/send", a.as(a.admin), body)
		again := mtSend(a, "/message/send", a.as(a.admin), body)
		if len(first) != 2 || first[0] == first[1] || !slices.Equal(first, again) {
			t.Errorf("msg_ids = %v then %v, want two ids, the same twice", first, again)
		}
		mtWant(t, "bob's history", mtContents(a, a.as(btok), alice), []string{"once"})
		mtWant(t, "carol's history", mtContents(a, a.as(ctok), alice), []string{"once"})
		mtWant(t, "bob's unread", mtUnread(a, a.as(btok)), map[int64]int64{alice: 1})

		// The same id as a string is the same transaction; another is not.
		body["transaction_id"] = "42"
		if got := mtSend(a, "/message/send", a.as(a.admin), body); !slices.Equal(got, first) {
			t.Errorf("resend with a string id = %v, want %v", got, first)
		}
		body["transaction_id"] = "43"
		if got := mtSend(a, "/message/send", a.as(a.admin), body); len(got) != 2 || got[0] == first[0] {
			t.Errorf("send with another id = %v, want new ids", got)
		}
		// No transaction id: every send is new.
		delete(body, "transaction_id")
		mtSend(a, "/message/send", a.as(a.admin), body)
		mtWant(t, "bob's history at last", mtContents(a, a.as(btok), alice), []string{"once", "once", "once"})
	})
}

func TestMessageGroup(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		owner, otok := a.user("owner")
		member, mtok := a.user("member")
		_, xtok := a.user("outsider")
		var g struct {
			GroupID int64 `json:"group_id"`
		}
		a.ok("POST", "/group/create", a.as(otok), map[string]any{"name": "g", "user_list": []int64{member}}, &g)

		a.fails(imgate.CodeNotGroupMember, "POST", "/message/send", a.as(xtok), mtText(2, "let me in", g.GroupID))
		a.fails(imgate.CodeNotGroupMember, "GET", fmt.Sprintf("/message/conversation?opposite_id=%d&msg_id_start=0&limit=5", g.GroupID), a.as(xtok), nil)
		a.fails(imgate.CodeGroupNotFound, "POST", "/message/send", a.as(otok), mtText(2, "nowhere", g.GroupID+1000))
		ids := mtSend(a, "/message/send", a.as(mtok), mtText(2, "hi all", g.GroupID))
		sys := mtSend(a, "/message/send", a.as(a.admin), mtText(2, "from the system", g.GroupID))
		mtWant(t, "owner's history", mtContents(a, a.as(otok), g.GroupID), []string{"from the system", "hi all"})
		p := mtHistory(a, a.as(otok), g.GroupID, 0, 10)
		if m := p.Messages[1]; m.MsgID != ids[0] || m.FromXID.UID != member || m.ToXID.UID != g.GroupID || m.Status != "UNREAD" {
			t.Errorf("owner's view of the member's message = %+v", m)
		}
		if p.Messages[0].MsgID != sys[0] || p.Messages[0].FromXID.UID == owner || p.Messages[0].FromXID.UID == member {
			t.Errorf("system message = %+v, want it from the system", p.Messages[0])
		}
		mtWant(t, "owner's unread", mtUnread(a, a.as(otok)), map[int64]int64{g.GroupID: 2})
		mtWant(t, "member's unread", mtUnread(a, a.as(mtok)), map[int64]int64{g.GroupID: 1})

		// READ_ALL by conversation_id alone.
		a.ok("GET", fmt.Sprintf("/message/ack?conversation_id=%d", g.GroupID), a.as(otok), nil, nil)
		mtWant(t, "owner's unread after reading all", mtUnread(a, a.as(otok)), map[int64]int64{})
	})
}

func TestMessageRecall(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		alice, atok := a.user("alice")
		bob, btok := a.user("bob")
		keep := mtSend(a, "/message/send", a.as(atok), mtText(1, "keep", bob))[0]
		oops := mtSend(a, "/message/send", a.as(atok), mtText(1, "oops", bob))[0]
		also := mtSend(a, "/message/send", a.as(atok), mtText(1, "also", bob))[0]

		a.fails(imgate.CodeForbidden, "POST", "/message/recall", a.as(btok), map[string]any{"conversation_id": alice, "msg_id": oops})
		a.fails(imgate.CodeInvalidParameter, "POST", "/message/recall", a.as(atok), map[string]any{"conversation_id": bob + 999, "msg_id": oops})
		a.fails(imgate.CodeInvalidParameter, "POST", "/message/recall", a.as(atok), map[string]any{"conversation_id": bob})
		a.ok("POST", "/message/recall", a.as(atok), map[string]any{"conversation_id": bob, "msg_id": oops}, nil)
		mtWant(t, "bob's history", mtContents(a, a.as(btok), alice), []string{"also", "keep"})
		mtWant(t, "alice's history", mtContents(a, a.as(atok), bob), []string{"also", "keep"})
		a.fails(imgate.CodeInvalidParameter, "POST", "/message/recall", a.as(atok), map[string]any{"conversation_id": bob, "msg_id": oops})

		// content_type 10 with related_mid recalls too; so may an admin
		// token acting as nobody.
		a.ok("PUT", "/message/send", a.as(atok), map[string]any{"type": 1, "targets": []int64{bob}, "content_type": 10, "content": "", "related_mid": also}, nil)
		a.ok("POST", "/message/recall", a.as(a.admin), map[string]any{"msg_id": keep}, nil)
		mtWant(t, "bob's history at last", mtContents(a, a.as(btok), alice), []string{})
		if got := mtUnread(a, a.as(btok)); len(got) != 1 || got[alice] == 0 {
			t.Errorf("bob's unread = %v, want only his chat with alice", got)
		}
		stored, err := a.store.History(t.Context(), a.app, bob, imgate.Conv{Kind: imgate.ConvChat, Peer: alice}, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range stored {
			if m.Type == imgate.TypeOper && (m.From != alice || m.To != bob) {
				t.Errorf("recall operation %+v is not in alice's chat with bob", m)
			}
		}
	})
}

func TestMessageEdit(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		alice, atok := a.user("alice")
		bob, btok := a.user("bob")
		mid := mtSend(a, "/message/send", a.as(atok), mtText(1, "hello", bob))[0]
		edit := func(hs h, ctype int, content string) reply {
			return a.do("POST", "/message/send", hs, map[string]any{
				"type": 1, "targets": []int64{bob}, "content_type": ctype, "content": content, "related_mid": mid, "ext": "x",
			})
		}
		if r := edit(a.as(atok), 11, " world"); r.Code != 200 {
			t.Fatalf("append: %s", r.raw)
		}
		mtWant(t, "after append", mtContents(a, a.as(btok), alice), []string{"hello world"})
		if r := edit(a.as(atok), 12, "bonjour"); r.Code != 200 {
			t.Fatalf("replace: %s", r.raw)
		}
		p := mtHistory(a, a.as(btok), alice, 0, 10)
		if len(p.Messages) != 1 || p.Messages[0].MsgID != mid || p.Messages[0].Content != "bonjour" || p.Messages[0].Ext != "x" {
			t.Errorf("after replace = %+v, want the one message, replaced", p.Messages)
		}
		if r := edit(a.as(btok), 12, "not yours"); r.Code != imgate.CodeForbidden {
			t.Errorf("replace by bob: %s, want %d", r.raw, imgate.CodeForbidden)
		}
		if r := a.do("POST", "/message/send", a.as(atok), mtText(1, "x", bob)); r.Code != 200 {
			t.Fatal(r.raw)
		}
		body := mtText(1, "", bob)
		body["content_type"] = 11
		a.fails(imgate.CodeInvalidParameter, "POST", "/message/send", a.as(atok), body) // no related_mid
	})
}

func TestMessageDeleteConversation(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		alice, atok := a.user("alice")
		bob, btok := a.user("bob")
		mtSend(a, "/message/send", a.as(atok), mtText(1, "one", bob))
		mtSend(a, "/message/send", a.as(btok), mtText(1, "two", alice))
		mtSend(a, "/message/send", a.as(atok), mtText(1, "three", bob))
		mtWant(t, "bob's unread", mtUnread(a, a.as(btok)), map[int64]int64{alice: 1}) // his own reply read the first

		a.ok("DELETE", fmt.Sprintf("/message/conversation?conversation_id=%d", alice), a.as(btok), nil, nil)
		mtWant(t, "bob's history", mtContents(a, a.as(btok), alice), []string{})
		mtWant(t, "bob's unread", mtUnread(a, a.as(btok)), map[int64]int64{})
		mtWant(t, "alice's history", mtContents(a, a.as(atok), bob), []string{"three", "two", "one"})

		mtSend(a, "/message/send", a.as(atok), mtText(1, "four", bob))
		mtWant(t, "bob's history after a new message", mtContents(a, a.as(btok), alice), []string{"four"})
		mtWant(t, "bob's unread after a new message", mtUnread(a, a.as(btok)), map[int64]int64{alice: 1})
	})
}

func TestMessageHistoryPaging(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		alice, atok := a.user("alice")
		bob, btok := a.user("bob")
		var ids []int64
		for i := 1; i <= 5; i++ {
			ids = append(ids, mtSend(a, "/message/send", a.as(atok), mtText(1, fmt.Sprint(i), bob))[0])
		}
		// Edits store operations in the conversation, which history skips.
		for range 3 {
			a.ok("POST", "/message/send", a.as(atok), map[string]any{
				"type": 1, "targets": []int64{bob}, "content_type": 11, "content": "+", "related_mid": ids[2]}, nil)
		}
		var got [][]string
		start := int64(0)
		for {
			p := mtHistory(a, a.as(btok), alice, start, 2)
			var page []string
			for _, m := range p.Messages {
				page = append(page, m.Content)
			}
			got = append(got, page)
			if p.IsLast != (p.NextMsgID == 0) {
				t.Fatalf("page %v: is_last %v with next_msg_id %d", page, p.IsLast, p.NextMsgID)
			}
			if p.IsLast || len(got) > 5 {
				break
			}
			start = p.NextMsgID
		}
		mtWant(t, "pages", got, [][]string{{"5", "4"}, {"3+++", "2"}, {"1"}})
		// msg_id_start is included.
		if p := mtHistory(a, a.as(btok), alice, ids[1], 10); len(p.Messages) != 2 || p.Messages[0].MsgID != ids[1] {
			t.Errorf("history from %d = %+v, want it and the one before", ids[1], p.Messages)
		}
	})
}

func TestMessageNotify(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		alice, atok := a.user("alice")
		bob, btok := a.user("bob")
		a.fails(imgate.CodeForbidden, "POST", "/message/notify", a.as(atok), mtText(1, "spoof", bob))
		body := mtText(1, "from alice, officially", bob)
		body["from_user_id"] = alice
		ids := mtSend(a, "/message/notify", a.as(a.admin), body)
		mtSend(a, "/message/notify", a.as(a.admin), mtText(1, "maintenance tonight", bob))
		ms, err := a.store.History(t.Context(), a.app, bob, imgate.Conv{Kind: imgate.ConvChat, Peer: alice}, 0, 10)
		if err != nil || len(ms) != 1 || ms[0].ID != ids[0] || !ms[0].System || ms[0].From != alice {
			t.Errorf("stored notice = %+v, %v; want one system message from alice", ms, err)
		}
		unread := mtUnread(a, a.as(btok))
		if len(unread) != 2 || unread[alice] != 1 {
			t.Errorf("bob's unread = %v, want alice's notice and the system's", unread)
		}
		body["content_type"] = 10
		body["related_mid"] = ids[0]
		a.fails(imgate.CodeInvalidParameter, "POST", "/message/notify", a.as(a.admin), body)
	})
}

func TestMessageBroadcast(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		alice, atok := a.user("alice")
		users := gcStoreUsers(t, a, "b", 120) // with alice, three batches of the harness's 50
		a.fails(imgate.CodeForbidden, "POST", "/message/broadcast", a.as(atok), map[string]any{"type": 1, "content_type": 0, "content": "x"})
		a.fails(imgate.CodeInvalidParameter, "POST", "/message/broadcast", a.as(a.admin), map[string]any{"type": 2, "content_type": 0, "content": "x"})
		a.fails(imgate.CodeInvalidParameter, "POST", "/message/broadcast", a.as(a.admin), map[string]any{"type": 1, "content_type": 7, "content": "x"})
		var res struct {
			SendNum int64 `json:"send_num"`
			Success bool  `json:"success"`
		}
		a.ok("POST", "/message/broadcast", a.as(a.admin), map[string]any{"type": 1, "content_type": 0, "content": "to all"}, &res)
		if !res.Success || res.SendNum != 50 {
			t.Errorf("broadcast = %+v, want success with the first batch of 50 sent", res)
		}
		// The rest arrives in the background: poll the last user.
		last := users[len(users)-1]
		deadline := time.Now().Add(20 * time.Second)
		for len(mtUnread(a, a.as(a.admin, last))) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("user %d never got the broadcast", last)
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, u := range append(users, alice) {
			unread := mtUnread(a, a.as(a.admin, u))
			if len(unread) != 1 {
				t.Fatalf("user %d's unread = %v, want the broadcast", u, unread)
			}
			for sys, n := range unread {
				if n != 1 || !slices.Equal(mtContents(a, a.as(a.admin, u), sys), []string{"to all"}) {
					t.Errorf("user %d got %d unread, history %v; want the broadcast once", u, n, mtContents(a, a.as(a.admin, u), sys))
				}
			}
		}
	})
}

func TestMessageRequestChecks(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		alice, atok := a.user("alice")
		bob, btok := a.user("bob")
		a.ok("POST", fmt.Sprintf("/roster/block?user_id=%d", alice), a.as(btok), nil, nil)
		many := make([]int64, 51)
		for i := range many {
			many[i] = int64(i + 1)
		}
		send := func(mod func(map[string]any)) map[string]any {
			b := mtText(1, "x", bob)
			mod(b)
			return b
		}
		for _, tc := range []struct {
			name string
			hs   h
			body any
			code int
		}{
			{"no type", a.as(atok), send(func(b map[string]any) { delete(b, "type") }), imgate.CodeInvalidParameter},
			{"type 3", a.as(atok), send(func(b map[string]any) { b["type"] = 3 }), imgate.CodeInvalidParameter},
			{"no content_type", a.as(atok), send(func(b map[string]any) { delete(b, "content_type") }), imgate.CodeInvalidParameter},
			{"content_type 13", a.as(atok), send(func(b map[string]any) { b["content_type"] = 13 }), imgate.CodeInvalidParameter},
			{"no targets", a.as(atok), send(func(b map[string]any) { delete(b, "targets") }), imgate.CodeInvalidParameter},
			{"51 targets", a.as(atok), send(func(b map[string]any) { b["targets"] = many }), imgate.CodeInvalidParameter},
			{"zero target", a.as(atok), send(func(b map[string]any) { b["targets"] = []int64{0} }), imgate.CodeInvalidParameter},
			{"unknown user", a.as(btok), send(func(b map[string]any) { b["targets"] = []int64{alice + bob} }), imgate.CodeUserNotFound},
			{"blocked", a.as(atok), send(func(map[string]any) {}), imgate.CodeInBlacklist},
			{"user token as another", a.as(btok), send(func(b map[string]any) { b["targets"], b["from_user_id"] = []int64{bob}, alice }), imgate.CodeForbidden},
			{"admin as nobody", a.as(a.admin), send(func(b map[string]any) { b["from_user_id"] = alice + bob }), imgate.CodeUserNotFound},
			{"read ack as the system", a.as(a.admin), send(func(b map[string]any) { b["content_type"], b["related_mid"] = 9, 1 }), imgate.CodeInvalidParameter},
			{"bad transaction_id", a.as(btok), send(func(b map[string]any) { b["transaction_id"] = 1.5 }), imgate.CodeInvalidParameter},
			{"not json", a.as(btok), "{", imgate.CodeInvalidParameter},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := reportTo(a, t)
				a.fails(tc.code, "POST", "/message/send", tc.hs, tc.body)
			})
		}
		// An admin token acting as carol cannot acknowledge for carol what
		// carol cannot see.
		carol, _ := a.user("carol")
		mid := mtSend(a, "/message/send", a.as(btok), mtText(1, "not for carol", bob))[0]
		a.fails(imgate.CodeInvalidParameter, "POST", "/message/send", a.as(a.admin),
			map[string]any{"type": 1, "targets": []int64{bob}, "content_type": 9, "content": "", "related_mid": mid, "from_user_id": carol})
		// Nothing of the failures was stored.
		mtWant(t, "bob's unread", mtUnread(a, a.as(btok)), map[int64]int64{})
		// An admin token may send despite the blacklist, as alice.
		body := mtText(1, "admin says", bob)
		body["from_user_id"], body["online_only"] = alice, true
		mtSend(a, "/message/send", a.as(a.admin), body)
		mtWant(t, "bob's history", mtContents(a, a.as(btok), alice), []string{"admin says"})

		for _, q := range []string{"", "?opposite_id=0", fmt.Sprintf("?opposite_id=%d&limit=0", alice),
			fmt.Sprintf("?opposite_id=%d&limit=101", alice), fmt.Sprintf("?opposite_id=%d&msg_id_start=-1", alice)} {
			a.fails(imgate.CodeInvalidParameter, "GET", "/message/conversation"+q, a.as(btok), nil)
		}
		a.fails(imgate.CodeInvalidParameter, "GET", "/message/conversation?opposite_id=1", a.as(a.admin), nil) // no user
		a.fails(imgate.CodeInvalidParameter, "GET", "/message/ack", a.as(btok), nil)
		a.fails(imgate.CodeInvalidParameter, "GET", fmt.Sprintf("/message/ack?conversation_id=%d&device_sn=7", alice), a.as(btok), nil)
		a.fails(imgate.CodeInvalidParameter, "DELETE", "/message/conversation", a.as(btok), nil)
		a.fails(imgate.CodeForbidden, "POST", "/message/broadcast", a.as(btok), map[string]any{"type": 1, "content_type": 0})
	})
}
