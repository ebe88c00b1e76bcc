package main

import (
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"
)

// TestHealthDuringPasswordFlood: a flood of wrong passwords runs in the
// password pool, whose overflow is refused at once (429), so that health
// probes and other requests are answered meanwhile (issue 17, item 3:
// 100 concurrent wrong passwords took /healthz to ~1 s).
func TestHealthDuringPasswordFlood(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}}
	url, l, stop := c.serve("--password-cost", "10", "--password-workers", "1", "--password-queue", "2",
		"--login-user-failures", "1000", "--login-source-failures", "1000")
	defer stop()
	app := map[string]string{"app_id": l.await(t, regexp.MustCompile(`app_id=(\w+)`))}
	const flood = 40
	codes := make(chan int, flood)
	var wg sync.WaitGroup
	for i := range flood {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := post(t, "POST", url+"/token/user", app, fmt.Sprintf(`{"name":"u%d","password":"bad"}`, i))
			codes <- code
		}()
	}
	var slowest time.Duration
	for range 5 {
		for _, path := range []string{"/healthz", "/readyz"} {
			began := time.Now()
			resp, err := http.Get(url + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("GET %s during the flood: HTTP %d", path, resp.StatusCode)
			}
			slowest = max(slowest, time.Since(began))
		}
	}
	wg.Wait()
	close(codes)
	counts := map[int]int{}
	for code := range codes {
		counts[code]++
	}
	if counts[429] == 0 || counts[10010] == 0 || counts[429]+counts[10010] != flood {
		t.Errorf("codes of %d wrong passwords: %v; want some 10010 (checked) and the rest 429 (pool full)", flood, counts)
	}
	if slowest > 500*time.Millisecond {
		t.Errorf("slowest health probe during the flood took %s", slowest)
	}
}
