package admin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/storage/embedded"
)

// startEmbedded is a REST API on a fresh embedded store, for tests of
// what the API refuses before it asks a store.
func startEmbedded(t *testing.T) *api {
	t.Helper()
	s, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return start(t, s)
}

// TestListLimitBeforeWork: a list is bounded as sent, before anything is
// done per entry, so that a body full of ids costs no more than reading
// it (issue 17, item 5: 140,000 targets took ~9 s of CPU to deduplicate).
func TestListLimitBeforeWork(t *testing.T) {
	a := startEmbedded(t)
	bob, _ := a.user("bob")
	send := func(targets string) string {
		return `{"type":1,"content_type":0,"content":"hi","targets":[` + targets + `]}`
	}
	// Duplicates count: 51 entries (the harness's limit is 50) naming
	// one user.
	dup := strings.TrimSuffix(strings.Repeat(fmt.Sprint(bob)+",", 51), ",")
	a.fails(imgate.CodeInvalidParameter, "POST", "/message/send", a.as(a.admin), send(dup))

	var b strings.Builder
	for i := 1; i <= 140_000; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, i)
	}
	began := time.Now()
	r := a.fails(imgate.CodeInvalidParameter, "POST", "/message/send", a.as(a.admin), send(b.String()))
	// Reading and decoding the 1 MB body takes well under a second (a
	// few under -race on a loaded machine); the quadratic deduplication
	// took about a minute under -race.
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("refusing 140,000 targets took %s, want it refused once read", took)
	}
	if !strings.Contains(*r.Message, "140000 entries") {
		t.Errorf("message %q does not name the list's length as sent", *r.Message)
	}
}

// TestUserListHugePage: a page past any app's users is empty, not page 1
// by an overflow of (page_num-1)*page_size (issue 17, item 9).
func TestUserListHugePage(t *testing.T) {
	a := startEmbedded(t)
	a.user("bob")
	for _, q := range []string{"page_num=9223372036854775807", "page_num=9223372036854775807&page_size=200", "page_num=46116860184273880&page_size=200"} {
		var page []map[string]any
		a.ok("GET", "/user/list?"+q, a.as(a.admin), nil, &page)
		if len(page) != 0 {
			t.Errorf("/user/list?%s: %d users, want none", q, len(page))
		}
	}
}

// TestDeviceRecordsCapped: logins from ever new device_guids keep at most
// imgate.MaxDeviceRecords devices per user, dropping those that logged in
// least recently (issue 17, item 9: rows grew without bound).
func TestDeviceRecordsCapped(t *testing.T) {
	a := startEmbedded(t)
	uid, _ := a.user("carol")
	pub := h{"app_id": a.app}
	for i := range imgate.MaxDeviceRecords + 5 {
		a.ok("POST", "/token/user", pub, fmt.Sprintf(`{"name":"carol","password":"pw","device_guid":"guid-%d"}`, i), nil)
	}
	var devices []struct {
		DeviceSN int64 `json:"device_sn"`
	}
	a.ok("GET", "/user/device/list", a.as(a.admin, uid), nil, &devices)
	if len(devices) != imgate.MaxDeviceRecords {
		t.Fatalf("%d devices listed after %d new device_guids, want %d", len(devices), imgate.MaxDeviceRecords+5, imgate.MaxDeviceRecords)
	}
	if first := devices[0].DeviceSN; first != 6 {
		t.Errorf("oldest device kept has sn %d, want 6 (the first five logged in least recently)", first)
	}
}
