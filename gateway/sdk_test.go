package gateway_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/imgate/imgate/gateway"
	"github.com/imgate/imgate/gateway/xsync"
)

// The tests in this file drive imgate as MaxIM's JavaScript SDKs do,
// with long links written by hand from the wire notes: the web SDK's
// Socket.IO v2 (Engine.IO 3) and the uni-app SDK's raw WebSocket on /.

const sioFrameHeader = `451-["frame",{"_placeholder":true,"num":0}]`

var sioOpen = regexp.MustCompile(`^0\{"sid":"[^"]+","upgrades":\[\],"pingInterval":25000,"pingTimeout":60000\}$`)

// sdkLink is one long link of an SDK.
type sdkLink struct {
	t     *testing.T
	ws    *websocket.Conn
	sio   bool
	pongs int // Engine.IO pongs read so far
}

// dialSocketIO connects as the web SDK and reads the Engine.IO open
// packet and the namespace connect.
func dialSocketIO(t *testing.T, host string) *sdkLink {
	t.Helper()
	ws, _, err := websocket.Dial(ctx(t), "ws://"+host+"/socket.io/?EIO=3&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	l := newLink(t, ws, true)
	if got := l.text(); !sioOpen.MatchString(got) {
		t.Fatalf("Engine.IO open packet %q, want %s", got, sioOpen)
	}
	if got := l.text(); got != "40" {
		t.Fatalf("after the open packet %q, want 40", got)
	}
	return l
}

// dialRoot connects as the uni-app SDK: a plain WebSocket on /.
func dialRoot(t *testing.T, host string) *sdkLink {
	t.Helper()
	ws, _, err := websocket.Dial(ctx(t), "ws://"+host, nil)
	if err != nil {
		t.Fatal(err)
	}
	return newLink(t, ws, false)
}

func newLink(t *testing.T, ws *websocket.Conn, sio bool) *sdkLink {
	ws.SetReadLimit(16 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return &sdkLink{t: t, ws: ws, sio: sio}
}

// text reads a text message.
func (l *sdkLink) text() string {
	l.t.Helper()
	typ, data, err := l.ws.Read(ctx(l.t))
	if err != nil || typ != websocket.MessageText {
		l.t.Fatalf("read %v %q %v, want a text message", typ, data, err)
	}
	return string(data)
}

func (l *sdkLink) write(typ websocket.MessageType, data string) {
	l.t.Helper()
	if err := l.ws.Write(ctx(l.t), typ, []byte(data)); err != nil {
		l.t.Fatal(err)
	}
}

// send sends one XSYNC frame: on Socket.IO the binary event "frame", its
// header then its attachment.
func (l *sdkLink) send(cmd xsync.Frame_Command, msg proto.Message) {
	l.t.Helper()
	payload, err := proto.Marshal(msg)
	if err != nil {
		l.t.Fatal(err)
	}
	frame, err := proto.Marshal(&xsync.Frame{Command: cmd, Payload: payload})
	if err != nil {
		l.t.Fatal(err)
	}
	if l.sio {
		l.write(websocket.MessageText, sioFrameHeader)
		frame = append([]byte{4}, frame...)
	}
	l.write(websocket.MessageBinary, string(frame))
}

// recv reads the next XSYNC frame, counting Engine.IO pongs on the way.
func (l *sdkLink) recv() (xsync.Frame_Command, proto.Message) {
	l.t.Helper()
	for {
		typ, data, err := l.ws.Read(ctx(l.t))
		if err != nil {
			l.t.Fatalf("read: %v", err)
		}
		if l.sio {
			if typ == websocket.MessageText && string(data) == "3" {
				l.pongs++
				continue
			}
			if typ != websocket.MessageText || string(data) != sioFrameHeader {
				l.t.Fatalf("got %v %q, want the frame event's header %s", typ, data, sioFrameHeader)
			}
			typ, data, err = l.ws.Read(ctx(l.t))
			if err != nil || typ != websocket.MessageBinary || len(data) == 0 || data[0] != 4 {
				l.t.Fatalf("frame attachment: %v %x %v, want binary 0x04 and a frame", typ, data, err)
			}
			data = data[1:]
		} else if typ != websocket.MessageBinary {
			l.t.Fatalf("got a %v message on the raw link, want binary", typ)
		}
		var f xsync.Frame
		if err := proto.Unmarshal(data, &f); err != nil {
			l.t.Fatalf("frame: %v", err)
		}
		m, err := xsync.NewDown(f.Command)
		if err != nil {
			l.t.Fatal(err)
		}
		if err := proto.Unmarshal(f.Payload, m); err != nil {
			l.t.Fatalf("%s payload: %v", f.Command, err)
		}
		return f.Command, m
	}
}

// sdkDevice is a logged-in link with the SDK's state.
type sdkDevice struct {
	*sdkLink
	uid  uint64
	sn   uint32
	mids uint64 // counter of client mids
}

// provision logs in as the SDK does and returns the answer.
func (l *sdkLink) provision(uid uint64, sn uint32, token, guid string) *xsync.Provision {
	l.t.Helper()
	info := "Uniapp"
	if l.sio {
		info = "Web"
	}
	l.send(xsync.Frame_PROVISION, &xsync.Provision{
		Xid: &xsync.XID{Uid: uid, DeviceSN: sn}, Token: token, OsType: xsync.Provision_WEB,
		SdkVsn: "2.0.0", DeviceGuid: guid, DeviceInfo: info,
	})
	cmd, m := l.recv()
	p, ok := m.(*xsync.Provision)
	if !ok {
		l.t.Fatalf("PROVISION answered %s %v", cmd, m)
	}
	return p
}

// login provisions and fails unless the server assigns a deviceSN.
func (l *sdkLink) login(uid uint64, sn uint32, token, guid string) *sdkDevice {
	l.t.Helper()
	p := l.provision(uid, sn, token, guid)
	if p.Status.GetCode() != xsync.Status_OK || p.Xid.GetUid() != uid || p.Xid.GetDeviceSN() == 0 {
		l.t.Fatalf("login of %d: %v", uid, p)
	}
	return &sdkDevice{sdkLink: l, uid: uid, sn: p.Xid.GetDeviceSN()}
}

// unread sends the heartbeat and returns the unread counts by
// conversation, skipping what else arrives first.
func (d *sdkDevice) unread() map[uint64]uint32 {
	d.t.Helper()
	d.send(xsync.Frame_UNREAD, &xsync.UnreadUL{})
	for {
		if _, m := d.recv(); m != nil {
			if u, ok := m.(*xsync.UnreadDL); ok {
				if u.Status.GetCode() != xsync.Status_OK {
					d.t.Fatalf("UNREAD: %v", u)
				}
				out := map[uint64]uint32{}
				for _, c := range u.Unread {
					out[c.Xid.GetUid()] = c.N
				}
				return out
			}
		}
	}
}

// sendBody sends a message with a client mid like the SDK's (a
// millisecond timestamp and a counter) and returns the mid.
func (d *sdkDevice) sendBody(to uint64, body *xsync.MessageBody) uint64 {
	d.t.Helper()
	d.mids++
	now := uint64(time.Now().UnixMilli())
	mid := now*1000 + d.mids%1000
	d.resend(mid, to, body)
	return mid
}

func (d *sdkDevice) resend(mid, to uint64, body *xsync.MessageBody) {
	d.t.Helper()
	payload, err := proto.Marshal(body)
	if err != nil {
		d.t.Fatal(err)
	}
	d.send(xsync.Frame_SYNC, &xsync.SyncUL{Meta: &xsync.Meta{
		Id: mid, From: &xsync.XID{Uid: d.uid, DeviceSN: d.sn}, To: &xsync.XID{Uid: to},
		Timestamp: uint64(time.Now().UnixMilli()), Ns: xsync.Meta_MESSAGE, Payload: payload,
	}})
}

// ack reads until the answer to client mid and fails unless it is OK.
func (d *sdkDevice) ack(mid uint64) *xsync.SyncDL {
	d.t.Helper()
	for {
		if dl, ok := d.next().(*xsync.SyncDL); ok && dl.ClientMid == mid {
			if dl.Status.GetCode() != xsync.Status_OK || dl.ServerMid == 0 || dl.ServerTime == 0 {
				d.t.Fatalf("answer to client mid %d: %v", mid, dl)
			}
			return dl
		}
	}
}

func (d *sdkDevice) next() proto.Message { _, m := d.recv(); return m }

// say sends a text and returns the server's answer.
func (d *sdkDevice) say(to uint64, typ xsync.MessageBody_Type, content string) *xsync.SyncDL {
	d.t.Helper()
	mid := d.sendBody(to, &xsync.MessageBody{Type: typ, Ctype: xsync.MessageBody_TEXT, Content: content})
	return d.ack(mid)
}

// readAck acknowledges reading message mid of the conversation.
func (d *sdkDevice) readAck(conv, mid uint64) {
	d.t.Helper()
	d.ack(d.sendBody(conv, &xsync.MessageBody{
		Type: xsync.MessageBody_OPER, Ctype: xsync.MessageBody_COMMAND,
		Operation: &xsync.MessageOperation{Type: xsync.MessageOperation_READ_ACK, Mid: mid},
	}))
}

// pull asks for a conversation as the SDK does on a NOTICE or an unread
// count: SyncUL{xid}, key 0.
func (d *sdkDevice) pull(conv uint64) {
	d.send(xsync.Frame_SYNC, &xsync.SyncUL{Xid: &xsync.XID{Uid: conv}})
}

// received is what an SDK's receive loop saw.
type received struct {
	metas   map[string]*xsync.Meta // messages by content
	dups    []string               // contents seen again
	notices map[uint64]int         // NOTICEs by conversation
	pushed  map[string]bool        // contents that came in eager SyncDLs
}

// receive runs the SDK's receive loop until messages with every one of
// the contents arrived: it answers each NOTICE with a pull, pages on
// with next_key, and skips acks and notices of the social graph.
func (d *sdkDevice) receive(contents ...string) received {
	d.t.Helper()
	r := newReceived()
	missing := func() bool {
		for _, c := range contents {
			if r.metas[c] == nil {
				return true
			}
		}
		return false
	}
	for missing() {
		switch m := d.next().(type) {
		case *xsync.Notice:
			r.notices[m.Xid.GetUid()]++
			d.pull(m.Xid.GetUid())
		case *xsync.SyncDL:
			if m.Status.GetCode() != xsync.Status_OK {
				d.t.Fatalf("SyncDL with status %v", m.Status)
			}
			if m.ClientMid != 0 {
				continue // an answer to a send
			}
			d.take(&r, m)
			if m.NextKey != 0 {
				d.send(xsync.Frame_SYNC, &xsync.SyncUL{Xid: m.Xid, Key: m.NextKey})
			}
		}
	}
	return r
}

func newReceived() received {
	return received{metas: map[string]*xsync.Meta{}, notices: map[uint64]int{}, pushed: map[string]bool{}}
}

func (d *sdkDevice) take(r *received, dl *xsync.SyncDL) {
	for _, meta := range dl.Metas {
		if meta.Ns != xsync.Meta_MESSAGE {
			continue
		}
		var body xsync.MessageBody
		if err := proto.Unmarshal(meta.Payload, &body); err != nil {
			d.t.Fatal(err)
		}
		if body.Type != xsync.MessageBody_CHAT && body.Type != xsync.MessageBody_GROUPCHAT {
			continue
		}
		if r.metas[body.Content] != nil {
			r.dups = append(r.dups, body.Content)
			continue
		}
		r.metas[body.Content] = meta
		r.pushed[body.Content] = dl.IsEagerSync
	}
}

// discovered is what the SDK takes from /v2/app_dns.
type discovered struct {
	ratel string // REST base URL
	webim string // host of the long link
}

// discover asks /v2/app_dns as the uni-app SDK does before login, with
// "undefined" headers, and checks the answer's shape.
func (s *server) discover() discovered {
	t := s.t
	t.Helper()
	undefined := map[string]string{"app_id": "undefined", "access-token": "undefined", "user_id": "undefined"}
	code, data := s.rest("GET", "/v2/app_dns?app_id=app", undefined, "")
	if code != 200 {
		t.Fatalf("app_dns: code %d %s", code, data)
	}
	var dns struct {
		AppStatus string `json:"app_status"`
		DNSList   []struct {
			GroupLevel int `json:"group_level"`
			Clusters   []struct {
				Ratel, WebIM, RTC []struct{ Protocol, Host string }
			} `json:"clusters"`
		} `json:"dns_list"`
	}
	if err := json.Unmarshal(data, &dns); err != nil || dns.AppStatus != "normal" || len(dns.DNSList) == 0 ||
		dns.DNSList[0].GroupLevel != 0 || len(dns.DNSList[0].Clusters) == 0 {
		t.Fatalf("app_dns answered %s (%v)", data, err)
	}
	c := dns.DNSList[0].Clusters[0]
	if len(c.Ratel) == 0 || len(c.WebIM) == 0 || len(c.RTC) == 0 {
		t.Fatalf("app_dns cluster %s lacks ratel, webim or rtc", data)
	}
	return discovered{ratel: c.Ratel[0].Protocol + "://" + c.Ratel[0].Host, webim: c.WebIM[0].Host}
}

// sdkLogin gets a token over REST and loads the lists the SDK loads
// before it connects; it returns the token, the friends and the groups.
// (The REST base is this server: discover checks it.)
func (s *server) sdkLogin(name string) (uint64, string, []uint64, []uint64) {
	t := s.t
	t.Helper()
	code, data := s.rest("POST", "/token/user",
		map[string]string{"app_id": "app", "access-token": "undefined", "user_id": "undefined", "Content-Type": "application/json"},
		`{"name":"`+name+`","password":"pw"}`)
	var tok struct {
		Token  string `json:"token"`
		UserID uint64 `json:"user_id"`
		Expire int64  `json:"expire"`
	}
	if err := json.Unmarshal(data, &tok); code != 200 || err != nil || tok.Token == "" || tok.UserID == 0 || tok.Expire <= time.Now().UnixMilli() {
		t.Fatalf("token/user of %s: code %d %s", name, code, data)
	}
	auth := map[string]string{"app_id": "app", "access-token": tok.Token}
	var friends, groups []uint64
	for path, into := range map[string]*[]uint64{"/roster/list": &friends, "/group/user_joined": &groups} {
		code, data := s.rest("GET", path, auth, "")
		if err := json.Unmarshal(data, into); code != 200 || err != nil {
			t.Fatalf("%s of %s: code %d %s", path, name, code, data)
		}
	}
	return tok.UserID, tok.Token, friends, groups
}

// sdkTransports are the two long links, by the SDK that uses each.
var sdkTransports = []struct {
	name string
	dial func(t *testing.T, host string) *sdkLink
}{
	{"socket.io", dialSocketIO},
	{"raw on /", dialRoot},
}

func TestSDKSession(t *testing.T) {
	for _, tr := range sdkTransports {
		t.Run(tr.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, open opener) {
				sdkSession(t, start(t, open(t), gateway.Config{}), tr.dial)
			})
		})
	}
}

// sdkSession walks an SDK app's life: discovery, REST login and lists,
// the long link, 1:1 and group messages both ways, and a reconnect that
// keeps the assigned deviceSN and syncs what the device missed.
func sdkSession(t *testing.T, s *server, dial func(*testing.T, string) *sdkLink) {
	alice, _ := s.user("alice")
	bob, _ := s.user("bob")
	admin := map[string]string{"app_id": "app", "access-token": s.admin, "user_id": jsonNum(alice)}
	if code, data := s.rest("POST", "/user/add_roster", admin, `{"list":[`+jsonNum(bob)+`]}`); code != 200 {
		t.Fatalf("add_roster: %d %s", code, data)
	}
	code, data := s.rest("POST", "/group/create", admin, `{"name":"g","user_list":[`+jsonNum(bob)+`]}`)
	var group struct {
		GroupID uint64 `json:"group_id"`
	}
	if err := json.Unmarshal(data, &group); code != 200 || err != nil || group.GroupID == 0 {
		t.Fatalf("group/create: %d %s", code, data)
	}
	gid := group.GroupID

	srv := s.discover()
	if srv.ratel != s.http.URL || srv.webim != strings.TrimPrefix(s.http.URL, "http://") {
		t.Fatalf("discovery gave ratel %s and webim %s, want this server %s", srv.ratel, srv.webim, s.http.URL)
	}
	if code, data := s.rest("GET", "/", nil, ""); code != 200 || !strings.Contains(string(data), `"name":"imgate"`) {
		t.Errorf("GET / (the SDK's speed probe): %d %s", code, data)
	}
	if code, data := s.rest("GET", "/app/config?platform=6", map[string]string{"app_id": "app"}, ""); code != 200 {
		t.Errorf("app/config: %d %s", code, data)
	}
	_, atok, afriends, agroups := s.sdkLogin("alice")
	_, btok, _, bgroups := s.sdkLogin("bob")
	if fmt.Sprint(afriends) != fmt.Sprint([]uint64{bob}) || fmt.Sprint(agroups) != fmt.Sprint([]uint64{gid}) || fmt.Sprint(bgroups) != fmt.Sprint([]uint64{gid}) {
		t.Errorf("lists before connecting: alice's friends %v and groups %v, bob's groups %v; want [%d], [%d], [%d]", afriends, agroups, bgroups, bob, gid, gid)
	}
	code, data = s.rest("POST", "/roster/list", map[string]string{"app_id": "app", "access-token": atok}, `{"list":["`+jsonNum(bob)+`"]}`)
	if code != 200 || !strings.Contains(string(data), `"user_id":`+jsonNum(bob)) || !strings.Contains(string(data), `"username":"bob"`) {
		t.Errorf("POST /roster/list: %d %s", code, data)
	}

	// First logins carry the SDK's random serial numbers.
	a := dial(t, srv.webim).login(alice, 999999999+17, atok, jsonNum(alice)+"_1234")
	b := dial(t, srv.webim).login(bob, 999999999+42, btok, jsonNum(bob)+"_5678")
	if a.sn == 999999999+17 || b.sn == 999999999+42 {
		t.Errorf("the server kept the SDK's random deviceSN: alice %d, bob %d", a.sn, b.sn)
	}
	if a.sio {
		a.write(websocket.MessageText, "2") // heartbeat; its pong comes before later answers
	}
	for _, d := range []*sdkDevice{a, b} {
		if u := d.unread(); len(u) != 0 {
			t.Errorf("unread counts of %d before any message: %v", d.uid, u)
		}
	}

	hello := a.say(bob, xsync.MessageBody_CHAT, "hello")
	if hello.Xid.GetUid() != bob {
		t.Errorf("answer to a 1:1 send: xid %v, want bob %d", hello.Xid, bob)
	}
	if a.sio && a.pongs != 1 {
		t.Errorf("Engine.IO pongs before the first answer: %d, want 1", a.pongs)
	}
	hi := a.say(gid, xsync.MessageBody_GROUPCHAT, "hi all")
	got := b.receive("hello", "hi all")
	for content, want := range map[string]*xsync.SyncDL{"hello": hello, "hi all": hi} {
		m := got.metas[content]
		if m.Id != want.ServerMid || m.From.GetUid() != alice || m.From.GetDeviceSN() != a.sn {
			t.Errorf("bob got %q as meta %v, want id %d from alice's device %d", content, m, want.ServerMid, a.sn)
		}
	}
	// The SDK repeats pulls of one conversation (throttled NOTICEs): a
	// pull with nothing new answers OK and sends nothing twice.
	b.pull(alice)
	b.pull(alice)
	for answers := 0; answers < 2; {
		dl, ok := b.next().(*xsync.SyncDL)
		if !ok || dl.Xid.GetUid() != alice || dl.ClientMid != 0 {
			continue
		}
		answers++
		again := newReceived()
		b.take(&again, dl)
		if dl.Status.GetCode() != xsync.Status_OK || dl.NextKey != 0 || len(again.metas) != 0 {
			t.Errorf("a repeated pull answered %v", dl)
		}
	}
	// A resent client mid from the same device is the same message.
	mid := a.sendBody(bob, &xsync.MessageBody{Type: xsync.MessageBody_CHAT, Content: "once"})
	first := a.ack(mid)
	a.resend(mid, bob, &xsync.MessageBody{Type: xsync.MessageBody_CHAT, Content: "once"})
	if dup := a.ack(mid); dup.ServerMid != first.ServerMid {
		t.Errorf("a resent client mid stored again: server mids %d and %d", first.ServerMid, dup.ServerMid)
	}
	once := b.receive("once").metas["once"]
	b.readAck(alice, once.Id)
	b.readAck(gid, hi.ServerMid)

	// Bob goes away; what is sent meanwhile waits for him.
	b.ws.Close(websocket.StatusNormalClosure, "bye")
	eventually(t, "bob offline", func() bool { return !s.online(bob) })
	// Alice's second device gets her messages once the hub has handed
	// them out: only then has bob missed them (one still on its way when
	// he logs in is his by push).
	a2 := dial(t, srv.webim).login(alice, 999999999+18, atok, jsonNum(alice)+"_4321")
	a.say(bob, xsync.MessageBody_CHAT, "missed 1")
	a.say(gid, xsync.MessageBody_GROUPCHAT, "missed 2")
	a2.receive("missed 1", "missed 2")

	sn := b.sn
	b = dial(t, srv.webim).login(bob, sn, btok, jsonNum(bob)+"_5678")
	if b.sn != sn {
		t.Errorf("reconnect with the assigned deviceSN %d got %d", sn, b.sn)
	}
	if u := b.unread(); u[alice] != 1 || u[gid] != 1 || len(u) != 2 {
		t.Errorf("unread after the reconnect: %v, want 1 from alice (%d) and 1 in the group (%d)", u, alice, gid)
	}
	// More arrives before the device has pulled: it is behind, so it gets
	// NOTICEs and pulls everything in order.
	a.say(bob, xsync.MessageBody_CHAT, "live 1")
	a.say(gid, xsync.MessageBody_GROUPCHAT, "live 2")
	got = b.receive("missed 1", "missed 2", "live 1", "live 2")
	if got.notices[alice] == 0 || got.notices[gid] == 0 {
		t.Errorf("NOTICEs while behind: %v, want one for alice (%d) and the group (%d)", got.notices, alice, gid)
	}
	for _, c := range []string{"missed 1", "missed 2", "live 1", "live 2"} {
		if got.pushed[c] {
			t.Errorf("%q was pushed to a device that was behind; want it pulled", c)
		}
	}
	if len(got.dups) != 0 || got.metas["hello"] != nil || got.metas["once"] != nil {
		t.Errorf("the reconnected device got again %v (and hello/once: %v, %v)", got.dups, got.metas["hello"], got.metas["once"])
	}
	if got.metas["missed 1"].Id >= got.metas["live 1"].Id || got.metas["missed 2"].Id >= got.metas["live 2"].Id {
		t.Errorf("messages out of order: %v", got.metas)
	}
}
