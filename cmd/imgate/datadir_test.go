package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataDirPermissions: the embedded store's files are its owner's
// only, and a data dir its group or others may access is refused unless
// allowed (issue 17, item 7: an existing data dir left the files 0644).
func TestDataDirPermissions(t *testing.T) {
	open := t.TempDir()
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": open}}
	if _, err := c.run("migrate"); err == nil || !strings.Contains(err.Error(), "--allow-open-data-dir") {
		t.Errorf("migrate on a 0755 data dir: %v, want a refusal naming --allow-open-data-dir", err)
	}
	c.must("migrate", "--allow-open-data-dir")

	dir := dataDir(t)
	c = cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dir}}
	_, _, stop := c.serve()
	db := filepath.Join(dir, "imgate.db")
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s while serving: %v %v, want mode 0600", filepath.Base(p), fi.Mode(), err)
		}
	}
	stop()
	// A store whose file was left open to others is closed again.
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	c.must("migrate")
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("imgate.db after migrate: %v %v, want mode 0600", fi.Mode(), err)
	}
}

// TestShortSecret: a --secret shorter than 32 bytes is refused by every
// command that signs (issue 17, item 7).
func TestShortSecret(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}}
	short := strings.Repeat("s", 31)
	for _, args := range [][]string{
		{"serve", "--secret", short},
		{"app", "create", "--name", "a", "--secret", short},
		{"token", "create", "--app", "a", "--secret", short},
	} {
		if _, err := c.run(args...); err == nil || !strings.Contains(err.Error(), "32") {
			t.Errorf("imgate %s: %v, want a refusal naming 32 bytes", strings.Join(args, " "), err)
		}
	}
	c.env["IMGATE_SECRET"] = short
	if _, err := c.run("app", "create", "--name", "a"); err == nil {
		t.Errorf("IMGATE_SECRET of 31 bytes accepted")
	}
	c.env["IMGATE_SECRET"] = short + "s"
	c.must("app", "create", "--name", "a")
}
