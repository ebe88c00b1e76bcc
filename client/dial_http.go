package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// DialHTTP is Dial through an HTTP client of the caller's: one whose
// transport dials from a chosen local address, for instance, so that a
// load generator can open more sockets than one source address has ports.
// A nil hc is Dial.
func DialHTTP(ctx context.Context, url string, opts Options, hc *http.Client) (*Conn, error) {
	proto := "xsync"
	if opts.JSON {
		proto = "xsync.json"
	}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{proto}, HTTPClient: hc})
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", url, err)
	}
	ws.SetReadLimit(16 << 20)
	return &Conn{ws: ws, json: opts.JSON}, nil
}
