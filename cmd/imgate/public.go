package main

import (
	"fmt"
	"net"
	"net/url"
	"runtime/debug"
)

// checkPublicURL accepts an empty --public-url or a scheme and host:
// MaxIM's SDKs append their own paths to the host, and socket.io-client
// would take a path for a namespace.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("--public-url: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("--public-url %q: the scheme must be http or https", s)
	case u.Host == "" || u.User != nil:
		return fmt.Errorf("--public-url %q: want scheme://host[:port]", s)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("--public-url %q: imgate must be served at the root of its host: no path, query or fragment", s)
	}
	return nil
}

// publicURL is the address discovery hands to clients: --public-url
// (checked), else http:// and the address imgate listens on. Listening on
// every interface names no address a client could use: then it is empty,
// and discovery answers the host each request came to.
func publicURL(flag string, addr net.Addr) string {
	if flag != "" {
		u, _ := url.Parse(flag)
		return u.Scheme + "://" + u.Host
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return ""
	}
	return "http://" + addr.String()
}

// version is the module version imgate was built as, or its VCS
// revision, or "devel".
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev[:min(len(rev), 12)] + dirty
}
