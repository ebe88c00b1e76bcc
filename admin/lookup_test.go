package admin_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/admin"
	"github.com/imgate/imgate/metrics"
)

// storesCounted runs the test against a fresh REST API on each store,
// with the cache TTL and a registry counting its caches.
func storesCounted(t *testing.T, ttl time.Duration, test func(t *testing.T, a *api, reg *prometheus.Registry)) {
	eachStore(t, func(t *testing.T, s imgate.Store) {
		reg := prometheus.NewRegistry()
		test(t, startWith(t, s, admin.Config{PasswordCost: 4, MaxListLen: 50, CacheTTL: ttl, Metrics: metrics.New(reg)}), reg)
	})
}

// sendAs is a text message from the user to the peer through the admin
// token's from_user_id.
func sendAs(a *api, from, to int64) map[string]any {
	body := mtText(1, "hi", to)
	body["from_user_id"] = from
	return body
}

func TestLookupCachesHit(t *testing.T) {
	storesCounted(t, time.Hour, func(t *testing.T, a *api, reg *prometheus.Registry) {
		alice, _ := a.user("alice")
		bob, _ := a.user("bob")
		count := func(cache, result string) float64 { return admin.CacheLookups(t, reg, cache, result) }
		appHits, userMisses := count("app", "hit"), count("user", "miss")
		for range 3 {
			mtSend(a, "/message/send", a.as(a.admin), sendAs(a, alice, bob))
		}
		mtSend(a, "/message/send", a.as(a.admin, alice), mtText(1, "hi", bob))
		if got := count("app", "hit") - appHits; got != 4 {
			t.Errorf("app hits = %v over 4 sends, want 4", got)
		}
		if got := count("user", "miss") - userMisses; got != 1 {
			t.Errorf("user misses = %v over 4 sends as alice, want 1", got)
		}
		if got := count("user", "hit"); got != 3 {
			t.Errorf("user hits = %v over 4 sends as alice, want 3", got)
		}
	})
}

// A user deleted or disabled through this node is refused by the next
// request, cached or not, as before there were caches. An admin token
// still acts as a disabled user, as before.
func TestLookupCachesForgetLocalChanges(t *testing.T) {
	storesCounted(t, time.Hour, func(t *testing.T, a *api, _ *prometheus.Registry) {
		alice, aliceToken := a.user("alice")
		bob, _ := a.user("bob")
		carol, _ := a.user("carol")
		mtSend(a, "/message/send", a.as(a.admin), sendAs(a, alice, bob))
		mtSend(a, "/message/send", a.as(aliceToken), mtText(1, "hi", bob))
		mtSend(a, "/message/send", a.as(a.admin, carol), mtText(1, "hi", bob))

		a.ok("PUT", "/user/disable", a.as(a.admin), map[string]any{"list": []int64{alice}}, nil)
		a.fails(imgate.CodeForbidden, "POST", "/message/send", a.as(aliceToken), mtText(1, "hi", bob))
		mtSend(a, "/message/send", a.as(a.admin), sendAs(a, alice, bob))

		a.ok("POST", "/user/delete", a.as(a.admin, alice), nil, nil)
		a.fails(imgate.CodeUserNotFound, "POST", "/message/send", a.as(a.admin), sendAs(a, alice, bob))
		a.fails(imgate.CodeUserNotFound, "POST", "/message/send", a.as(a.admin, alice), mtText(1, "hi", bob))

		a.ok("POST", "/user/delete", a.as(a.admin, carol), nil, nil)
		a.fails(imgate.CodeUserNotFound, "POST", "/message/send", a.as(a.admin, carol), mtText(1, "hi", bob))
	})
}

// A user deleted by another node (here: straight in the store) is seen
// within the TTL: trusted at first, refused once the TTL has passed.
func TestLookupCachesExpire(t *testing.T) {
	const ttl = 2 * time.Second
	storesCounted(t, ttl, func(t *testing.T, a *api, _ *prometheus.Registry) {
		alice, _ := a.user("alice")
		bob, _ := a.user("bob")
		mtSend(a, "/message/send", a.as(a.admin), sendAs(a, alice, bob))
		deleted := time.Now()
		if err := a.store.DeleteUser(t.Context(), a.app, alice); err != nil {
			t.Fatal(err)
		}
		if r := a.do("POST", "/message/send", a.as(a.admin), sendAs(a, alice, bob)); r.Code != 200 && time.Since(deleted) < ttl {
			t.Fatalf("a send right after another node's delete got %s, want the cached user trusted", r.raw)
		}
		for {
			r := a.do("POST", "/message/send", a.as(a.admin), sendAs(a, alice, bob))
			if r.Code == imgate.CodeUserNotFound {
				break
			}
			if time.Since(deleted) > ttl+5*time.Second {
				t.Fatalf("still %s %v after another node's delete, want %d within the TTL %v", r.raw, time.Since(deleted), imgate.CodeUserNotFound, ttl)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if took := time.Since(deleted); took < ttl-100*time.Millisecond {
			t.Errorf("refused after %v, want the TTL %v to pass first", took, ttl)
		}
	})
}
