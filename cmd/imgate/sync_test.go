package main

import (
	"strings"
	"testing"
)

// TestSyncFlag: --sync takes normal or full (issue 17, item 8); the
// pragma it sets is checked by the embedded store's TestSync.
func TestSyncFlag(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}}
	c.must("migrate", "--sync", "full")
	c.must("migrate", "--sync", "normal")
	if _, err := c.run("migrate", "--sync", "sometimes"); err == nil || !strings.Contains(err.Error(), "normal or full") {
		t.Errorf("--sync sometimes: %v, want a refusal", err)
	}
	c.env["IMGATE_SYNC"] = "full"
	c.must("app", "list")
}
