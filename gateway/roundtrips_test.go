package gateway_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/metrics"
	"github.com/imgate/imgate/storage/embedded"
	"github.com/imgate/imgate/storage/postgres"
)

// countingStores open a store of each kind that counts its round trips
// to m.
var countingStores = map[string]func(t *testing.T, m *metrics.Metrics) imgate.Store{
	"embedded": func(t *testing.T, m *metrics.Metrics) imgate.Store {
		st, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir(), RoundTrips: m}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	},
	"postgres": func(t *testing.T, m *metrics.Metrics) imgate.Store {
		st, err := postgres.Open(context.Background(), postgres.Config{DSN: pgtest.DSN(t), RoundTrips: m}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	},
}

// TestLoginRoundTrips counts the store round trips of logins of a known
// device (one with groups, conversations and read positions), from the
// counter the store reports to: a first login on a node, with the token
// verified before (cached) or not, and a reconnect to the node the
// device left. It logs them, those of the first UNREAD after each
// login, and those of a 1:1 send, and checks each against its bound.
func TestLoginRoundTrips(t *testing.T) {
	for name, open := range countingStores {
		t.Run(name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := metrics.New(reg)
			st := open(t, m)
			first := start(t, st, gateway.Config{Metrics: m})
			alice, atok := first.user("alice")
			bob, btok := first.user("bob")
			g := first.createGroup(btok, alice)
			b := first.device(bob, btok, "bob", false)
			b.send(t, alice, text(xsync.MessageBody_CHAT, "hi"))
			b.send(t, g, text(xsync.MessageBody_GROUPCHAT, "hi all"))
			c, sn := first.login(alice, 0, atok, "alice")
			c.Close()
			eventually(t, "alice offline", func() bool { return !first.online(alice) })

			// A node that has not seen the token (nor the device).
			s := restart(t, st, gateway.Config{Metrics: m})
			cold := loginTrips(t, s, reg, alice, sn, atok)
			eventually(t, "alice offline", func() bool { return !s.online(alice) })
			reconnect := loginTrips(t, s, reg, alice, sn, atok)

			// A node that has verified the token (a REST call), not seen
			// the device.
			s = restart(t, st, gateway.Config{Metrics: m})
			if code, data := s.rest("GET", "/user/settings", map[string]string{"app_id": "app", "access-token": atok}, ""); code != 200 {
				t.Fatalf("settings: %d %s", code, data)
			}
			warm := loginTrips(t, s, reg, alice, sn, atok)

			// A new device, with a token the node has not verified.
			s = restart(t, st, gateway.Config{Metrics: m})
			fresh := loginTripsAs(t, s, reg, alice, 0, atok, "alice-new")

			t.Logf("store round trips per login (and its first UNREAD): token not cached %v (%v); token cached %v (%v); reconnect %v (%v); new device %v (%v)",
				cold.login, cold.unread, warm.login, warm.unread, reconnect.login, reconnect.unread, fresh.login, fresh.unread)
			// Its registration is one statement between the two reads.
			if fresh.login > 3 {
				t.Errorf("login of a new device: %v round trips, want at most 3", fresh.login)
			}
			if warm.login > 2 {
				t.Errorf("first login with the token cached: %v round trips, want at most 2", warm.login)
			}
			if reconnect.login > 1 {
				t.Errorf("reconnect of a known device: %v round trips, want at most 1", reconnect.login)
			}
			// A token the node has not seen is read with the login's
			// state: no round trip of its own.
			if cold.login > 2 {
				t.Errorf("first login with the token not cached: %v round trips, want at most 2", cold.login)
			}
			// The first UNREAD after a login is answered from what the
			// login read: alice has one message unread from bob and one
			// in the group.
			for name, tr := range map[string]trips{"token not cached": cold, "token cached": warm, "reconnect": reconnect, "new device": fresh} {
				if tr.unread != 0 {
					t.Errorf("first UNREAD after a login (%s): %v round trips, want 0", name, tr.unread)
				}
				if want := map[uint64]uint32{bob: 1, g: 1}; !maps.Equal(tr.unreads, want) {
					t.Errorf("first UNREAD after a login (%s): %v, want %v", name, tr.unreads, want)
				}
			}
			// The first login (token not verified yet) does not look for
			// a remembered device; the one with the token cached misses.
			for result, want := range map[string]float64{"hit": 1, "miss": 1} {
				if got := gateway.Gathered(t, reg, "imgate_cache_lookups_total", map[string]string{"cache": "reconnect", "result": result}); got != want {
					t.Errorf("reconnect cache %s: %v, want %v", result, got, want)
				}
			}
			logSendTrips(t, s, reg, bob, btok, alice)
		})
	}
}

// trips are the round trips of one login and of its first UNREAD, and
// that UNREAD's answer: conversation id to count.
type trips struct {
	login, unread float64
	unreads       map[uint64]uint32
}

// loginTrips logs the device in on s, sends UNREAD once the session is
// set up, and returns the round trips of each; the session is closed.
func loginTrips(t *testing.T, s *server, reg *prometheus.Registry, uid uint64, sn uint32, tok string) trips {
	return loginTripsAs(t, s, reg, uid, sn, tok, "alice")
}

// loginTripsAs is loginTrips of the device with the guid; sn 0 logs in a
// new device.
func loginTripsAs(t *testing.T, s *server, reg *prometheus.Registry, uid uint64, sn uint32, tok, guid string) trips {
	t.Helper()
	count := func(op string) float64 {
		return gateway.Gathered(t, reg, "imgate_store_round_trips_total", map[string]string{"op": op})
	}
	login0, unread0 := count(metrics.OpLogin), count(metrics.OpUnread)
	c, got := s.login(uid, sn, tok, guid)
	defer c.Close()
	if sn != 0 && got != sn {
		t.Fatalf("login of device %d answered device %d", sn, got)
	}
	// Frames are served once setup is done: the UNREAD answer comes after.
	var dl *xsync.UnreadDL
	login := roundTripUnread(t, c, func() float64 { return count(metrics.OpLogin) }, &dl) - login0
	unreads := map[uint64]uint32{}
	for _, u := range dl.Unread {
		unreads[u.Xid.GetUid()] = u.N
	}
	return trips{login: login, unread: count(metrics.OpUnread) - unread0, unreads: unreads}
}

// roundTripUnread sends UNREAD, reads what is set before its answer with
// read, and waits for the answer.
func roundTripUnread(t *testing.T, c *client.Conn, read func() float64, answer **xsync.UnreadDL) float64 {
	t.Helper()
	if err := c.Send(ctx(t), xsync.Frame_UNREAD, &xsync.UnreadUL{}); err != nil {
		t.Fatal(err)
	}
	for {
		cmd, msg, err := c.Recv(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if cmd == xsync.Frame_UNREAD {
			*answer = msg.(*xsync.UnreadDL)
			return read()
		}
	}
}

// logSendTrips logs the round trips (of every operation) per 1:1
// message sent over WebSocket to a recipient who is online, and checks
// them against their bound.
func logSendTrips(t *testing.T, s *server, reg *prometheus.Registry, from uint64, tok string, to uint64) {
	t.Helper()
	byOp := func() map[string]float64 {
		n := map[string]float64{}
		for _, op := range metrics.StoreOps {
			n[op] = gateway.Gathered(t, reg, "imgate_store_round_trips_total", map[string]string{"op": op})
		}
		return n
	}
	sender := s.device(from, tok, "bob", false)
	sender.settled(t)
	const sends = 20
	before := byOp()
	for range sends {
		sender.send(t, to, text(xsync.MessageBody_CHAT, "hello"))
	}
	after := byOp()
	var total float64
	each := map[string]float64{}
	for op, n := range after {
		if d := n - before[op]; d > 0 {
			each[op] = d / sends
			total += d / sends
		}
	}
	t.Logf("store round trips per 1:1 send over WebSocket: %.1f %v (%v sends one after another)", total, each, sends)
	// A send alone in its batch is one write transaction: BEGIN, the
	// conversation's bump, the dedupe lookup, the ids, the insert, the
	// sender's read position, COMMIT. Its checks are cached (the first
	// send of the pair read them), and nothing else reads the store.
	// Concurrent sends share the transaction (delivery's
	// TestConcurrentSendsShareTransactions).
	if each[metrics.OpSend] > 7 || total > 7.5 {
		t.Errorf("a 1:1 send costs %.1f store round trips (%v), want at most 7 in its transaction and 7.5 in all", total, each)
	}
}

// TestLoginTokenReadWithState checks the logins of tokens a node has not
// verified before, whose records come with the login's state: each is
// refused as a verification of its own would refuse it, and the node
// answers the next login of a good token from its cache.
func TestLoginTokenReadWithState(t *testing.T) {
	st, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := start(t, st, gateway.Config{})
	alice, atok := first.user("alice")
	bob, btok := first.user("bob")
	carol, ctok := first.user("carol")
	dave, dtok := first.user("dave")
	admin := func(uid uint64) map[string]string {
		return map[string]string{"app_id": "app", "access-token": first.admin, "user_id": jsonNum(uid)}
	}
	if code, data := first.rest("POST", "/user/change_password_admin", admin(alice), `{"password":"pw2"}`); code != 200 {
		t.Fatalf("change password: %d %s", code, data)
	}
	if code, data := first.rest("POST", "/user/delete", admin(carol), ""); code != 200 {
		t.Fatalf("delete: %d %s", code, data)
	}
	if code, data := first.rest("PUT", "/user/disable", map[string]string{"app_id": "app", "access-token": first.admin}, `{"list":[`+jsonNum(dave)+`]}`); code != 200 {
		t.Fatalf("disable: %d %s", code, data)
	}

	s := restart(t, st, gateway.Config{})
	for _, c := range []struct {
		name  string
		uid   uint64
		token string
		want  xsync.Status_ErrorCode
	}{
		{"revoked token", alice, atok, xsync.Status_INVALID_TOKEN},
		{"deleted user", carol, ctok, xsync.Status_INVALID_TOKEN},
		{"disabled user", dave, dtok, xsync.Status_USER_FROZEN},
		{"another user's token", alice, btok, xsync.Status_UNAUTHORIZED},
		{"good token, no uid", 0, btok, xsync.Status_OK},
		{"good token again", bob, btok, xsync.Status_OK},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := s.dial(client.Options{})
			p, err := conn.Login(ctx(t), c.uid, 0, c.token, "g-"+c.name)
			if err != nil || p.Status.GetCode() != c.want {
				t.Fatalf("got %v, %v; want %s", p, err, c.want)
			}
			if c.want == xsync.Status_OK && p.Xid.GetUid() != bob {
				t.Errorf("logged in as %d, want bob (%d)", p.Xid.GetUid(), bob)
			}
		})
	}
}

// TestFirstUnreadAfterNews checks that the first UNREAD after a login
// is read from the store once anything reached the session: the counts
// the login read are out of date.
func TestFirstUnreadAfterNews(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := start(t, open(t), gateway.Config{})
		alice, atok := s.user("alice")
		bob, btok := s.user("bob")
		b := s.device(bob, btok, "bob", false)
		b.send(t, alice, text(xsync.MessageBody_CHAT, "one"))
		c, _ := s.login(alice, 0, atok, "alice")
		defer c.Close()
		two := b.send(t, alice, text(xsync.MessageBody_CHAT, "two")).ServerMid
		// "two" reaches the session: as a NOTICE (alice has not pulled
		// "one"), or pushed, when "one" was still on its way at the login
		// and was pushed too.
	news:
		for {
			_, msg, err := c.Recv(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			switch m := msg.(type) {
			case *xsync.Notice:
				break news
			case *xsync.SyncDL:
				if slices.ContainsFunc(m.Metas, func(meta *xsync.Meta) bool { return meta.Id == two }) {
					break news
				}
			}
		}
		var dl *xsync.UnreadDL
		roundTripUnread(t, c, func() float64 { return 0 }, &dl)
		if len(dl.Unread) != 1 || dl.Unread[0].Xid.GetUid() != bob || dl.Unread[0].N != 2 {
			t.Errorf("UNREAD after a message came: %v, want 2 from bob", dl.Unread)
		}
	})
}
