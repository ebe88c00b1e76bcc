package main

import (
	"net"
	"sync"

	"github.com/imgate/imgate/metrics"
)

// perSourceListener caps the connections open at once from one source
// address: a connection over the cap is closed as soon as it is
// accepted, before any byte of it is read, so that one address cannot
// hold the process's file descriptors and goroutines.
type perSourceListener struct {
	net.Listener
	max     int
	metrics *metrics.Metrics

	mu   sync.Mutex
	open map[string]int // by source address (host only)
}

// limitPerSource returns ln with at most max connections per source
// address; max 0 returns ln.
func limitPerSource(ln net.Listener, max int, m *metrics.Metrics) net.Listener {
	if max <= 0 {
		return ln
	}
	return &perSourceListener{Listener: ln, max: max, metrics: m, open: map[string]int{}}
}

// Accept returns the next connection whose source is under its cap.
func (l *perSourceListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := sourceOf(c.RemoteAddr())
		if l.take(src) {
			return &countedConn{Conn: c, release: func() { l.release(src) }}, nil
		}
		l.metrics.ConnRefused()
		c.Close()
	}
}

func (l *perSourceListener) take(src string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[src] >= l.max {
		return false
	}
	l.open[src]++
	return true
}

func (l *perSourceListener) release(src string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[src]--; l.open[src] <= 0 {
		delete(l.open, src)
	}
}

func sourceOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// countedConn gives its slot back once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// CloseWrite half-closes the connection, as net/http does before it
// closes one after an error answer, when the connection can.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
