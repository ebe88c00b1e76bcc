package storetest

import (
	"slices"
	"strconv"
	"testing"

	"github.com/imgate/imgate"
)

func (s suite) testMessages(t *testing.T) {
	s.runMessages(t, "seqs and ids of a chat", testChatSeqs)
	s.runMessages(t, "group conversation", testGroupMessages)
	s.runMessages(t, "dedupe by client mid", testDedupeClientMID)
	s.runMessages(t, "dedupe by transaction id", testDedupeTransactionID)
	s.runMessages(t, "paging", testMessagePaging)
	s.runMessages(t, "message and update", testUpdateMessage)
	s.runMessages(t, "invalid messages", testInvalidMessages)
	s.runMessages(t, "app isolation", testMessageIsolation)
}

func (s suite) testReads(t *testing.T) {
	s.runMessages(t, "mark read", testMarkRead)
	s.runMessages(t, "unreads", testUnreads)
	s.runMessages(t, "chat outlives a deleted user", testChatOfDeletedUser)
}

// runMessages runs fn as a parallel subtest with a fresh store, handing it
// the store's message methods as well.
func (s suite) runMessages(t *testing.T, name string, fn func(t *testing.T, st imgate.Store, ms imgate.MessageStore)) {
	t.Helper()
	s.run(t, name, func(t *testing.T, st imgate.Store) { fn(t, st, st) })
}

// chat is a message from one user to another with the content.
func chat(appID string, from, to int64, content string) imgate.Message {
	return imgate.Message{
		AppID: appID, Kind: imgate.ConvChat, From: from, FromDevice: 1, To: to,
		Type: imgate.TypeChat, CType: 0, Content: content, At: at(10),
	}
}

// groupMsg is a message from a user to a group with the content.
func groupMsg(appID string, from, group int64, content string) imgate.Message {
	m := chat(appID, from, group, content)
	m.Kind, m.Type = imgate.ConvGroup, imgate.TypeGroupChat
	return m
}

// mustAppend appends msgs and fails t if it fails.
func mustAppend(t *testing.T, ms imgate.MessageStore, msgs ...imgate.Message) ([]imgate.Message, []bool) {
	t.Helper()
	out, dup, err := ms.AppendMessages(t.Context(), msgs)
	if err != nil {
		t.Fatalf("AppendMessages(%d) = %v", len(msgs), err)
	}
	if len(out) != len(msgs) || len(dup) != len(msgs) {
		t.Fatalf("AppendMessages(%d) = %d messages, %d dups; want %d each", len(msgs), len(out), len(dup), len(msgs))
	}
	return out, dup
}

// mustMessages lists a conversation from the start and fails t if it
// fails.
func mustMessages(t *testing.T, ms imgate.MessageStore, appID string, user int64, conv imgate.Conv) []imgate.Message {
	t.Helper()
	got, err := ms.Messages(t.Context(), appID, user, conv, 0, 1000)
	if err != nil {
		t.Fatalf("Messages(user %d, %+v) = %v", user, conv, err)
	}
	return got
}

func contents(msgs []imgate.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Content
	}
	return out
}

func msgSeqs(msgs []imgate.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

func msgIDs(msgs []imgate.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// wantSeqs fails t unless msgs have the seqs 1..n in order and strictly
// increasing ids.
func wantSeqs(t *testing.T, what string, msgs []imgate.Message, n int) {
	t.Helper()
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if d := diff(want, msgSeqs(msgs)); d != "" {
		t.Errorf("%s: seqs mismatch (-want +got):\n%s", what, d)
	}
	for i := 1; i < len(msgs); i++ {
		if msgs[i].ID <= msgs[i-1].ID {
			t.Errorf("%s: id %d at seq %d after id %d: ids must increase with seq", what, msgs[i].ID, msgs[i].Seq, msgs[i-1].ID)
		}
	}
}

func testChatSeqs(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b, c := ids[0], ids[1], ids[2]
	first, dup := mustAppend(t, ms, chat("app", a, b, "a1"))
	if dup[0] || first[0].Seq != 1 || first[0].ID == 0 {
		t.Errorf("first message = seq %d id %d dup %v; want seq 1, an id, no dup", first[0].Seq, first[0].ID, dup[0])
	}
	// One batch of both directions and another conversation.
	out, _ := mustAppend(t, ms, chat("app", b, a, "b1"), chat("app", a, c, "c1"), chat("app", a, b, "a2"), chat("app", b, a, "b2"))
	if d := diff([]int64{2, 1, 3, 4}, msgSeqs(out)); d != "" {
		t.Errorf("seqs of a batch mismatch (-want +got):\n%s", d)
	}
	want := imgate.Message{
		ID: out[0].ID, AppID: "app", Kind: imgate.ConvChat, Seq: 2, From: b, FromDevice: 1, To: a,
		Type: imgate.TypeChat, Content: "b1", At: at(10),
	}
	if d := diff(want, out[0]); d != "" {
		t.Errorf("appended message mismatch (-want +got):\n%s", d)
	}
	mustAppend(t, ms, chat("app", a, b, "a3"))
	for _, view := range []struct {
		user, peer int64
	}{{a, b}, {b, a}} {
		got := mustMessages(t, ms, "app", view.user, imgate.Conv{Kind: imgate.ConvChat, Peer: view.peer})
		wantSeqs(t, "chat as "+strconv.FormatInt(view.user, 10)+" sees it", got, 5)
		if d := diff([]string{"a1", "b1", "a2", "b2", "a3"}, contents(got)); d != "" {
			t.Errorf("chat of user %d with %d mismatch (-want +got):\n%s", view.user, view.peer, d)
		}
	}
	got := mustMessages(t, ms, "app", c, imgate.Conv{Kind: imgate.ConvChat, Peer: a})
	if d := diff([]string{"c1"}, contents(got)); d != "" || got[0].Seq != 1 {
		t.Errorf("chat of c with a mismatch (-want +got):\n%s", d)
	}
	if got := mustMessages(t, ms, "app", b, imgate.Conv{Kind: imgate.ConvChat, Peer: c}); len(got) != 0 {
		t.Errorf("chat of b with c = %d messages, want none", len(got))
	}
	// A note to self is a conversation of its own.
	self, _ := mustAppend(t, ms, chat("app", c, c, "note"))
	if got := mustMessages(t, ms, "app", c, imgate.Conv{Kind: imgate.ConvChat, Peer: c}); len(got) != 1 || got[0].ID != self[0].ID {
		t.Errorf("notes of c = %+v, want the one note", got)
	}
}

func testGroupMessages(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b, c := ids[0], ids[1], ids[2]
	g := mustGroup(t, st, newGroup("app", a, "g"), a, b, c).ID
	g2 := mustGroup(t, st, newGroup("app", a, "g2"), a).ID
	mustAppend(t, ms, groupMsg("app", a, g, "1"), groupMsg("app", b, g, "2"), groupMsg("app", a, g2, "other"))
	sys := groupMsg("app", 0, g, "3")
	sys.System, sys.FromDevice = true, 0
	mustAppend(t, ms, sys, groupMsg("app", c, g, "4"))
	for _, u := range ids {
		got := mustMessages(t, ms, "app", u, imgate.Conv{Kind: imgate.ConvGroup, Peer: g})
		wantSeqs(t, "group", got, 4)
		if d := diff([]string{"1", "2", "3", "4"}, contents(got)); d != "" {
			t.Errorf("group as user %d sees it mismatch (-want +got):\n%s", u, d)
		}
	}
	got := mustMessages(t, ms, "app", a, imgate.Conv{Kind: imgate.ConvGroup, Peer: g2})
	if d := diff([]string{"other"}, contents(got)); d != "" {
		t.Errorf("other group mismatch (-want +got):\n%s", d)
	}
	// The group's conversation goes with the group.
	mustUpdateGroup(t, st, "app", g, func(tx imgate.GroupTx) error { return tx.Destroy() })
	if got := mustMessages(t, ms, "app", a, imgate.Conv{Kind: imgate.ConvGroup, Peer: g}); len(got) != 0 {
		t.Errorf("messages of a destroyed group = %d, want none", len(got))
	}
	if _, _, err := ms.AppendMessages(t.Context(), []imgate.Message{groupMsg("app", a, g, "late")}); err == nil {
		t.Errorf("AppendMessages(to a destroyed group) = nil error, want one")
	}
}

func testDedupeClientMID(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 2)
	a, b := ids[0], ids[1]
	withMID := func(content string, mid int64, device uint32) imgate.Message {
		m := chat("app", a, b, content)
		m.ClientMID, m.FromDevice = mid, device
		return m
	}
	first, _ := mustAppend(t, ms, withMID("x", 7, 1))
	// A resend, a repeat inside the batch, the same client mid from
	// another device, which is another message, and another message with
	// the client mid of the first (a client mid made from the clock):
	// a client mid dedupes only the same message.
	out, dup := mustAppend(t, ms, withMID("x", 7, 1), withMID("y", 8, 1), withMID("y", 8, 1), withMID("z", 7, 2), withMID("x2", 7, 1))
	if d := diff([]bool{true, false, true, false, false}, dup); d != "" {
		t.Errorf("dups mismatch (-want +got):\n%s", d)
	}
	if d := diff(first[0], out[0]); d != "" {
		t.Errorf("a resend's result is not the first message (-want +got):\n%s", d)
	}
	if d := diff(out[1], out[2]); d != "" {
		t.Errorf("a repeat in the batch is not the batch's first (-want +got):\n%s", d)
	}
	if d := diff([]int64{1, 2, 2, 3, 4}, msgSeqs(out)); d != "" {
		t.Errorf("seqs mismatch (-want +got):\n%s", d)
	}
	// A batch of nothing but resends (of both messages of client mid 7)
	// stores nothing and leaves no gap.
	again, dup := mustAppend(t, ms, withMID("x2", 7, 1), withMID("y", 8, 1), withMID("x", 7, 1))
	if !dup[0] || !dup[1] || !dup[2] || again[0].ID != out[4].ID || again[2].ID != first[0].ID {
		t.Errorf("a batch of resends = %v, dups %v; want each the message it repeats", again, dup)
	}
	last, _ := mustAppend(t, ms, chat("app", b, a, "w"))
	if last[0].Seq != 5 {
		t.Errorf("seq after resends = %d, want 5", last[0].Seq)
	}
	got := mustMessages(t, ms, "app", a, imgate.Conv{Kind: imgate.ConvChat, Peer: b})
	wantSeqs(t, "chat after resends", got, 5)
	if d := diff([]string{"x", "y", "z", "x2", "w"}, contents(got)); d != "" {
		t.Errorf("stored messages mismatch (-want +got):\n%s", d)
	}
}

func testDedupeTransactionID(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	mustApp(t, st, "other")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b, c := ids[0], ids[1], ids[2]
	o := mustUsers(t, st, "other", "o", 2)
	withTx := func(app string, from, to int64, content, id string) imgate.Message {
		m := chat(app, from, to, content)
		m.TransactionID, m.FromDevice = id, 0
		return m
	}
	first, _ := mustAppend(t, ms, withTx("app", a, b, "x", "t1"))
	// The transaction id is unique in the app, whoever sends; another app
	// has its own.
	out, dup := mustAppend(t, ms,
		withTx("app", c, b, "x again", "t1"), withTx("app", a, b, "y", "t2"), withTx("app", a, b, "y again", "t2"),
		withTx("other", o[0], o[1], "x elsewhere", "t1"))
	if d := diff([]bool{true, false, true, false}, dup); d != "" {
		t.Errorf("dups mismatch (-want +got):\n%s", d)
	}
	if d := diff(first[0], out[0]); d != "" {
		t.Errorf("a resend's result is not the first message (-want +got):\n%s", d)
	}
	if out[2].ID != out[1].ID || out[3].AppID != "other" || out[3].Seq != 1 {
		t.Errorf("results = %+v, want the batch's repeat to be its first and the other app's message stored", out)
	}
	got := mustMessages(t, ms, "app", a, imgate.Conv{Kind: imgate.ConvChat, Peer: b})
	wantSeqs(t, "chat after resends", got, 2)
	if got := mustMessages(t, ms, "app", c, imgate.Conv{Kind: imgate.ConvChat, Peer: b}); len(got) != 0 {
		t.Errorf("chat of c with b = %d messages, want none: the resend was not stored", len(got))
	}
}

func testMessagePaging(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 2)
	a, b := ids[0], ids[1]
	var batch []imgate.Message
	for i := range 10 {
		batch = append(batch, chat("app", a, b, strconv.Itoa(i)))
	}
	out, _ := mustAppend(t, ms, batch...)
	conv := imgate.Conv{Kind: imgate.ConvChat, Peer: a}
	tests := []struct {
		name    string
		history bool
		cursor  int64
		limit   int
		want    []string
	}{
		{"from the start", false, 0, 3, []string{"0", "1", "2"}},
		{"after an id", false, out[2].ID, 3, []string{"3", "4", "5"}},
		{"after the last", false, out[9].ID, 3, nil},
		{"past the end", false, out[7].ID, 5, []string{"8", "9"}},
		{"zero limit", false, 0, 0, nil},
		{"from the newest", true, 0, 3, []string{"9", "8", "7"}},
		{"before an id", true, out[5].ID, 3, []string{"4", "3", "2"}},
		{"before the first", true, out[0].ID, 3, nil},
		{"to the start", true, out[2].ID, 5, []string{"1", "0"}},
	}
	for _, tt := range tests {
		page := ms.Messages
		if tt.history {
			page = ms.History
		}
		got, err := page(t.Context(), "app", b, conv, tt.cursor, tt.limit)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if d := diff(tt.want, contents(got)); d != "" {
			t.Errorf("%s: page mismatch (-want +got):\n%s", tt.name, d)
		}
	}
}

func testUpdateMessage(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	mustApp(t, st, "other")
	ids := mustUsers(t, st, "app", "u", 2)
	m := chat("app", ids[0], ids[1], "hello")
	m.Config, m.Attachment, m.Ext, m.ClientMID = `{"c":1}`, `{"a":1}`, `{"e":1}`, 99
	out, _ := mustAppend(t, ms, m)
	orig := out[0]
	got, err := ms.Message(t.Context(), "app", orig.ID)
	if err != nil {
		t.Fatalf("Message = %v", err)
	}
	if d := diff(orig, got); d != "" {
		t.Errorf("Message mismatch (-want +got):\n%s", d)
	}
	_, err = ms.Message(t.Context(), "other", orig.ID)
	wantCode(t, "Message(of another app)", err, imgate.CodeInvalidParameter)
	_, err = ms.Message(t.Context(), "app", orig.ID+1000)
	wantCode(t, "Message(no such id)", err, imgate.CodeInvalidParameter)

	edited, err := ms.UpdateMessage(t.Context(), "app", orig.ID, func(m *imgate.Message) error {
		m.Content, m.Ext, m.EditedAt = "hello, edited", `{"e":2}`, at(20)
		m.From, m.Seq, m.To, m.Type = 1, 9, 1, 9 // not the caller's to change
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateMessage(edit) = %v", err)
	}
	want := orig
	want.Content, want.Ext, want.EditedAt = "hello, edited", `{"e":2}`, at(20)
	if d := diff(want, edited); d != "" {
		t.Errorf("edited message mismatch (-want +got):\n%s", d)
	}
	recalled, err := ms.UpdateMessage(t.Context(), "app", orig.ID, func(m *imgate.Message) error {
		m.Recalled = true
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateMessage(recall) = %v", err)
	}
	want.Recalled = true
	if d := diff(want, recalled); d != "" {
		t.Errorf("recalled message mismatch (-want +got):\n%s", d)
	}
	if got, err := ms.Message(t.Context(), "app", orig.ID); err != nil || diff(want, got) != "" {
		t.Errorf("Message after updates = %+v, %v; want %+v", got, err, want)
	}
	_, err = ms.UpdateMessage(t.Context(), "other", orig.ID, func(*imgate.Message) error { return nil })
	wantCode(t, "UpdateMessage(of another app)", err, imgate.CodeInvalidParameter)
	refusal := imgate.Errorf(imgate.CodeForbidden, "no")
	_, err = ms.UpdateMessage(t.Context(), "app", orig.ID, func(m *imgate.Message) error {
		m.Content = "lost"
		return refusal
	})
	wantCode(t, "UpdateMessage(fn fails)", err, imgate.CodeForbidden)
	if got, _ := ms.Message(t.Context(), "app", orig.ID); got.Content != want.Content {
		t.Errorf("content after a failed update = %q, want %q", got.Content, want.Content)
	}
}

func testInvalidMessages(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 2)
	bad := chat("app", ids[0], ids[1], "bad")
	bad.Kind = 9
	_, _, err := ms.AppendMessages(t.Context(), []imgate.Message{chat("app", ids[0], ids[1], "good"), bad})
	wantCode(t, "AppendMessages(unknown kind)", err, imgate.CodeInvalidParameter)
	_, _, err = ms.AppendMessages(t.Context(), []imgate.Message{chat("app", ids[0], 0, "nobody")})
	wantCode(t, "AppendMessages(no recipient)", err, imgate.CodeInvalidParameter)
	if got := mustMessages(t, ms, "app", ids[0], imgate.Conv{Kind: imgate.ConvChat, Peer: ids[1]}); len(got) != 0 {
		t.Errorf("a refused batch stored %d messages, want none", len(got))
	}
	// A failed batch stores none of its messages.
	g := mustGroup(t, st, newGroup("app", ids[0], "g"), ids[0]).ID
	_, _, err = ms.AppendMessages(t.Context(), []imgate.Message{groupMsg("app", ids[0], g, "good"), groupMsg("app", ids[0], g+1000, "no group")})
	if err == nil {
		t.Errorf("AppendMessages(to no group) = nil error, want one")
	}
	if got := mustMessages(t, ms, "app", ids[0], imgate.Conv{Kind: imgate.ConvGroup, Peer: g}); len(got) != 0 {
		t.Errorf("a failed batch stored %d messages, want none", len(got))
	}
	out, dup, err := ms.AppendMessages(t.Context(), nil)
	if err != nil || len(out) != 0 || len(dup) != 0 {
		t.Errorf("AppendMessages(nil) = %v, %v, %v; want none", out, dup, err)
	}
}

func testMessageIsolation(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	mustApp(t, st, "other")
	ids := mustUsers(t, st, "app", "u", 2)
	a, b := ids[0], ids[1]
	g := mustGroup(t, st, newGroup("app", a, "g"), a, b).ID
	out, _ := mustAppend(t, ms, chat("app", a, b, "chat"), groupMsg("app", a, g, "group"))
	for _, conv := range []imgate.Conv{{Kind: imgate.ConvChat, Peer: b}, {Kind: imgate.ConvGroup, Peer: g}} {
		if got := mustMessages(t, ms, "other", a, conv); len(got) != 0 {
			t.Errorf("Messages(other app, %+v) = %d messages, want none", conv, len(got))
		}
		if got, err := ms.History(t.Context(), "other", a, conv, 0, 10); err != nil || len(got) != 0 {
			t.Errorf("History(other app, %+v) = %d messages, %v; want none", conv, len(got), err)
		}
	}
	_, err := ms.Message(t.Context(), "other", out[0].ID)
	wantCode(t, "Message(of another app)", err, imgate.CodeInvalidParameter)
	if got, err := ms.Unreads(t.Context(), "other", b); err != nil || len(got) != 0 {
		t.Errorf("Unreads(other app) = %+v, %v; want none", got, err)
	}
	// A group of one app is no group of another.
	o := mustUsers(t, st, "other", "o", 1)
	if _, _, err := ms.AppendMessages(t.Context(), []imgate.Message{groupMsg("other", o[0], g, "x")}); err == nil {
		t.Errorf("AppendMessages(to a group of another app) = nil error, want one")
	}
}

func testMarkRead(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 2)
	a, b := ids[0], ids[1]
	ctx := t.Context()
	toB := imgate.Conv{Kind: imgate.ConvChat, Peer: a}
	if err := ms.MarkRead(ctx, "app", b, toB, 3); err != nil {
		t.Errorf("MarkRead(no conversation yet) = %v, want nil", err)
	}
	out, _ := mustAppend(t, ms, chat("app", a, b, "1"), chat("app", a, b, "2"), chat("app", a, b, "3"))
	unread := func(want int64) {
		t.Helper()
		got, err := ms.Unreads(ctx, "app", b)
		if err != nil {
			t.Fatalf("Unreads = %v", err)
		}
		var wantList []imgate.Unread
		if want > 0 {
			wantList = []imgate.Unread{{Conv: toB, Count: want, LastID: out[2].ID}}
		}
		if d := diff(wantList, got); d != "" {
			t.Errorf("Unreads mismatch (-want +got):\n%s", d)
		}
	}
	unread(3)
	steps := []struct {
		seq, want int64
	}{{2, 1}, {99, 0}, {1, 2}, {-5, 3}, {3, 0}}
	for _, s := range steps {
		if err := ms.MarkRead(ctx, "app", b, toB, s.seq); err != nil {
			t.Fatalf("MarkRead(%d) = %v", s.seq, err)
		}
		unread(s.want)
	}
	// The sender has read its own messages.
	if got, err := ms.Unreads(ctx, "app", a); err != nil || len(got) != 0 {
		t.Errorf("Unreads of the sender = %+v, %v; want none", got, err)
	}
	// A sender's read position never moves back with its own send.
	mustAppend(t, ms, chat("app", b, a, "4"))
	if got, _ := ms.Unreads(ctx, "app", a); len(got) != 1 || got[0].Count != 1 {
		t.Errorf("Unreads of a after b's reply = %+v, want 1 unread", got)
	}
}

func testUnreads(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 4)
	me, b, c, d := ids[0], ids[1], ids[2], ids[3]
	g := mustGroup(t, st, newGroup("app", b, "g"), b, me, c).ID
	left := mustGroup(t, st, newGroup("app", b, "left"), b, me).ID
	mustGroup(t, st, newGroup("app", b, "quiet"), b, me)
	fromB, _ := mustAppend(t, ms, chat("app", b, me, "1"), chat("app", b, me, "2"))
	mustAppend(t, ms, chat("app", me, c, "mine")) // read by me
	fromD, _ := mustAppend(t, ms, chat("app", d, me, "x"))
	inG, _ := mustAppend(t, ms, groupMsg("app", b, g, "g1"), groupMsg("app", c, g, "g2"), groupMsg("app", me, g, "g3"), groupMsg("app", c, g, "g4"))
	mustAppend(t, ms, groupMsg("app", b, left, "l1"))
	mustAppend(t, ms, chat("app", b, c, "not mine"))
	mustUpdateGroup(t, st, "app", left, func(tx imgate.GroupTx) error { return tx.RemoveMember(me) })
	got, err := ms.Unreads(t.Context(), "app", me)
	if err != nil {
		t.Fatalf("Unreads = %v", err)
	}
	slices.SortFunc(got, func(x, y imgate.Unread) int { return int(x.LastID - y.LastID) })
	want := []imgate.Unread{
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: b}, Count: 2, LastID: fromB[1].ID},
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: d}, Count: 1, LastID: fromD[0].ID},
		// My own send in the group moved my read position past g1..g3.
		{Conv: imgate.Conv{Kind: imgate.ConvGroup, Peer: g}, Count: 1, LastID: inG[3].ID},
	}
	if diffs := diff(want, got); diffs != "" {
		t.Errorf("Unreads mismatch (-want +got):\n%s", diffs)
	}
	got, err = ms.Unreads(t.Context(), "app", c)
	if err != nil {
		t.Fatalf("Unreads(c) = %v", err)
	}
	slices.SortFunc(got, func(x, y imgate.Unread) int { return int(x.LastID - y.LastID) })
	want = []imgate.Unread{
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: me}, Count: 1},
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: b}, Count: 1},
	}
	if len(got) != 2 || got[0].Conv != want[0].Conv || got[1].Conv != want[1].Conv || got[0].Count != 1 || got[1].Count != 1 {
		t.Errorf("Unreads(c) = %+v, want one unread from me and one from b (group g read by c's own send)", got)
	}
}

func testChatOfDeletedUser(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 2)
	a, b := ids[0], ids[1]
	out, _ := mustAppend(t, ms, chat("app", a, b, "1"), chat("app", b, a, "2"))
	if err := ms.MarkRead(t.Context(), "app", b, imgate.Conv{Kind: imgate.ConvChat, Peer: a}, 2); err != nil {
		t.Fatalf("MarkRead = %v", err)
	}
	if err := st.DeleteUser(t.Context(), "app", b); err != nil {
		t.Fatalf("DeleteUser = %v", err)
	}
	got := mustMessages(t, ms, "app", a, imgate.Conv{Kind: imgate.ConvChat, Peer: b})
	if d := diff(msgIDs(out), msgIDs(got)); d != "" {
		t.Errorf("chat with a deleted user mismatch (-want +got):\n%s", d)
	}
	unreads, err := ms.Unreads(t.Context(), "app", a)
	want := []imgate.Unread{{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: b}, Count: 1, LastID: out[1].ID}}
	if err != nil || diff(want, unreads) != "" {
		t.Errorf("Unreads of the survivor = %+v, %v; want %+v", unreads, err, want)
	}
	// The survivor can still write to the chat.
	mustAppend(t, ms, chat("app", a, b, "3"))
}
