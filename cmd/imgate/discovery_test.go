package main

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/imgate/imgate/client"
	"github.com/imgate/imgate/gateway/xsync"
)

// discoveredHost asks /v2/app_dns as the SDK does and returns the
// protocol and host of its ratel, webim and rtc entries, which must agree.
func discoveredHost(t *testing.T, url string) string {
	t.Helper()
	code, data := post(t, "GET", url+"/v2/app_dns?app_id=welovemaxim&source=sdk", nil, "")
	var d struct {
		DNSList []struct {
			Clusters []map[string][]struct{ Protocol, Host string } `json:"clusters"`
		} `json:"dns_list"`
	}
	if err := json.Unmarshal(data, &d); code != 200 || err != nil || len(d.DNSList) != 1 || len(d.DNSList[0].Clusters) != 1 {
		t.Fatalf("app_dns: code %d %s", code, data)
	}
	got := ""
	for _, kind := range []string{"ratel", "webim", "rtc"} {
		e := d.DNSList[0].Clusters[0][kind]
		if len(e) != 1 || (got != "" && got != e[0].Protocol+"://"+e[0].Host) {
			t.Fatalf("app_dns %s: %s", kind, data)
		}
		got = e[0].Protocol + "://" + e[0].Host
	}
	return got
}

func TestServeDiscovery(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}}
	c.must("app", "create", "--id", "welovemaxim", "--name", "demo")

	url, _, stop := c.serve()
	if got := discoveredHost(t, url); got != url {
		t.Errorf("default public URL %s, want the listen address %s", got, url)
	}
	if code, data := post(t, "GET", url+"/", nil, ""); code != 200 || !strings.Contains(string(data), `"name":"imgate"`) {
		t.Errorf("GET /: code %d %s", code, data)
	}
	ws := "ws" + strings.TrimPrefix(url, "http")
	sio, _, err := websocket.Dial(context.Background(), ws+"/socket.io/?EIO=3&transport=websocket", nil)
	if err != nil {
		t.Fatalf("Socket.IO: %v", err)
	}
	if _, open, err := sio.Read(context.Background()); err != nil || !strings.HasPrefix(string(open), `0{"sid":`) {
		t.Errorf("Socket.IO open packet %q, %v", open, err)
	}
	sio.CloseNow()
	raw, err := client.Dial(context.Background(), ws+"/", client.Options{})
	if err != nil {
		t.Fatalf("WebSocket on /: %v", err)
	}
	if p, err := raw.Login(context.Background(), 1, 0, "garbage", ""); err != nil || p.Status.GetCode() != xsync.Status_INVALID_TOKEN {
		t.Errorf("XSYNC login on /: %v, %v; want INVALID_TOKEN", p, err)
	}
	raw.Close()
	stop()

	url, _, stop = c.serve("--public-url", "https://im.example.com/")
	if got := discoveredHost(t, url); got != "https://im.example.com" {
		t.Errorf("public URL from --public-url: %s", got)
	}
	stop()

	env := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": c.env["IMGATE_DATA_DIR"], "IMGATE_PUBLIC_URL": "http://chat.example.com:8443"}}
	url, _, stop = env.serve()
	if got := discoveredHost(t, url); got != "http://chat.example.com:8443" {
		t.Errorf("public URL from IMGATE_PUBLIC_URL: %s", got)
	}
	stop()

	// On every interface the listen address names no host: discovery
	// answers the host the request came to.
	url, _, stop = c.serve("--listen", "0.0.0.0:0")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	local := "http://127.0.0.1:" + port
	if got := discoveredHost(t, local); got != local {
		t.Errorf("public URL when listening on every interface: %s, want %s", got, local)
	}
	stop()

	for _, bad := range []string{"im.example.com", "ftp://im.example.com", "https://im.example.com/im", "https://im.example.com?x=1", "https://"} {
		if _, err := c.run("serve", "--public-url", bad); err == nil || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("serve --public-url %s: %v, want an error naming the flag", bad, err)
		}
	}
	if _, err := c.run("serve", "--node", "a|b"); err == nil || !strings.Contains(err.Error(), "--node") {
		t.Errorf("serve --node a|b: %v, want an error naming the flag", err)
	}
}
