package storetest

import (
	"cmp"
	"slices"
	"strconv"
	"testing"

	"github.com/imgate/imgate"
)

// testOperUnreads checks that OPER messages (RECALL, APPEND, REPLACE
// stored in the conversation) travel with the others but count as no
// unread message.
func (s suite) testOperUnreads(t *testing.T) {
	s.runMessages(t, "oper messages in a chat", testOperChat)
	s.runMessages(t, "nothing but oper messages unread", testOperOnly)
	s.runMessages(t, "oper messages in a group", testOperGroup)
	s.runMessages(t, "oper messages and resends", testOperResends)
}

// oper is an OPER message from one user in a chat with another that
// recalls the message id, with the content.
func oper(from, to, id int64, content string) imgate.Message {
	m := chat("app", from, to, content)
	m.Type, m.CType, m.Op, m.OpMID = imgate.TypeOper, imgate.CTypeCommand, imgate.OpRecall, id
	return m
}

// groupOper is an OPER message from a user to a group that recalls the
// message id, with the content.
func groupOper(from, group, id int64, content string) imgate.Message {
	m := oper(from, group, id, content)
	m.Kind = imgate.ConvGroup
	return m
}

// wantUnreads fails t unless user's Unreads are want, in any order.
func wantUnreads(t *testing.T, what string, ms imgate.MessageStore, user int64, want []imgate.Unread) {
	t.Helper()
	got, err := ms.Unreads(t.Context(), "app", user)
	if err != nil {
		t.Fatalf("%s: Unreads(user %d) = %v", what, user, err)
	}
	byConv := func(x, y imgate.Unread) int {
		return cmp.Or(cmp.Compare(x.Conv.Kind, y.Conv.Kind), cmp.Compare(x.Conv.Peer, y.Conv.Peer))
	}
	got, want = slices.SortedFunc(slices.Values(got), byConv), slices.SortedFunc(slices.Values(want), byConv)
	if d := diff(want, got); d != "" {
		t.Errorf("%s: Unreads of user %d mismatch (-want +got):\n%s", what, user, d)
	}
}

// mustMarkRead moves user's read position in conv to seq.
func mustMarkRead(t *testing.T, ms imgate.MessageStore, user int64, conv imgate.Conv, seq int64) {
	t.Helper()
	if err := ms.MarkRead(t.Context(), "app", user, conv, seq); err != nil {
		t.Fatalf("MarkRead(user %d, %+v, %d) = %v", user, conv, seq, err)
	}
}

func testOperChat(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 2)
	a, b := ids[0], ids[1]
	withA := imgate.Conv{Kind: imgate.ConvChat, Peer: a}
	out := chats(t, ms, a, b, "m", 3)
	op, _ := mustAppend(t, ms, oper(a, b, out[0].ID, "op1"))
	if op[0].Seq != 4 {
		t.Fatalf("seq of the oper message = %d, want 4: it takes its place in the conversation", op[0].Seq)
	}
	wantUnreads(t, "3 messages and an oper message", ms, b, []imgate.Unread{{Conv: withA, Count: 3, LastID: op[0].ID}})
	// The oper message is still sent to devices that know nothing yet.
	wantView(t, "3 messages and an oper message", ms, b, withA,
		[]string{"m1", "m2", "m3", "op1"}, []string{"m1", "m2", "m3", "op1"})
	steps := []struct {
		seq, want int64
	}{{4, 0}, {3, 0}, {2, 1}, {0, 3}, {1, 2}, {99, 0}}
	for _, s := range steps {
		mustMarkRead(t, ms, b, withA, s.seq)
		wantUnread(t, "read up to "+strconv.FormatInt(s.seq, 10), ms, b, withA, s.want)
		if s.want == 0 {
			wantUnreads(t, "read past the last message that counts", ms, b, nil)
		}
	}
	// Read positions are seqs still, oper messages included.
	if got := mustReadSeq(t, ms, b, withA); got != 4 {
		t.Errorf("ReadSeq after MarkRead(99) = %d, want 4", got)
	}
	mustMarkRead(t, ms, b, withA, 0)
	// A batch that mixes them: seqs run on, counts skip the oper message.
	more, _ := mustAppend(t, ms, chat("app", a, b, "m4"), oper(a, b, out[1].ID, "op2"), chat("app", a, b, "m5"))
	if d := diff([]int64{5, 6, 7}, msgSeqs(more)); d != "" {
		t.Errorf("seqs of a mixed batch mismatch (-want +got):\n%s", d)
	}
	wantUnreads(t, "after a mixed batch", ms, b, []imgate.Unread{{Conv: withA, Count: 5, LastID: more[2].ID}})
	mustMarkRead(t, ms, b, withA, 6)
	wantUnread(t, "read up to the second oper message", ms, b, withA, 1)
	// The sender has read it all; an oper message of the peer does not
	// count for it either, and moves the peer's own read position.
	wantUnreads(t, "the sender", ms, a, nil)
	back, _ := mustAppend(t, ms, oper(b, a, more[2].ID, "op3"))
	wantUnreads(t, "the peer's oper message", ms, a, nil)
	wantUnreads(t, "after the reader's own oper message", ms, b, nil)
	if got := mustReadSeq(t, ms, b, withA); got != back[0].Seq {
		t.Errorf("ReadSeq of the sender of an oper message = %d, want its seq %d", got, back[0].Seq)
	}
	reply, _ := mustAppend(t, ms, chat("app", b, a, "r1"))
	wantUnreads(t, "a reply", ms, a, []imgate.Unread{{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: b}, Count: 1, LastID: reply[0].ID}})
}

func testOperOnly(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	b, c, d := ids[0], ids[1], ids[2]
	withC := imgate.Conv{Kind: imgate.ConvChat, Peer: c}
	withD := imgate.Conv{Kind: imgate.ConvChat, Peer: d}
	// A conversation whose only message is an oper message.
	first, _ := mustAppend(t, ms, oper(c, b, 1, "op"))
	wantUnreads(t, "an oper message alone", ms, b, nil)
	states, err := ms.Conversations(t.Context(), "app", b)
	want := []imgate.ConvState{{Conv: withC, LastSeq: 1, LastID: first[0].ID}}
	if err != nil || diff(want, states) != "" {
		t.Errorf("Conversations with an oper message alone = %+v, %v; want %+v", states, err, want)
	}
	// A conversation read but for an oper message.
	out := chats(t, ms, d, b, "m", 1)
	mustMarkRead(t, ms, b, withD, 1)
	mustAppend(t, ms, oper(d, b, out[0].ID, "op"))
	wantUnreads(t, "read but for an oper message", ms, b, nil)
	last := chats(t, ms, d, b, "n", 1)
	wantUnreads(t, "a message after the oper message", ms, b, []imgate.Unread{{Conv: withD, Count: 1, LastID: last[0].ID}})
	// Cleared, then an oper message.
	if err := ms.ClearConversation(t.Context(), "app", b, withD); err != nil {
		t.Fatalf("ClearConversation = %v", err)
	}
	mustAppend(t, ms, oper(d, b, last[0].ID, "op"))
	wantUnreads(t, "an oper message after clearing", ms, b, nil)
	last = chats(t, ms, d, b, "p", 2)
	wantUnreads(t, "messages after clearing", ms, b, []imgate.Unread{{Conv: withD, Count: 2, LastID: last[1].ID}})
}

func testOperGroup(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 5)
	a, b, c, d, e := ids[0], ids[1], ids[2], ids[3], ids[4]
	g := mustGroup(t, st, newGroup("app", a, "g"), a, b, c, e).ID
	inG := imgate.Conv{Kind: imgate.ConvGroup, Peer: g}
	out := groupMsgs(t, ms, a, g, "g", 2)
	mustAppend(t, ms, groupOper(a, g, out[0].ID, "op1"))
	ops, _ := mustAppend(t, ms, groupOper(c, g, out[1].ID, "op2"))
	last := ops[0].ID
	wantUnreads(t, "2 messages and 2 oper messages", ms, b, []imgate.Unread{{Conv: inG, Count: 2, LastID: last}})
	wantUnreads(t, "the sender of the messages", ms, a, nil)
	wantUnreads(t, "the sender of an oper message", ms, c, nil)
	if got := mustReadSeq(t, ms, c, inG); got != 4 {
		t.Errorf("ReadSeq of the sender of an oper message = %d, want 4", got)
	}
	mustMarkRead(t, ms, b, inG, 2)
	wantUnreads(t, "read up to the last message that counts", ms, b, nil)
	mustMarkRead(t, ms, b, inG, 1)
	wantUnreads(t, "read up to g1", ms, b, []imgate.Unread{{Conv: inG, Count: 1, LastID: last}})
	// A new member starts with nothing unread, and counts what follows.
	joinGroup(t, st, g, d)
	wantUnreads(t, "a new member", ms, d, nil)
	// Clearing, then an oper message.
	if err := ms.ClearConversation(t.Context(), "app", e, inG); err != nil {
		t.Fatalf("ClearConversation = %v", err)
	}
	mustAppend(t, ms, groupOper(a, g, out[1].ID, "op3"))
	wantUnreads(t, "an oper message after clearing", ms, e, nil)
	wantUnreads(t, "a new member after an oper message", ms, d, nil)
	next := groupMsgs(t, ms, c, g, "h", 1)
	for _, u := range []int64{d, e} {
		wantUnreads(t, "a message after joining or clearing", ms, u, []imgate.Unread{{Conv: inG, Count: 1, LastID: next[0].ID}})
	}
	wantUnreads(t, "a member who read up to g1", ms, b, []imgate.Unread{{Conv: inG, Count: 2, LastID: next[0].ID}})
	wantUnreads(t, "the sender of the first messages", ms, a, []imgate.Unread{{Conv: inG, Count: 1, LastID: next[0].ID}})
}

func testOperResends(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 3)
	a, b, c := ids[0], ids[1], ids[2]
	withA := imgate.Conv{Kind: imgate.ConvChat, Peer: a}
	withMID := func(m imgate.Message, mid int64) imgate.Message {
		m.ClientMID = mid
		return m
	}
	first, _ := mustAppend(t, ms, withMID(chat("app", a, b, "m1"), 1))
	// A resend of a stored message, an oper message repeated in the batch,
	// a new message, and another conversation.
	out, dup := mustAppend(t, ms,
		withMID(chat("app", a, b, "m1"), 1), withMID(oper(a, b, first[0].ID, "op"), 2),
		withMID(chat("app", a, b, "m2"), 3), withMID(oper(a, b, first[0].ID, "op"), 2),
		withMID(chat("app", a, c, "c1"), 4))
	if d := diff([]bool{true, false, false, true, false}, dup); d != "" {
		t.Errorf("dups mismatch (-want +got):\n%s", d)
	}
	if d := diff([]int64{1, 2, 3, 2, 1}, msgSeqs(out)); d != "" {
		t.Errorf("seqs mismatch (-want +got):\n%s", d)
	}
	wantUnreads(t, "after resends", ms, b, []imgate.Unread{{Conv: withA, Count: 2, LastID: out[2].ID}})
	// A resend of a stored oper message takes nothing off the count.
	more, dup := mustAppend(t, ms, withMID(oper(a, b, first[0].ID, "op"), 2), withMID(chat("app", a, b, "m3"), 5))
	if !dup[0] || dup[1] || more[1].Seq != 4 {
		t.Errorf("resend of an oper message and a new one = dups %v, seq %d; want the first a dup, the second at seq 4", dup, more[1].Seq)
	}
	wantUnreads(t, "after an oper message's resend", ms, b, []imgate.Unread{{Conv: withA, Count: 3, LastID: more[1].ID}})
	// A batch of nothing but resends changes nothing.
	mustAppend(t, ms, withMID(chat("app", a, b, "m1"), 1), withMID(oper(a, b, first[0].ID, "op"), 2), withMID(chat("app", a, b, "m3"), 5))
	wantUnreads(t, "after a batch of resends", ms, b, []imgate.Unread{{Conv: withA, Count: 3, LastID: more[1].ID}})
	mustMarkRead(t, ms, b, withA, 2)
	wantUnread(t, "read up to the oper message", ms, b, withA, 2)
	last := chats(t, ms, a, b, "n", 1)
	if last[0].Seq != 5 {
		t.Errorf("seq after resends = %d, want 5", last[0].Seq)
	}
	wantUnread(t, "a message after resends", ms, b, withA, 3)
	wantUnreads(t, "the other conversation", ms, c, []imgate.Unread{{Conv: withA, Count: 1, LastID: out[4].ID}})
}

// UnreadBackfill checks the migration that brought in the running counts
// unread counts come from: it stores chats and a group conversation that
// mix OPER messages with others, and read positions on and between them,
// in st, which must be fresh. It then calls rebuild, which must close st,
// migrate its database down to the version before that migration (which
// drops the counts) and open it again, so that the migration counts the
// stored messages afresh; the store rebuild returns must count as st did,
// and go on counting new messages from there.
func UnreadBackfill(t *testing.T, st imgate.Store, rebuild func(t *testing.T) imgate.Store) {
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 4)
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	g := mustGroup(t, st, newGroup("app", a, "g"), a, b, c).ID
	inG := imgate.Conv{Kind: imgate.ConvGroup, Peer: g}
	// a to b: n runs 1, 2, 2, 3, 3; b reads up to the oper message at 3.
	ab, _ := mustAppend(t, st, chat("app", a, b, "x1"), chat("app", a, b, "x2"), oper(a, b, 1, "op"), chat("app", a, b, "x3"), oper(a, b, 1, "op"))
	mustMarkRead(t, st, b, imgate.Conv{Kind: imgate.ConvChat, Peer: a}, 3)
	// c to b: read but for an oper message.
	mustAppend(t, st, chat("app", c, b, "y1"), oper(c, b, 1, "op"))
	mustMarkRead(t, st, b, imgate.Conv{Kind: imgate.ConvChat, Peer: c}, 1)
	// d to b: an oper message alone.
	mustAppend(t, st, oper(d, b, 1, "op"))
	// The group: a sends g1, an oper message and g2, c an oper message.
	mustAppend(t, st, groupMsg("app", a, g, "g1"), groupOper(a, g, 1, "op"), groupMsg("app", a, g, "g2"))
	gop, _ := mustAppend(t, st, groupOper(c, g, 1, "op"))
	// c to a: two unread.
	ca, _ := mustAppend(t, st, chat("app", c, a, "z1"), chat("app", c, a, "z2"))
	want := map[int64][]imgate.Unread{
		a: {{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: c}, Count: 2, LastID: ca[1].ID}},
		b: {
			{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: a}, Count: 1, LastID: ab[4].ID},
			{Conv: inG, Count: 2, LastID: gop[0].ID},
		},
		c: nil,
		d: nil,
	}
	for _, u := range ids {
		wantUnreads(t, "before the migration", st, u, want[u])
	}
	st = rebuild(t)
	for _, u := range ids {
		wantUnreads(t, "after the migration", st, u, want[u])
	}
	// New messages count on from the backfilled counts.
	x4, _ := mustAppend(t, st, chat("app", a, b, "x4"))
	y2, _ := mustAppend(t, st, chat("app", c, b, "y2"))
	w1, _ := mustAppend(t, st, chat("app", d, b, "w1"))
	mustAppend(t, st, groupOper(a, g, 1, "op"))
	g3, _ := mustAppend(t, st, groupMsg("app", c, g, "g3"))
	wantUnreads(t, "new messages after the migration", st, b, []imgate.Unread{
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: a}, Count: 2, LastID: x4[0].ID},
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: c}, Count: 1, LastID: y2[0].ID},
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: d}, Count: 1, LastID: w1[0].ID},
		{Conv: inG, Count: 3, LastID: g3[0].ID},
	})
	wantUnreads(t, "new messages after the migration", st, a, []imgate.Unread{
		{Conv: imgate.Conv{Kind: imgate.ConvChat, Peer: c}, Count: 2, LastID: ca[1].ID},
		{Conv: inG, Count: 1, LastID: g3[0].ID},
	})
}
