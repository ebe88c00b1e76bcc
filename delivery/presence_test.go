package delivery

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis connects to the Redis at 127.0.0.1:6379 and returns a key
// prefix of the test's own, whose keys are deleted afterwards. The test is
// skipped when Redis does not answer, unless IMGATE_REQUIRE_REDIS=1.
func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		msg := fmt.Sprintf("no Redis at 127.0.0.1:6379: %v", err)
		if os.Getenv("IMGATE_REQUIRE_REDIS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; set IMGATE_REQUIRE_REDIS=1 to fail instead")
	}
	prefix := fmt.Sprintf("imgatetest-%s-%d", t.Name(), time.Now().UnixNano())
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := c.Keys(ctx, prefix+":*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
		c.Close()
	})
	return c, prefix
}

func TestPresenceRefreshRestoresLostEntries(t *testing.T) {
	// Redis restarted without persistence (or failed over, or was
	// flushed): the sessions that are still connected must be online again
	// after their node's next refresh, not offline until they reconnect.
	c, prefix := testRedis(t)
	ctx := context.Background()
	p := NewRedisPresence(c, prefix, time.Minute)
	e := PresenceEntry{Session: "s1", SN: 7, GUID: "phone", Node: "n1"}
	if _, ok, err := p.Login(ctx, "app", 42, e, 10); err != nil || !ok {
		t.Fatalf("login: %v %v", ok, err)
	}
	if err := c.Del(ctx, p.key("app", 42)).Err(); err != nil { // what a restart does
		t.Fatal(err)
	}
	if err := p.Refresh(ctx, []PresenceRef{{App: "app", User: 42, Entry: e}}); err != nil {
		t.Fatal(err)
	}
	if online, err := p.Online(ctx, "app", 42); err != nil || !online {
		t.Errorf("a live session after a refresh: online %v (%v), want true", online, err)
	}
}

func TestPresenceRefusedLoginKeepsEntries(t *testing.T) {
	// A login refused for the device limit changes nothing: the entry of
	// the same device stays (its session was not replaced, nor kicked).
	c, prefix := testRedis(t)
	ctx := context.Background()
	p := NewRedisPresence(c, prefix, time.Minute)
	// Three devices online with a limit of two (they logged in while
	// presence was unreachable, or under a higher limit).
	old := []PresenceEntry{
		{Session: "s1", SN: 1, GUID: "phone", Node: "n1"},
		{Session: "s2", SN: 2, GUID: "tablet", Node: "n1"},
		{Session: "s3", SN: 3, GUID: "laptop", Node: "n2"},
	}
	for _, e := range old {
		if _, ok, err := p.Login(ctx, "app", 42, e, 10); err != nil || !ok {
			t.Fatalf("login: %v %v", ok, err)
		}
	}
	// The phone logs in again on another node, with the limit at two.
	replaced, ok, err := p.Login(ctx, "app", 42, PresenceEntry{Session: "s4", SN: 1, GUID: "phone", Node: "n2"}, 2)
	if err != nil || ok || len(replaced) != 0 {
		t.Fatalf("login over the limit: replaced %v, ok %v, err %v; want refused", replaced, ok, err)
	}
	got, err := p.Entries(ctx, "app", 42)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("after a refused login: %v, want the three entries unchanged", got)
	}
}

func TestPresenceGUIDWithSeparator(t *testing.T) {
	// A guid may hold '|', the separator of an entry's fields: the same
	// device is still recognised and replaced, and reads back intact.
	c, prefix := testRedis(t)
	ctx := context.Background()
	p := NewRedisPresence(c, prefix, time.Minute)
	first := PresenceEntry{Session: "s1", SN: 5, GUID: "a|b|c", Node: "n1"}
	if _, ok, err := p.Login(ctx, "app", 9, first, 10); err != nil || !ok {
		t.Fatalf("login: %v %v", ok, err)
	}
	replaced, ok, err := p.Login(ctx, "app", 9, PresenceEntry{Session: "s2", SN: 6, GUID: "a|b|c", Node: "n2"}, 10)
	if err != nil || !ok || len(replaced) != 1 || replaced[0] != first {
		t.Errorf("same guid on another node: replaced %v, ok %v, err %v; want %v", replaced, ok, err, first)
	}
}
