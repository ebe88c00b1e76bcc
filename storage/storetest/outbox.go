package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imgate/imgate"
)

func (s suite) testOutbox(t *testing.T) {
	s.run(t, "webhook config", testWebhookConfig)
	s.run(t, "events of a webhook's apps only", testOutboxWrites)
	s.run(t, "claims keep each key's order", testOutboxClaims)
	s.run(t, "retry, park and wake", testOutboxRetry)
	s.run(t, "claims skip apps", testOutboxSkipApps)
}

func testOutboxSkipApps(t *testing.T, st imgate.Store) {
	hooked(t, st, "busy")
	hooked(t, st, "calm")
	mustUser(t, st, newUser("busy", "a"))
	mustUser(t, st, newUser("calm", "b"))
	got, err := st.ClaimEvents(t.Context(), imgate.EventClaim{Now: time.Now(), Lease: time.Minute, Limit: 10, SkipApps: []string{"busy"}})
	if err != nil {
		t.Fatalf("ClaimEvents = %v", err)
	}
	if len(got) != 1 || got[0].AppID != "calm" {
		t.Errorf("claim skipping busy = %+v, want calm's one event", got)
	}
}

// hooked creates an app whose webhook sends every event type.
func hooked(t *testing.T, st imgate.Store, id string) {
	t.Helper()
	mustApp(t, st, id)
	w := imgate.Webhook{URL: "http://127.0.0.1:1/hook", Secret: "s", Events: imgate.EventTypes}
	if err := st.SetWebhook(t.Context(), id, w); err != nil {
		t.Fatalf("SetWebhook(%s) = %v", id, err)
	}
}

// mustClaim claims events at now and fails t if the claim fails.
func mustClaim(t *testing.T, st imgate.Store, now time.Time) []imgate.Event {
	t.Helper()
	got, err := st.ClaimEvents(t.Context(), imgate.EventClaim{Now: now, Lease: time.Minute, Limit: 100})
	if err != nil {
		t.Fatalf("ClaimEvents = %v", err)
	}
	return got
}

// eventContents are the contents of message events, or the types of
// other events.
func eventContents(t *testing.T, events []imgate.Event) []string {
	t.Helper()
	out := make([]string, len(events))
	for i, e := range events {
		var m imgate.Message
		if err := json.Unmarshal(e.Data, &m); err != nil {
			t.Fatalf("event %d data %s: %v", e.ID, e.Data, err)
		}
		out[i] = string(e.Type) + ":" + m.Content
	}
	return out
}

func testWebhookConfig(t *testing.T, st imgate.Store) {
	mustApp(t, st, "app")
	wantCode(t, "SetWebhook(unknown)", st.SetWebhook(t.Context(), "nope", imgate.Webhook{URL: "http://x"}), imgate.CodeUnknownApp)
	w := imgate.Webhook{URL: "http://x/hook", Secret: "sec", CallbackSignature: "sig",
		Events: []imgate.EventType{imgate.EventMessage, imgate.EventUserDeleted}}
	if err := st.SetWebhook(t.Context(), "app", w); err != nil {
		t.Fatalf("SetWebhook = %v", err)
	}
	got, err := st.App(t.Context(), "app")
	if err != nil {
		t.Fatalf("App = %v", err)
	}
	if diff := cmp.Diff(w, got.Webhook); diff != "" {
		t.Errorf("App().Webhook (-want +got):\n%s", diff)
	}
}

func testOutboxWrites(t *testing.T, st imgate.Store) {
	hooked(t, st, "app")
	mustApp(t, st, "quiet")
	a := mustUser(t, st, newUser("app", "a"))
	b := mustUser(t, st, newUser("app", "b"))
	q := mustUser(t, st, newUser("quiet", "q"))
	r := mustUser(t, st, newUser("quiet", "r"))
	mustAppend(t, st, chat("app", a.ID, b.ID, "one"), chat("quiet", q.ID, r.ID, "unheard"))
	resent := chat("app", a.ID, b.ID, "two")
	resent.ClientMID = 7
	mustAppend(t, st, resent, resent)
	mustAppend(t, st, resent)
	if err := st.DeleteUser(t.Context(), "app", b.ID); err != nil {
		t.Fatalf("DeleteUser = %v", err)
	}
	got := eventContents(t, mustClaim(t, st, time.Now()))
	// The chat's events wait for one another; each user's come first.
	want := []string{"user.created:", "user.created:", "message:one"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claimed events (-want +got):\n%s", diff)
	}
	stats, err := st.OutboxStats(t.Context(), 5)
	if err != nil {
		t.Fatalf("OutboxStats = %v", err)
	}
	// Two creations, two messages (the resends are none), one deletion.
	if len(stats) != 1 || stats[0].AppID != "app" || stats[0].Pending != 5 || stats[0].Parked != 0 || stats[0].Oldest.IsZero() {
		t.Errorf("OutboxStats = %+v, want app's 5 pending events", stats)
	}
}

func testOutboxClaims(t *testing.T, st imgate.Store) {
	hooked(t, st, "app")
	a := mustUser(t, st, newUser("app", "a"))
	b := mustUser(t, st, newUser("app", "b"))
	c := mustUser(t, st, newUser("app", "c"))
	users := mustClaim(t, st, time.Now())
	if err := st.DeleteEvents(t.Context(), ids(users)); err != nil {
		t.Fatalf("DeleteEvents = %v", err)
	}
	mustAppend(t, st, chat("app", a.ID, b.ID, "1"), chat("app", b.ID, a.ID, "2"), chat("app", a.ID, c.ID, "c1"))
	first := mustClaim(t, st, time.Now())
	if diff := cmp.Diff([]string{"message:1", "message:c1"}, eventContents(t, first)); diff != "" {
		t.Errorf("first claim (-want +got):\n%s", diff)
	}
	if again := mustClaim(t, st, time.Now()); len(again) != 0 {
		t.Errorf("claim under lease = %v, want none", eventContents(t, again))
	}
	if err := st.DeleteEvents(t.Context(), []int64{first[0].ID}); err != nil {
		t.Fatalf("DeleteEvents = %v", err)
	}
	if diff := cmp.Diff([]string{"message:2"}, eventContents(t, mustClaim(t, st, time.Now()))); diff != "" {
		t.Errorf("claim after the first was sent (-want +got):\n%s", diff)
	}
	if err := st.ReleaseEvents(t.Context(), []int64{first[1].ID}); err != nil {
		t.Fatalf("ReleaseEvents = %v", err)
	}
	if diff := cmp.Diff([]string{"message:c1"}, eventContents(t, mustClaim(t, st, time.Now()))); diff != "" {
		t.Errorf("claim after a release (-want +got):\n%s", diff)
	}
	if late := mustClaim(t, st, time.Now().Add(2*time.Minute)); len(late) != 2 {
		t.Errorf("claim after the leases ran out = %d events, want 2", len(late))
	}
}

func testOutboxRetry(t *testing.T, st imgate.Store) {
	hooked(t, st, "app")
	mustUser(t, st, newUser("app", "a"))
	ev := mustClaim(t, st, time.Now())
	if len(ev) != 1 {
		t.Fatalf("claimed %d events, want 1", len(ev))
	}
	now := time.Now()
	if err := st.RetryEvent(t.Context(), ev[0].ID, 3, now.Add(time.Hour), "status 500"); err != nil {
		t.Fatalf("RetryEvent = %v", err)
	}
	if got := mustClaim(t, st, now); len(got) != 0 {
		t.Errorf("claim before the retry is due = %d events", len(got))
	}
	stats, err := st.OutboxStats(t.Context(), 3)
	if err != nil || len(stats) != 1 || stats[0].Parked != 1 {
		t.Errorf("OutboxStats = %+v, %v; want 1 parked", stats, err)
	}
	if err := st.WakeEvents(t.Context(), "app", 3, now); err != nil {
		t.Fatalf("WakeEvents = %v", err)
	}
	got := mustClaim(t, st, now)
	if len(got) != 1 || got[0].Attempts != 3 {
		t.Errorf("claim after WakeEvents = %+v, want the event with 3 attempts", got)
	}
}

func ids(events []imgate.Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}
