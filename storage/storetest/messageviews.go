package storetest

import (
	"testing"

	"github.com/imgate/imgate"
)

// testMessageViews checks what each user sees of a conversation: the
// messages since the read position, the messages hidden or cleared for
// one user alone, the history a new group member starts after, and the
// list of conversations.
func (s suite) testMessageViews(t *testing.T) {
	s.runMessages(t, "messages since read", testMessagesSinceRead)
	s.runMessages(t, "read seq", testReadSeq)
	s.runMessages(t, "conversations", testConversations)
	s.runMessages(t, "hide a chat message", testHideChatMessage)
	s.runMessages(t, "hide a group message", testHideGroupMessage)
	s.runMessages(t, "hide refusals", testHideRefusals)
	s.runMessages(t, "clear a conversation", testClearConversation)
	s.runMessages(t, "clear a group conversation", testClearGroup)
	s.runMessages(t, "join a group with visible history", testJoinVisibleHistory)
	s.runMessages(t, "join a group with hidden history", testJoinHiddenHistory)
}

// view is one user's lists of a conversation, by content: Messages and
// History in full, and MessagesSinceRead.
type view struct {
	messages, history, sinceRead []string
}

// viewOf reads user's view of conv.
func viewOf(t *testing.T, ms imgate.MessageStore, user int64, conv imgate.Conv) view {
	t.Helper()
	ctx := t.Context()
	msgs, err := ms.Messages(ctx, "app", user, conv, 0, 1000)
	if err != nil {
		t.Fatalf("Messages(user %d, %+v) = %v", user, conv, err)
	}
	hist, err := ms.History(ctx, "app", user, conv, 0, 1000)
	if err != nil {
		t.Fatalf("History(user %d, %+v) = %v", user, conv, err)
	}
	since, err := ms.MessagesSinceRead(ctx, "app", user, conv, 1000)
	if err != nil {
		t.Fatalf("MessagesSinceRead(user %d, %+v) = %v", user, conv, err)
	}
	return view{messages: contents(msgs), history: contents(hist), sinceRead: contents(since)}
}

// wantView fails t unless user sees conv as the contents all, oldest
// first, with the contents unread since the read position.
func wantView(t *testing.T, what string, ms imgate.MessageStore, user int64, conv imgate.Conv, all, unread []string) {
	t.Helper()
	got := viewOf(t, ms, user, conv)
	rev := make([]string, len(all))
	for i, c := range all {
		rev[len(all)-1-i] = c
	}
	if d := diff(all, got.messages); d != "" {
		t.Errorf("%s: Messages of user %d mismatch (-want +got):\n%s", what, user, d)
	}
	if d := diff(rev, got.history); d != "" {
		t.Errorf("%s: History of user %d mismatch (-want +got):\n%s", what, user, d)
	}
	if d := diff(unread, got.sinceRead); d != "" {
		t.Errorf("%s: MessagesSinceRead of user %d mismatch (-want +got):\n%s", what, user, d)
	}
}

// wantUnread fails t unless user's Unreads has count unread in conv (no
// entry for 0).
func wantUnread(t *testing.T, what string, ms imgate.MessageStore, user int64, conv imgate.Conv, count int64) {
	t.Helper()
	list, err := ms.Unreads(t.Context(), "app", user)
	if err != nil {
		t.Fatalf("%s: Unreads(user %d) = %v", what, user, err)
	}
	var got int64
	for _, u := range list {
		if u.Conv == conv {
			got = u.Count
		}
	}
	if got != count {
		t.Errorf("%s: unread of user %d in %+v = %d (Unreads %+v), want %d", what, user, conv, got, list, count)
	}
}

// mustReadSeq returns user's read position in conv.
func mustReadSeq(t *testing.T, ms imgate.MessageStore, user int64, conv imgate.Conv) int64 {
	t.Helper()
	seq, err := ms.ReadSeq(t.Context(), "app", user, conv)
	if err != nil {
		t.Fatalf("ReadSeq(user %d, %+v) = %v", user, conv, err)
	}
	return seq
}

// chats sends n messages from one user to another, with the contents
// prefix1..prefixn.
func chats(t *testing.T, ms imgate.MessageStore, from, to int64, prefix string, n int) []imgate.Message {
	t.Helper()
	batch := make([]imgate.Message, n)
	for i := range batch {
		batch[i] = chat("app", from, to, prefix+string(rune('1'+i)))
	}
	out, _ := mustAppend(t, ms, batch...)
	return out
}

// groupMsgs sends n messages from a user to a group, with the contents
// prefix1..prefixn.
func groupMsgs(t *testing.T, ms imgate.MessageStore, from, group int64, prefix string, n int) []imgate.Message {
	t.Helper()
	batch := make([]imgate.Message, n)
	for i := range batch {
		batch[i] = groupMsg("app", from, group, prefix+string(rune('1'+i)))
	}
	out, _ := mustAppend(t, ms, batch...)
	return out
}

func testMessagesSinceRead(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b, c := ids[0], ids[1], ids[2]
	ctx := t.Context()
	withA := imgate.Conv{Kind: imgate.ConvChat, Peer: a}
	if got, err := ms.MessagesSinceRead(ctx, "app", b, withA, 10); err != nil || len(got) != 0 {
		t.Errorf("MessagesSinceRead(no conversation) = %d messages, %v; want none", len(got), err)
	}
	chats(t, ms, a, b, "m", 5)
	chats(t, ms, a, c, "other", 2)
	tests := []struct {
		read  int64
		limit int
		want  []string
	}{
		{0, 10, []string{"m1", "m2", "m3", "m4", "m5"}},
		{2, 10, []string{"m3", "m4", "m5"}},
		{2, 2, []string{"m3", "m4"}},
		{2, 0, nil},
		{5, 10, nil},
		{4, 10, []string{"m5"}},
	}
	for _, tt := range tests {
		if err := ms.MarkRead(ctx, "app", b, withA, tt.read); err != nil {
			t.Fatalf("MarkRead(%d) = %v", tt.read, err)
		}
		got, err := ms.MessagesSinceRead(ctx, "app", b, withA, tt.limit)
		if err != nil {
			t.Fatalf("MessagesSinceRead(read %d, limit %d) = %v", tt.read, tt.limit, err)
		}
		if d := diff(tt.want, contents(got)); d != "" {
			t.Errorf("MessagesSinceRead(read %d, limit %d) mismatch (-want +got):\n%s", tt.read, tt.limit, d)
		}
	}
	// The sender has read its own messages.
	if got, err := ms.MessagesSinceRead(ctx, "app", a, imgate.Conv{Kind: imgate.ConvChat, Peer: b}, 10); err != nil || len(got) != 0 {
		t.Errorf("MessagesSinceRead(sender) = %v, %v; want none", contents(got), err)
	}
	if got, err := ms.MessagesSinceRead(ctx, "other", b, withA, 10); err != nil || len(got) != 0 {
		t.Errorf("MessagesSinceRead(other app) = %d messages, %v; want none", len(got), err)
	}
	_, err := ms.MessagesSinceRead(ctx, "app", b, imgate.Conv{Kind: 9, Peer: a}, 10)
	wantCode(t, "MessagesSinceRead(unknown kind)", err, imgate.CodeInvalidParameter)
}

func testReadSeq(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b, c := ids[0], ids[1], ids[2]
	g := mustGroup(t, st, newGroup("app", a, "g"), a, b).ID
	withA := imgate.Conv{Kind: imgate.ConvChat, Peer: a}
	inG := imgate.Conv{Kind: imgate.ConvGroup, Peer: g}
	if got := mustReadSeq(t, ms, b, withA); got != 0 {
		t.Errorf("ReadSeq(no conversation) = %d, want 0", got)
	}
	chats(t, ms, a, b, "m", 4)
	groupMsgs(t, ms, a, g, "g", 3)
	checks := []struct {
		what string
		user int64
		conv imgate.Conv
		want int64
	}{
		{"unread chat", b, withA, 0},
		{"sender of a chat", a, imgate.Conv{Kind: imgate.ConvChat, Peer: b}, 4},
		{"unread group", b, inG, 0},
		{"sender in a group", a, inG, 3},
		{"no conversation", c, withA, 0},
	}
	for _, ch := range checks {
		if got := mustReadSeq(t, ms, ch.user, ch.conv); got != ch.want {
			t.Errorf("ReadSeq(%s) = %d, want %d", ch.what, got, ch.want)
		}
	}
	for _, seq := range []int64{2, 1, 4} {
		if err := ms.MarkRead(t.Context(), "app", b, withA, seq); err != nil {
			t.Fatalf("MarkRead(%d) = %v", seq, err)
		}
		if got := mustReadSeq(t, ms, b, withA); got != seq {
			t.Errorf("ReadSeq after MarkRead(%d) = %d, want %d", seq, got, seq)
		}
	}
	if got, err := ms.ReadSeq(t.Context(), "other", b, withA); err != nil || got != 0 {
		t.Errorf("ReadSeq(other app) = %d, %v; want 0", got, err)
	}
}

func testConversations(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 4)
	me, b, c, d := ids[0], ids[1], ids[2], ids[3]
	g := mustGroup(t, st, newGroup("app", b, "g"), b, me, c).ID
	left := mustGroup(t, st, newGroup("app", b, "left"), b, me).ID
	mustGroup(t, st, newGroup("app", b, "quiet"), b, me)
	if got, err := ms.Conversations(t.Context(), "app", me); err != nil || len(got) != 0 {
		t.Errorf("Conversations(before any message) = %+v, %v; want none", got, err)
	}
	fromB := chats(t, ms, b, me, "b", 2)    // unread
	mine := chats(t, ms, me, c, "c", 3)     // read by my send
	inG := groupMsgs(t, ms, b, g, "g", 3)   // read up to 2 below
	groupMsgs(t, ms, b, left, "l", 1)       // a group I left
	chats(t, ms, b, c, "x", 1)              // not mine
	fromD := chats(t, ms, d, me, "d", 1)    // read below
	self := chats(t, ms, me, me, "note", 1) // notes to self
	mustUpdateGroup(t, st, "app", left, func(tx imgate.GroupTx) error { return tx.RemoveMember(me) })
	for _, r := range []struct {
		conv imgate.Conv
		seq  int64
	}{{imgate.Conv{Kind: imgate.ConvGroup, Peer: g}, 2}, {imgate.Conv{Kind: imgate.ConvChat, Peer: d}, 1}} {
		if err := ms.MarkRead(t.Context(), "app", me, r.conv, r.seq); err != nil {
			t.Fatalf("MarkRead(%+v) = %v", r.conv, err)
		}
	}
	got, err := ms.Conversations(t.Context(), "app", me)
	if err != nil {
		t.Fatalf("Conversations = %v", err)
	}
	// Newest message first.
	want := []imgate.ConvState{
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: me}, LastSeq: 1, LastID: self[0].ID, ReadSeq: 1, ReadID: self[0].ID},
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: d}, LastSeq: 1, LastID: fromD[0].ID, ReadSeq: 1, ReadID: fromD[0].ID},
		{Conv: imgate.Conv{Kind: imgate.ConvGroup, Peer: g}, LastSeq: 3, LastID: inG[2].ID, ReadSeq: 2, ReadID: inG[1].ID, Unread: 1},
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: c}, LastSeq: 3, LastID: mine[2].ID, ReadSeq: 3, ReadID: mine[2].ID},
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: b}, LastSeq: 2, LastID: fromB[1].ID, ReadSeq: 0, Unread: 2},
	}
	if diffs := diff(want, got); diffs != "" {
		t.Errorf("Conversations mismatch (-want +got):\n%s", diffs)
	}
	// The peer's side of a chat names the peer.
	got, err = ms.Conversations(t.Context(), "app", d)
	wantD := []imgate.ConvState{{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: me}, LastSeq: 1, LastID: fromD[0].ID, ReadSeq: 1, ReadID: fromD[0].ID}}
	if err != nil || diff(wantD, got) != "" {
		t.Errorf("Conversations(d) = %+v, %v; want %+v", got, err, wantD)
	}
	if got, err := ms.Conversations(t.Context(), "other", me); err != nil || len(got) != 0 {
		t.Errorf("Conversations(other app) = %+v, %v; want none", got, err)
	}
}

func testHideChatMessage(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 2)
	a, b := ids[0], ids[1]
	ctx := t.Context()
	withA := imgate.Conv{Kind: imgate.ConvChat, Peer: a}
	withB := imgate.Conv{Kind: imgate.ConvChat, Peer: b}
	out := chats(t, ms, a, b, "m", 4)
	for range 2 { // hiding again changes nothing
		if err := ms.HideMessage(ctx, "app", b, withA, out[1].ID); err != nil {
			t.Fatalf("HideMessage(m2 from b) = %v", err)
		}
	}
	wantView(t, "m2 hidden from b", ms, b, withA, []string{"m1", "m3", "m4"}, []string{"m1", "m3", "m4"})
	wantView(t, "m2 hidden from b, as a sees it", ms, a, withB, []string{"m1", "m2", "m3", "m4"}, nil)
	// The sender hides its own message from itself alone.
	if err := ms.HideMessage(ctx, "app", a, withB, out[3].ID); err != nil {
		t.Fatalf("HideMessage(m4 from a) = %v", err)
	}
	wantView(t, "m4 hidden from a", ms, a, withB, []string{"m1", "m2", "m3"}, nil)
	wantView(t, "m4 hidden from a, as b sees it", ms, b, withA, []string{"m1", "m3", "m4"}, []string{"m1", "m3", "m4"})
	// Pages skip a hidden message without coming up short.
	page, err := ms.Messages(ctx, "app", b, withA, out[0].ID, 1)
	if err != nil || len(page) != 1 || page[0].ID != out[2].ID {
		t.Errorf("Messages(b, after m1, limit 1) = %v, %v; want m3", contents(page), err)
	}
	page, err = ms.History(ctx, "app", b, withA, out[2].ID, 1)
	if err != nil || len(page) != 1 || page[0].ID != out[0].ID {
		t.Errorf("History(b, before m3, limit 1) = %v, %v; want m1", contents(page), err)
	}
	if err := ms.MarkRead(ctx, "app", b, withA, 1); err != nil {
		t.Fatalf("MarkRead = %v", err)
	}
	wantView(t, "read up to m1", ms, b, withA, []string{"m1", "m3", "m4"}, []string{"m3", "m4"})
	// Hiding does not read: the count stays the conversation's.
	wantUnread(t, "after hiding", ms, b, withA, 3)
	// The hide goes with the hider.
	if err := st.DeleteUser(ctx, "app", b); err != nil {
		t.Fatalf("DeleteUser = %v", err)
	}
	wantView(t, "after the hider is deleted", ms, a, withB, []string{"m1", "m2", "m3"}, nil)
}

func testHideGroupMessage(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b, c := ids[0], ids[1], ids[2]
	g := mustGroup(t, st, newGroup("app", a, "g"), a, b, c).ID
	inG := imgate.Conv{Kind: imgate.ConvGroup, Peer: g}
	out := groupMsgs(t, ms, a, g, "g", 3)
	if err := ms.HideMessage(t.Context(), "app", b, inG, out[0].ID); err != nil {
		t.Fatalf("HideMessage = %v", err)
	}
	wantView(t, "g1 hidden from b", ms, b, inG, []string{"g2", "g3"}, []string{"g2", "g3"})
	wantView(t, "g1 hidden from b, as c sees it", ms, c, inG, []string{"g1", "g2", "g3"}, []string{"g1", "g2", "g3"})
	// The hides go with the group's messages.
	mustUpdateGroup(t, st, "app", g, func(tx imgate.GroupTx) error { return tx.Destroy() })
	if got := mustMessages(t, ms, "app", b, inG); len(got) != 0 {
		t.Errorf("messages of a destroyed group = %d, want none", len(got))
	}
}

func testHideRefusals(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	mustApp(t, st, "other")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b, c := ids[0], ids[1], ids[2]
	g := mustGroup(t, st, newGroup("app", a, "g"), a, b).ID
	ab := chats(t, ms, a, b, "m", 1)[0]
	ac := chats(t, ms, a, c, "c", 1)[0]
	inG := groupMsgs(t, ms, a, g, "g", 1)[0]
	ctx := t.Context()
	tests := []struct {
		name string
		app  string
		user int64
		conv imgate.Conv
		id   int64
		code int
	}{
		{"no such message", "app", b, imgate.Conv{Kind: imgate.ConvChat, Peer: a}, ac.ID + 1000, imgate.CodeInvalidParameter},
		{"message of another chat", "app", b, imgate.Conv{Kind: imgate.ConvChat, Peer: a}, ac.ID, imgate.CodeInvalidParameter},
		{"not a user of the chat", "app", c, imgate.Conv{Kind: imgate.ConvChat, Peer: a}, ab.ID, imgate.CodeInvalidParameter},
		{"chat message as a group's", "app", b, imgate.Conv{Kind: imgate.ConvGroup, Peer: g}, ab.ID, imgate.CodeInvalidParameter},
		{"group message as a chat's", "app", b, imgate.Conv{Kind: imgate.ConvChat, Peer: a}, inG.ID, imgate.CodeInvalidParameter},
		{"another app", "other", b, imgate.Conv{Kind: imgate.ConvChat, Peer: a}, ab.ID, imgate.CodeInvalidParameter},
		{"unknown kind", "app", b, imgate.Conv{Kind: 9, Peer: a}, ab.ID, imgate.CodeInvalidParameter},
		{"no such user", "app", c + 1000, imgate.Conv{Kind: imgate.ConvGroup, Peer: g}, inG.ID, imgate.CodeUserNotFound},
	}
	for _, tt := range tests {
		err := ms.HideMessage(ctx, tt.app, tt.user, tt.conv, tt.id)
		wantCode(t, "HideMessage("+tt.name+")", err, tt.code)
	}
	wantView(t, "after refused hides", ms, b, imgate.Conv{Kind: imgate.ConvChat, Peer: a}, []string{"m1"}, []string{"m1"})
	wantView(t, "after refused hides", ms, c, imgate.Conv{Kind: imgate.ConvChat, Peer: a}, []string{"c1"}, []string{"c1"})
}

func testClearConversation(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b, c := ids[0], ids[1], ids[2]
	ctx := t.Context()
	withA := imgate.Conv{Kind: imgate.ConvChat, Peer: a}
	withB := imgate.Conv{Kind: imgate.ConvChat, Peer: b}
	// Nothing to clear.
	if err := ms.ClearConversation(ctx, "app", b, withA); err != nil {
		t.Errorf("ClearConversation(no conversation) = %v, want nil", err)
	}
	out := chats(t, ms, a, b, "m", 3)
	chats(t, ms, a, c, "c", 2)
	if err := ms.HideMessage(ctx, "app", b, withA, out[1].ID); err != nil {
		t.Fatalf("HideMessage = %v", err)
	}
	wantUnread(t, "before clearing", ms, b, withA, 3)
	for range 2 { // clearing again changes nothing
		if err := ms.ClearConversation(ctx, "app", b, withA); err != nil {
			t.Fatalf("ClearConversation = %v", err)
		}
	}
	wantView(t, "cleared", ms, b, withA, nil, nil)
	wantUnread(t, "cleared", ms, b, withA, 0)
	if got := mustReadSeq(t, ms, b, withA); got != 3 {
		t.Errorf("ReadSeq after clearing = %d, want 3", got)
	}
	wantView(t, "cleared by b, as a sees it", ms, a, withB, []string{"m1", "m2", "m3"}, nil)
	wantView(t, "another chat", ms, c, withA, []string{"c1", "c2"}, []string{"c1", "c2"})
	// Later messages show as usual.
	next := chats(t, ms, a, b, "new", 1)
	wantView(t, "a message after clearing", ms, b, withA, []string{"new1"}, []string{"new1"})
	wantUnread(t, "a message after clearing", ms, b, withA, 1)
	// Moving the read position back does not bring the cleared back.
	if err := ms.MarkRead(ctx, "app", b, withA, 0); err != nil {
		t.Fatalf("MarkRead(0) = %v", err)
	}
	wantView(t, "read position moved back", ms, b, withA, []string{"new1"}, []string{"new1"})
	page, err := ms.Messages(ctx, "app", b, withA, out[0].ID, 10)
	if err != nil || len(page) != 1 || page[0].ID != next[0].ID {
		t.Errorf("Messages(after a cleared id) = %v, %v; want only new1", contents(page), err)
	}
	// The clearer's own send shows too.
	chats(t, ms, b, a, "reply", 1)
	wantView(t, "b's reply", ms, b, withA, []string{"new1", "reply1"}, nil)
	chats(t, ms, a, b, "more", 1)
	wantUnread(t, "another message", ms, b, withA, 1)
	if err := ms.ClearConversation(ctx, "app", b, withA); err != nil {
		t.Fatalf("ClearConversation(again) = %v", err)
	}
	wantView(t, "cleared again", ms, b, withA, nil, nil)
	wantUnread(t, "cleared again", ms, b, withA, 0)
	if got := mustReadSeq(t, ms, b, withA); got != 6 {
		t.Errorf("ReadSeq after clearing again = %d, want 6", got)
	}
	err = ms.ClearConversation(ctx, "app", b, imgate.Conv{Kind: 9, Peer: a})
	wantCode(t, "ClearConversation(unknown kind)", err, imgate.CodeInvalidParameter)
}

func testClearGroup(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b, c := ids[0], ids[1], ids[2]
	g := mustGroup(t, st, newGroup("app", a, "g"), a, b, c).ID
	inG := imgate.Conv{Kind: imgate.ConvGroup, Peer: g}
	groupMsgs(t, ms, a, g, "g", 3)
	if err := ms.ClearConversation(t.Context(), "app", b, inG); err != nil {
		t.Fatalf("ClearConversation = %v", err)
	}
	wantView(t, "cleared by b", ms, b, inG, nil, nil)
	wantView(t, "cleared by b, as c sees it", ms, c, inG, []string{"g1", "g2", "g3"}, []string{"g1", "g2", "g3"})
	groupMsgs(t, ms, c, g, "later", 2)
	wantView(t, "after clearing", ms, b, inG, []string{"later1", "later2"}, []string{"later1", "later2"})
	wantUnread(t, "after clearing", ms, b, inG, 2)
}

// joinGroup adds the users to the group in one transaction.
func joinGroup(t *testing.T, st imgate.Store, g int64, users ...int64) {
	t.Helper()
	mustUpdateGroup(t, st, "app", g, func(tx imgate.GroupTx) error { return addMembers(tx, users...) })
}

func testJoinVisibleHistory(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b, c := ids[0], ids[1], ids[2]
	grp := newGroup("app", a, "g")
	grp.HistoryVisible = true
	g := mustGroup(t, st, grp, a).ID
	inG := imgate.Conv{Kind: imgate.ConvGroup, Peer: g}
	before := []string{"g1", "g2", "g3", "g4", "g5"}
	groupMsgs(t, ms, a, g, "g", 5)
	joinGroup(t, st, g, b, c)
	for _, u := range []int64{b, c} {
		wantUnread(t, "joined after 5 messages", ms, u, inG, 0)
		if got := mustReadSeq(t, ms, u, inG); got != 5 {
			t.Errorf("ReadSeq of a new member = %d, want 5", got)
		}
		wantView(t, "visible history", ms, u, inG, before, nil)
	}
	groupMsgs(t, ms, a, g, "after", 1)
	wantUnread(t, "a message after joining", ms, b, inG, 1)
	wantView(t, "a message after joining", ms, b, inG, append(before, "after1"), []string{"after1"})
	// A member who cleared, left and came back keeps the clear.
	if err := ms.ClearConversation(t.Context(), "app", c, inG); err != nil {
		t.Fatalf("ClearConversation = %v", err)
	}
	mustUpdateGroup(t, st, "app", g, func(tx imgate.GroupTx) error { return tx.RemoveMember(c) })
	groupMsgs(t, ms, a, g, "away", 1)
	joinGroup(t, st, g, c)
	wantView(t, "back after clearing", ms, c, inG, []string{"away1"}, nil)
	wantUnread(t, "back after clearing", ms, c, inG, 0)
}

func testJoinHiddenHistory(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 4)
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	g := mustGroup(t, st, newGroup("app", a, "g"), a, d).ID // HistoryVisible false
	inG := imgate.Conv{Kind: imgate.ConvGroup, Peer: g}
	before := groupMsgs(t, ms, a, g, "g", 5)
	joinGroup(t, st, g, b, c)
	for _, u := range []int64{b, c} {
		wantUnread(t, "joined after 5 messages", ms, u, inG, 0)
		if got := mustReadSeq(t, ms, u, inG); got != 5 {
			t.Errorf("ReadSeq of a new member = %d, want 5", got)
		}
		wantView(t, "hidden history", ms, u, inG, nil, nil)
	}
	// A member from before sees it all.
	all := []string{"g1", "g2", "g3", "g4", "g5"}
	wantView(t, "an earlier member", ms, d, inG, all, all)
	wantUnread(t, "an earlier member", ms, d, inG, 5)
	last := groupMsgs(t, ms, a, g, "after", 2)
	wantView(t, "messages after joining", ms, b, inG, []string{"after1", "after2"}, []string{"after1", "after2"})
	wantUnread(t, "messages after joining", ms, b, inG, 2)
	states, err := ms.Conversations(t.Context(), "app", b)
	want := []imgate.ConvState{{Conv: inG, LastSeq: 7, LastID: last[1].ID, ReadSeq: 5, ReadID: before[4].ID, Unread: 2}}
	if err != nil || diff(want, states) != "" {
		t.Errorf("Conversations of a new member = %+v, %v; want %+v", states, err, want)
	}
	// Whoever leaves and comes back does not see what was sent meanwhile.
	mustUpdateGroup(t, st, "app", g, func(tx imgate.GroupTx) error { return tx.RemoveMember(b) })
	groupMsgs(t, ms, a, g, "away", 1)
	joinGroup(t, st, g, b)
	wantView(t, "back", ms, b, inG, nil, nil)
	// Opening the history later opens it to the next members only.
	mustUpdateGroup(t, st, "app", g, func(tx imgate.GroupTx) error {
		grp := tx.Group()
		grp.HistoryVisible = true
		if err := tx.SaveGroup(grp); err != nil {
			return err
		}
		return tx.RemoveMember(d)
	})
	joinGroup(t, st, g, d)
	if got := viewOf(t, ms, d, inG); len(got.messages) != 8 || len(got.sinceRead) != 0 {
		t.Errorf("view of a member who joined when history became visible = %+v, want all 8 messages, none unread", got)
	}
	if got := viewOf(t, ms, b, inG); len(got.messages) != 0 {
		t.Errorf("view of a member who joined before = %+v, want none", got)
	}
}
