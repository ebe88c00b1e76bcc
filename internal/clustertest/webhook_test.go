package clustertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hookReceiver records the contents of the message callbacks it
// accepted, by sender; while hanging it answers no call until the
// caller gives up, as an endpoint that stalls.
type hookReceiver struct {
	hanging atomic.Bool
	calls   atomic.Int64
	mu      sync.Mutex
	got     map[uint64][]string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.calls.Add(1)
	// Read first: the server sees its client go only once the body is.
	body, _ := io.ReadAll(r.Body)
	if h.hanging.Load() {
		<-r.Context().Done()
		return
	}
	var cb struct {
		From struct {
			UID uint64 `json:"uid"`
		} `json:"from"`
		Content string `json:"content"`
	}
	if json.Unmarshal(body, &cb) != nil {
		http.Error(w, "json", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got[cb.From.UID] = append(h.got[cb.From.UID], cb.Content)
	h.mu.Unlock()
}

// outboxEvents is the app's count of waiting events, as app list shows it.
func (c *cluster) outboxEvents() int {
	c.t.Helper()
	out, err := exec.Command(c.bin, append([]string{"app", "list"}, c.store...)...).Output()
	if err != nil {
		c.t.Fatalf("app list: %v", err)
	}
	var line struct {
		Events int `json:"webhook_outbox_events"`
	}
	if err := json.Unmarshal(out, &line); err != nil {
		c.t.Fatalf("app list printed %s", out)
	}
	return line.Events
}

// TestWebhookOutboxSurvivesKill: kill -9 of the node while its calls to
// a stalled endpoint are in flight and the outbox holds every event;
// restarted, it sends them all once the endpoint answers, each sender's
// in order, none lost.
func TestWebhookOutboxSurvivesKill(t *testing.T) {
	h := &hookReceiver{got: map[uint64][]string{}}
	h.hanging.Store(true)
	srv := httptest.NewServer(h)
	// Closed after the nodes are killed (cleanups run last first): a
	// stalled call ends when its node does.
	t.Cleanup(srv.Close)
	flags := []string{"--webhook-timeout", "30s", "--webhook-lease", "3s", "--webhook-backoff", "50ms", "--webhook-poll", "20ms"}
	c := newCluster(t, 1, nil, flags...)
	out, err := exec.Command(c.bin, append([]string{"app", "update", "--id", c.app, "--webhook-url", srv.URL}, c.store...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("app update: %v %s", err, out)
	}
	// The node reads an app's webhook at most WebhookConfigTTL late; its
	// first write of the app reads it, after this update.
	to, _ := c.user("reader")
	const senders, n = 3, 10
	from := make([]uint64, senders)
	for i := range from {
		from[i], _ = c.user(fmt.Sprint("sender", i))
	}
	var wg sync.WaitGroup
	for _, f := range from {
		wg.Go(func() {
			for i := range n {
				body := fmt.Sprintf(`{"targets":[%d],"type":1,"content":"m%d","content_type":0,"from_user_id":%d}`, to, i, f)
				if code, data := c.rest(c.nodes[0], "POST", "/message/send", c.admin, nil, body); code != 200 {
					t.Errorf("send: %d %s", code, data)
				}
			}
		})
	}
	wg.Wait()
	eventually(t, 10*time.Second, "every event in the outbox and calls in flight", func() bool {
		waiting := c.outboxEvents()
		return waiting == senders*n && h.calls.Load() >= senders
	})
	c.nodes[0].kill()
	h.hanging.Store(false)
	c.start("n0-again")
	eventually(t, 30*time.Second, "every event sent", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		total := 0
		for _, got := range h.got {
			total += len(got)
		}
		return total >= senders*n
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range from {
		got := h.got[f]
		want := make([]string, n)
		for i := range want {
			want[i] = "m" + strconv.Itoa(i)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("sender %d: callbacks %v, want %v", f, got, want)
		}
	}
	if left := c.outboxEvents(); left != 0 {
		t.Errorf("%d events left in the outbox", left)
	}
}
