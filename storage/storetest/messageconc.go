package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

func (s suite) testMessageConcurrency(t *testing.T) {
	s.runMessages(t, "one chat", func(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
		testConcurrentSends(t, st, ms, imgate.ConvChat)
	})
	s.runMessages(t, "one group", func(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
		testConcurrentSends(t, st, ms, imgate.ConvGroup)
	})
	s.runMessages(t, "crossing batches", testCrossingBatches)
}

// testCrossingBatches has writers append batches that each touch the
// same conversations in a different order: the store must lock them in
// an order of its own, or the batches deadlock.
func testCrossingBatches(t *testing.T, st imgate.Store, ms imgate.MessageStore) {
	const writers, rounds = 6, 15
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 4)
	g1 := mustGroup(t, st, newGroup("app", ids[0], "g1"), ids...).ID
	g2 := mustGroup(t, st, newGroup("app", ids[1], "g2"), ids...).ID
	targets := []imgate.Message{
		chat("app", ids[0], ids[1], "m"), chat("app", ids[2], ids[3], "m"), chat("app", ids[1], ids[2], "m"),
		groupMsg("app", ids[0], g1, "m"), groupMsg("app", ids[3], g2, "m"),
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				batch := make([]imgate.Message, len(targets))
				for i := range batch {
					batch[i] = targets[(i+w+r)%len(targets)]
					if (w+r)%2 == 1 {
						batch[i] = targets[len(targets)-1-(i+w+r)%len(targets)]
					}
				}
				if _, _, err := ms.AppendMessages(t.Context(), batch); err != nil {
					t.Errorf("writer %d: AppendMessages = %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, m := range targets {
		got := mustMessages(t, ms, "app", m.From, m.ConvOf(m.From))
		wantSeqs(t, "conversation of "+m.Content, got, writers*rounds)
	}
}

// testConcurrentSends has 8 writers append 50 messages each, in batches
// of 1 to 5, to one conversation while 3 readers page through it with an
// id cursor. Every reader must see every message once, by ascending id,
// with seqs 1..400: a message that committed after the reader's cursor
// had passed its id would be skipped, and one with a seq out of id order
// would break the seqs. Without the conversation's row lock taken before
// the ids, both happen.
func testConcurrentSends(t *testing.T, st imgate.Store, ms imgate.MessageStore, kind imgate.ConvKind) {
	const writers, each, readers = 8, 50, 3
	const n = writers * each
	mustApp(t, st, "app")
	ids := mustUsers(t, st, "app", "u", 2)
	a, b := ids[0], ids[1]
	msg := func(from int64) imgate.Message {
		if kind == imgate.ConvGroup {
			return groupMsg("app", from, 0, "m")
		}
		peer := a
		if from == a {
			peer = b
		}
		return chat("app", from, peer, "m")
	}
	conv := imgate.Conv{Kind: imgate.ConvChat, Peer: b}
	if kind == imgate.ConvGroup {
		g := mustGroup(t, st, newGroup("app", a, "g"), a, b).ID
		conv.Kind, conv.Peer = imgate.ConvGroup, g
		base := msg
		msg = func(from int64) imgate.Message {
			m := base(from)
			m.To = g
			return m
		}
	}
	seen := make([][]imgate.Message, readers)
	var rg sync.WaitGroup
	for r := range readers {
		rg.Go(func() { seen[r] = readMessages(t, ms, a, conv, n) })
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			from := ids[w%2]
			for sent, size := 0, 1; sent < each; size = size%5 + 1 {
				batch := make([]imgate.Message, min(size, each-sent))
				for i := range batch {
					batch[i] = msg(from)
					batch[i].ClientMID = int64(w*1000 + sent + i + 1)
				}
				if _, _, err := ms.AppendMessages(t.Context(), batch); err != nil {
					t.Errorf("writer %d: AppendMessages = %v", w, err)
					return
				}
				sent += len(batch)
			}
		})
	}
	wg.Wait()
	rg.Wait()
	all := mustMessages(t, ms, "app", a, conv)
	wantSeqs(t, "stored", all, n)
	for r, got := range seen {
		wantSeqs(t, "reader "+string(rune('0'+r)), got, n)
		if d := diff(msgIDs(all), msgIDs(got)); d != "" {
			t.Errorf("reader %d saw other ids than stored (-want +got):\n%s", r, d)
		}
	}
}

// readMessages pages through user's conversation with an id cursor until
// it has n messages or a deadline passes, and returns what it saw.
func readMessages(t *testing.T, ms imgate.MessageStore, user int64, conv imgate.Conv, n int) []imgate.Message {
	var got []imgate.Message
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		var after int64
		if len(got) > 0 {
			after = got[len(got)-1].ID
		}
		page, err := ms.Messages(t.Context(), "app", user, conv, after, 7)
		if err != nil {
			t.Errorf("reader: Messages = %v", err)
			return got
		}
		got = append(got, page...)
		if len(page) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	return got
}
