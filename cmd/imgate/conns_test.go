package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSlowBody: a REST request whose body drips in is cut off at
// --body-timeout (issue 17, item 4: a client announcing 1 GB and
// dripping it kept its connection forever).
func TestSlowBody(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}}
	url, l, stop := c.serve("--body-timeout", "1s")
	defer stop()
	app := l.await(t, regexp.MustCompile(`app_id=(\w+)`))
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /token/user HTTP/1.1\r\nHost: imgate\r\napp_id: %s\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{", app)
	dripping := make(chan struct{})
	go func() {
		defer close(dripping)
		for {
			time.Sleep(100 * time.Millisecond)
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	began := time.Now()
	conn.SetReadDeadline(began.Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a dripping body after %s: %v", time.Since(began), err)
	}
	resp.Body.Close()
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("a dripping body was answered after %s, want about the 1s --body-timeout", took)
	}
	if resp.Header.Get("Connection") != "close" && !resp.Close {
		t.Errorf("the connection of a timed-out body stays open")
	}
	conn.Close()
	<-dripping
}

// TestConnsPerIP: one address holds at most --max-conns-per-ip
// connections; more are closed at once, and a closed one frees its slot
// (issue 17, item 4).
func TestConnsPerIP(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}}
	url, _, stop := c.serve("--max-conns-per-ip", "3")
	defer stop()
	addr := strings.TrimPrefix(url, "http://")
	healthz := func(conn net.Conn) error {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: imgate\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	var held []net.Conn
	for range 3 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := healthz(conn); err != nil {
			t.Fatalf("connection %d of 3: %v", len(held)+1, err)
		}
		held = append(held, conn)
	}
	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	if err := healthz(over); err == nil {
		t.Fatalf("a 4th connection from one address was served")
	}
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		err = healthz(conn)
		conn.Close()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed connection's slot was not freed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
