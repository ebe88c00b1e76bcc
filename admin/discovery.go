package admin

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/imgate/imgate"
)

// MaxIM's client SDKs find their servers before they log in: they ask a
// DNS endpoint for the REST base (ratel) and the long-link host (webim),
// probe the REST base with GET /, and fetch a client config. imgate is
// all of these servers at once, so every address it gives is its own.

func (s *Server) discoveryRoutes() {
	s.router.HandleFunc("/v2/app_dns", s.appDNS).Methods(get)
	s.handle("/app/config", public, s.appConfig, get)
	s.router.HandleFunc("/", s.status).Methods(get)
}

// dnsInfo is the discovery answer. The SDK uses the cluster of group
// level 0 and needs ratel, webim and rtc entries in it.
type dnsInfo struct {
	Version   int        `json:"version"`
	AppStatus string     `json:"app_status"`
	DNSList   []dnsGroup `json:"dns_list"`
}

type dnsGroup struct {
	GroupLevel int          `json:"group_level"`
	Clusters   []dnsCluster `json:"clusters"`
}

type dnsCluster struct {
	Ratel []dnsHost `json:"ratel"`
	WebIM []dnsHost `json:"webim"`
	RTC   []dnsHost `json:"rtc"`
}

type dnsHost struct {
	Protocol string   `json:"protocol"`
	Host     string   `json:"host"`
	IPList   []string `json:"ip_list,omitempty"`
}

// GET /v2/app_dns?app_id=…[&source=sdk]: the app's servers, all of them
// this one. It takes no token and reads app_id from the query, ignoring
// the headers (the uni-app SDK may send "undefined" in them). A missing
// or unknown app answers CodeDNSInvalidApp.
func (s *Server) appDNS(w http.ResponseWriter, r *http.Request) {
	v, err := s.discover(r)
	s.writeResult(w, r, "/v2/app_dns", v, err)
}

func (s *Server) discover(r *http.Request) (any, error) {
	id := strings.TrimSpace(r.URL.Query().Get("app_id"))
	if id == "" || id == "undefined" {
		return nil, imgate.Errorf(imgate.CodeDNSInvalidApp, "missing app_id query parameter")
	}
	app, err := s.app(r.Context(), id)
	if imgate.ErrorCode(err) == imgate.CodeUnknownApp {
		return nil, imgate.Errorf(imgate.CodeDNSInvalidApp, "invalid app_id: no app %q on this server", id)
	} else if err != nil {
		return nil, err
	}
	scheme, host := s.publicAddress(r)
	self := []dnsHost{{Protocol: scheme, Host: host}}
	ratel := dnsHost{Protocol: scheme, Host: host}
	if ip := hostIP(host); ip != "" {
		ratel.IPList = []string{ip}
	}
	return dnsInfo{Version: 1, AppStatus: appStatusName(app.Status), DNSList: []dnsGroup{{
		Clusters: []dnsCluster{{Ratel: []dnsHost{ratel}, WebIM: self, RTC: self}},
	}}}, nil
}

// publicAddress is the scheme and host clients reach this server at:
// Config.PublicURL, or else those the request came with.
func (s *Server) publicAddress(r *http.Request) (scheme, host string) {
	if u, err := url.Parse(s.cfg.PublicURL); err == nil && u.Host != "" {
		return u.Scheme, u.Host
	}
	if r.TLS != nil {
		return "https", r.Host
	}
	return "http", r.Host
}

// hostIP is the IP address of host[:port] when it is one, else "".
func hostIP(host string) string {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
		return ip.String()
	}
	return ""
}

// appStatusName is the status as MaxIM's discovery answer names it; the
// SDK stops at "frozen" and "banned".
func appStatusName(st imgate.AppStatus) string {
	switch st {
	case imgate.AppFrozen:
		return "frozen"
	case imgate.AppBanned:
		return "banned"
	}
	return "normal"
}

// clientConfig is imgate's answer to GET /app/config: what of MaxIM's
// service this server offers, so that an app can hide what is missing.
type clientConfig struct {
	AppID    string `json:"app_id"`
	Platform int64  `json:"platform"`
	Server   string `json:"server"`
	Version  string `json:"version"`
	// EncryptType 0: the long link is not encrypted, as in TokenDto.
	EncryptType int            `json:"encrypt_type"`
	Features    clientFeatures `json:"features"`
}

// clientFeatures: true for what imgate serves, false for MaxIM services
// it has not (yet): vendor push, RTC, AI; file storage when the server
// has a file service.
type clientFeatures struct {
	Chat       bool `json:"chat"`
	GroupChat  bool `json:"group_chat"`
	Roster     bool `json:"roster"`
	ReadAck    bool `json:"read_ack"`
	Recall     bool `json:"recall"`
	Edit       bool `json:"edit"`
	FileUpload bool `json:"file_upload"`
	Push       bool `json:"push"`
	RTC        bool `json:"rtc"`
	AI         bool `json:"ai"`
}

// GET /app/config?platform=N (app_id header, no token): the client
// config; platform is Provision's os_type, 0 to 6.
func (s *Server) appConfig(r *http.Request, c *call) (any, error) {
	platform, err := query{r}.int64("platform", false, 0)
	if err != nil {
		return nil, err
	}
	if platform < 0 || platform > 6 {
		return nil, badParam("platform must be from 0 to 6")
	}
	return clientConfig{
		AppID: c.app.ID, Platform: platform, Server: "imgate", Version: s.cfg.Version,
		Features: clientFeatures{Chat: true, GroupChat: true, Roster: true, ReadAck: true, Recall: true, Edit: true, FileUpload: s.cfg.Files != nil},
	}, nil
}

// serverInfo answers GET /, which MaxIM's SDKs use to time the REST base.
type serverInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	s.writeResult(w, r, "/", serverInfo{Name: "imgate", Version: s.cfg.Version}, nil)
}
