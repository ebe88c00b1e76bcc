package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/admin"
	"github.com/imgate/imgate/storage/embedded"
)

// dnsAnswer is the part of /v2/app_dns the SDKs read.
type dnsAnswer struct {
	Version   int    `json:"version"`
	AppStatus string `json:"app_status"`
	DNSList   []struct {
		GroupLevel int `json:"group_level"`
		Clusters   []struct {
			Ratel []dnsEntry `json:"ratel"`
			WebIM []dnsEntry `json:"webim"`
			RTC   []dnsEntry `json:"rtc"`
		} `json:"clusters"`
	} `json:"dns_list"`
}

type dnsEntry struct {
	Protocol string   `json:"protocol"`
	Host     string   `json:"host"`
	IPList   []string `json:"ip_list"`
}

// servers returns the entries of the level-0 cluster, as the SDK does.
func (d dnsAnswer) servers(t *testing.T) (ratel, webim, rtc []dnsEntry) {
	t.Helper()
	if len(d.DNSList) != 1 || d.DNSList[0].GroupLevel != 0 || len(d.DNSList[0].Clusters) != 1 {
		t.Fatalf("dns_list %+v, want one level-0 group with one cluster", d.DNSList)
	}
	c := d.DNSList[0].Clusters[0]
	return c.Ratel, c.WebIM, c.RTC
}

func TestAppDNS(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		host := strings.TrimPrefix(a.url, "http://")
		for name, hs := range map[string]h{
			"web SDK":                        nil,
			"uni-app SDK, undefined headers": {"app_id": "undefined", "access-token": "undefined", "user_id": "undefined"},
		} {
			t.Run(name, func(t *testing.T) {
				var d dnsAnswer
				a.ok("GET", "/v2/app_dns?app_id="+a.app+"&source=sdk", hs, nil, &d)
				ratel, webim, rtc := d.servers(t)
				self := []dnsEntry{{Protocol: "http", Host: host}}
				want := []dnsEntry{{Protocol: "http", Host: host, IPList: []string{"127.0.0.1"}}}
				if d.AppStatus != "normal" || d.Version != 1 || !cmp.Equal(ratel, want) || !cmp.Equal(webim, self) || !cmp.Equal(rtc, self) {
					t.Errorf("app_dns = %+v, want status normal and ratel %v, webim and rtc %v", d, want, self)
				}
			})
		}
		for name, query := range map[string]string{
			"unknown app": "?app_id=nosuchapp&source=sdk", "no app_id": "?source=sdk", "undefined app_id": "?app_id=undefined",
		} {
			t.Run(name, func(t *testing.T) {
				a.fails(imgate.CodeDNSInvalidApp, "GET", "/v2/app_dns"+query, h{"app_id": a.app}, nil)
			})
		}
		t.Run("frozen app", func(t *testing.T) {
			if err := a.store.CreateApp(context.Background(), imgate.App{ID: "frozenapp", Name: "f", Status: imgate.AppFrozen, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			var d dnsAnswer
			if a.ok("GET", "/v2/app_dns?app_id=frozenapp", nil, nil, &d); d.AppStatus != "frozen" {
				t.Errorf("app_status of a frozen app = %q", d.AppStatus)
			}
		})
	})
}

func TestAppDNSPublicURL(t *testing.T) {
	s, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	a := startWith(t, s, admin.Config{PasswordCost: 4, PublicURL: "https://im.example.com"})
	var d dnsAnswer
	a.ok("GET", "/v2/app_dns?app_id="+a.app, nil, nil, &d)
	ratel, webim, rtc := d.servers(t)
	want := []dnsEntry{{Protocol: "https", Host: "im.example.com"}}
	for name, got := range map[string][]dnsEntry{"ratel": ratel, "webim": webim, "rtc": rtc} {
		if !cmp.Equal(got, want) {
			t.Errorf("%s = %+v, want %+v", name, got, want)
		}
	}
}

func TestAppConfigAndStatus(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		var cfg struct {
			AppID    string          `json:"app_id"`
			Platform int             `json:"platform"`
			Server   string          `json:"server"`
			Features map[string]bool `json:"features"`
		}
		a.ok("GET", "/app/config?platform=6", h{"app_id": a.app, "access-token": "undefined"}, nil, &cfg)
		if cfg.AppID != a.app || cfg.Platform != 6 || cfg.Server != "imgate" || !cfg.Features["chat"] || !cfg.Features["group_chat"] || cfg.Features["rtc"] || cfg.Features["file_upload"] {
			t.Errorf("app/config = %+v", cfg)
		}
		a.fails(imgate.CodeInvalidParameter, "GET", "/app/config?platform=9", h{"app_id": a.app}, nil)
		a.fails(imgate.CodeUnknownApp, "GET", "/app/config?platform=6", h{"app_id": "nosuchapp"}, nil)

		var info struct{ Name, Version string }
		if r := a.ok("GET", "/", nil, nil, &info); info.Name != "imgate" || info.Version != "devel" || !strings.Contains(r.raw, `"message":null`) {
			t.Errorf("GET / = %s", r.raw)
		}
		// Public paths ignore the uni-app SDK's "undefined" headers.
		a.ok("POST", "/user/register/v2", h{"app_id": a.app, "access-token": "undefined", "user_id": "undefined"},
			map[string]string{"username": "uni", "password": "pw"}, nil)
		var tok map[string]json.RawMessage
		a.ok("POST", "/token/user", h{"app_id": a.app, "access-token": "undefined", "user_id": "undefined"},
			map[string]string{"name": "uni", "password": "pw"}, &tok)
		for _, k := range []string{"token", "user_id", "expire"} {
			if tok[k] == nil {
				t.Errorf("token/user answer %v lacks %s", tok, k)
			}
		}
	})
}

func TestCORS(t *testing.T) {
	stores(t, func(t *testing.T, a *api) {
		req, _ := http.NewRequest("OPTIONS", a.url+"/token/user", nil)
		req.Header.Set("Origin", "http://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "app_id,access-token,content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			resp.Header.Get("Access-Control-Allow-Headers") != "app_id,access-token,content-type" ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight: HTTP %d %v", resp.StatusCode, resp.Header)
		}
		req, _ = http.NewRequest("GET", a.url+"/v2/app_dns?app_id="+a.app, nil)
		req.Header.Set("Origin", "http://app.example.com")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("cross-origin GET: HTTP %d %v", resp.StatusCode, resp.Header)
		}
	})
}
