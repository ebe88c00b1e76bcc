package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
)

// device is a user's logged-in device, run by a client.Session as an app
// runs it: a NOTICE makes it pull with key 0.
type device struct {
	user user
	sn   uint32
	cur  atomic.Pointer[conn] // its connection; a reconnect replaces it
	in   *inbox               // what it must receive; nil when it receives nothing
	// busy is held by whoever is ending or renewing its connection
	// (churn, or redial after the server ended it), so that only one
	// does at a time.
	busy atomic.Bool
}

// conn is one connection of a device.
type conn struct {
	sess  *client.Session
	since int64 // unix ns its login began
	node  int   // the node it is on, in the runner's nodes
}

func (d *device) session() *client.Session { return d.cur.Load().sess }

func (d *device) xid() *xsync.XID { return &xsync.XID{Uid: d.user.id, DeviceSN: d.sn} }

// dialers spreads connections over local source addresses, so that more
// devices connect than one address has ephemeral ports.
type dialers struct {
	clients []*http.Client // a nil entry dials as the system picks
	next    atomic.Uint64
}

// dialers picks the source addresses for n devices: 127.0.0.1..127.0.0.k
// when the server's host is an IPv4 loopback address and more than one
// is wanted, else the system's choice.
func (r *Runner) dialers(n int) *dialers {
	k := r.cfg.SourceAddrs
	if k == 0 {
		k = (n + portsPerAddr - 1) / portsPerAddr
	}
	ip := net.ParseIP(r.host.Hostname()).To4()
	if k <= 1 || ip == nil || !ip.IsLoopback() {
		return &dialers{clients: []*http.Client{nil}}
	}
	k = min(k, 254)
	d := &dialers{clients: make([]*http.Client, k)}
	for i := range d.clients {
		nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(i+1))}, Timeout: 10 * time.Second}
		d.clients[i] = &http.Client{Transport: &http.Transport{DialContext: nd.DialContext}}
	}
	return d
}

func (d *dialers) pick() *http.Client {
	return d.clients[(d.next.Add(1)-1)%uint64(len(d.clients))]
}

// connect logs a device in for each user, Concurrency at a time. With
// strict, the first failure ends it with an error; otherwise failed
// devices are nil in the answer and counted.
func (r *Runner) connect(ctx context.Context, us []user, strict bool) ([]*device, Connect, error) {
	bar := r.bars.bar(int64(len(us)), "connect", "devices")
	defer end(bar)
	dl := r.dialers(len(us))
	devs := make([]*device, len(us))
	var failed atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Concurrency)
	for i, u := range us {
		g.Go(func() error {
			d, err := r.login(gctx, u, 0, r.nodes.home(int(u.id%uint64(r.nodes.len()))), dl.pick())
			if err != nil {
				failed.Add(1)
				once.Do(func() { firstErr = err })
				if strict {
					return err
				}
				return nil
			}
			devs[i] = d
			bar.Add(1)
			return nil
		})
	}
	err := g.Wait()
	elapsed := time.Since(start)
	c := Connect{
		Devices: len(us) - int(failed.Load()), Failed: int(failed.Load()), SourceAddrs: len(dl.clients),
		Seconds: elapsed.Seconds(), PerSecond: float64(len(us)-int(failed.Load())) / elapsed.Seconds(),
	}
	if firstErr != nil {
		c.FirstError = firstErr.Error()
	}
	if err != nil {
		closeAll(devs)
		return nil, c, err
	}
	return devs, c, nil
}

// login dials node, logs in with the user's token (and the device's
// serial number, 0 the first time), starts the session and sends the
// first heartbeat, as MaxIM's SDKs do. Users start spread over the nodes
// by id (connect), so that a chat's two sides and a group's members sit
// on different nodes. A node that refuses the connection is marked down.
func (r *Runner) login(ctx context.Context, u user, sn uint32, node int, hc *http.Client) (*device, error) {
	since := time.Now().UnixNano()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.DialHTTP(ctx, r.nodes.ws[node], client.Options{}, hc)
	if err != nil {
		if refusedConn(err) {
			r.nodes.markDown(node)
		}
		return nil, err
	}
	p, err := c.Login(ctx, u.id, sn, u.token, "loadtest-"+u.name)
	if err == nil && p.GetStatus().GetCode() != xsync.Status_OK {
		err = fmt.Errorf("loadtest: login of %s refused: %s %s", u.name, p.GetStatus().GetCode(), p.GetStatus().GetReason())
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	d := &device{user: u, sn: p.GetXid().GetDeviceSN()}
	d.cur.Store(&conn{sess: client.Start(c, false), since: since, node: node})
	if err := d.session().Unread(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return d, nil
}

// reconnect logs the device in again on a new connection to node,
// keeping its serial number and inbox, as an app does after losing its
// network.
func (r *Runner) reconnect(ctx context.Context, d *device, node int, hc *http.Client) error {
	n, err := r.login(ctx, d.user, d.sn, node, hc)
	if err != nil {
		return err
	}
	d.cur.Store(n.cur.Load())
	return nil
}

// syncUnread makes the device's current session pull, with key 0, every
// conversation that the answer to its first heartbeat lists as unread, as
// an app does after logging in. It returns what the answer said: unread
// count by conversation.
func syncUnread(ctx context.Context, s *client.Session) (map[uint64]uint32, error) {
	var dl *xsync.UnreadDL
	err := s.Wait(ctx, func(v client.View) bool {
		if us := v.Unreads(); len(us) > 0 {
			dl = us[0]
			return true
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	if st := dl.GetStatus(); st != nil && st.GetCode() != xsync.Status_OK {
		return nil, fmt.Errorf("loadtest: UNREAD answered %s %s", st.GetCode(), st.GetReason())
	}
	n := map[uint64]uint32{}
	for _, u := range dl.GetUnread() {
		n[u.GetXid().GetUid()] = u.GetN()
		if u.GetN() > 0 {
			if err := s.Pull(ctx, u.GetXid().GetUid(), 0); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// heartbeatEvery is how often MaxIM's SDKs send UNREAD.
const heartbeatEvery = 50 * time.Second

// heartbeat keeps devices from the server's idle timeout until ctx ends.
func heartbeat(ctx context.Context, devs []*device) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, d := range devs {
			if ctx.Err() != nil {
				return
			}
			if d != nil {
				beat(d)
			}
		}
	}
}

// beat sends one heartbeat. Its context is not the caller's: a write
// cancelled midway closes the connection.
func beat(d *device) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.session().Unread(ctx)
}

// disconnects counts devices whose connection has ended, with the first
// reason.
func disconnects(devs []*device) (int, string) {
	n, first := 0, ""
	for _, d := range devs {
		if d == nil {
			continue
		}
		s := d.session()
		select {
		case <-s.Done():
		default:
			continue
		}
		n++
		if first == "" {
			s.Read(func(v client.View) {
				first = fmt.Sprintf("device of %s: close status %d: %v", d.user.name, client.CloseStatus(v.Err()), v.Err())
			})
		}
	}
	return n, first
}

// closeAll closes every device's connection, many at a time, as each
// waits for the server's close frame.
func closeAll(devs []*device) {
	var g errgroup.Group
	g.SetLimit(256)
	for _, d := range devs {
		if d != nil {
			g.Go(func() error { return d.session().Conn().Close() })
		}
	}
	g.Wait()
}
