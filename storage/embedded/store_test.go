package embedded

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/storage/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) imgate.Store {
		return open(t, t.TempDir(), nil)
	})
}

// open opens a Store in dir and closes it when t ends.
func open(t *testing.T, dir string, logger *slog.Logger) *Store {
	t.Helper()
	s, err := Open(t.Context(), Config{Dir: dir}, logger)
	if err != nil {
		t.Fatalf("Open(%s) = %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return s
}

// wantVersion fails t unless the store's schema is at the latest
// version: the number of the last migration file.
func wantVersion(t *testing.T, s *Store) {
	t.Helper()
	storetest.WantLatestVersion(t, migrations, s.SchemaVersion)
}

func TestReopenKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	first, err := Open(t.Context(), Config{Dir: dir}, nil)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	if err := first.CreateApp(t.Context(), imgate.App{ID: "app", Name: "kept"}); err != nil {
		t.Fatalf("CreateApp = %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	var logs bytes.Buffer
	again := open(t, dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if app, err := again.App(t.Context(), "app"); err != nil || app.Name != "kept" {
		t.Errorf("App after reopen = %+v, %v; want the kept app", app, err)
	}
	wantVersion(t, again)
	if strings.Contains(logs.String(), "applied migration") {
		t.Errorf("reopen applied migrations again; logs:\n%s", logs.String())
	}
}

func TestMigrationsLogged(t *testing.T) {
	var logs bytes.Buffer
	s := open(t, t.TempDir(), slog.New(slog.NewTextHandler(&logs, nil)))
	wantVersion(t, s)
	for _, want := range []string{"applied migration", "version=1", "version=2", "version=3", "version=4", "version=5"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs of a first open = %q, want %q: versions 1 to 5 applied", logs.String(), want)
		}
	}
}

func TestOpenTwice(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, nil)
	b := open(t, dir, nil)
	wantVersion(t, a)
	wantVersion(t, b)
	if err := a.CreateApp(t.Context(), imgate.App{ID: "app"}); err != nil {
		t.Fatalf("CreateApp through a = %v", err)
	}
	if _, err := b.App(t.Context(), "app"); err != nil {
		t.Errorf("App through b = %v, want the app a created", err)
	}
}

func TestEmptyDir(t *testing.T) {
	if _, err := Open(t.Context(), Config{}, nil); err == nil {
		t.Error("Open(empty Dir) = nil error, want one")
	}
}

// pool opens another writer or reader pool on the store in dir, as Open
// does, and closes it when t ends.
func pool(t *testing.T, dir string, writer bool) *sqlx.DB {
	t.Helper()
	db, err := openPool(t.Context(), filepath.Join(dir, FileName), writer, "NORMAL", nil)
	if err != nil {
		t.Fatalf("openPool = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPragmas(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, nil)
	tests := []struct {
		name string
		db   *sqlx.DB
		want map[string]string
	}{
		{"writer", pool(t, dir, true), map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000", "query_only": "0"}},
		{"reader", pool(t, dir, false), map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000", "query_only": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for pragma, want := range tt.want {
				var got string
				if err := tt.db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
					t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
				}
			}
		})
	}
}

func TestIDsStartAtOneHundredMillion(t *testing.T) {
	s := open(t, t.TempDir(), nil)
	if err := s.CreateApp(t.Context(), imgate.App{ID: "app"}); err != nil {
		t.Fatalf("CreateApp = %v", err)
	}
	u, err := s.CreateUser(t.Context(), imgate.User{AppID: "app", Username: "alice"})
	if err != nil || u.ID != 100_000_000 {
		t.Errorf("first user id = %d, %v; want 100000000", u.ID, err)
	}
}

func TestTranslate(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, nil)
	db := pool(t, dir, true)
	exec := func(q string) error {
		_, err := db.ExecContext(t.Context(), q)
		return err
	}
	if err := exec("INSERT INTO apps (id, name) VALUES ('app', 'n')"); err != nil {
		t.Fatalf("insert app = %v", err)
	}
	tests := []struct {
		name, query string
		want        int
	}{
		{"primary key", "INSERT INTO apps (id, name) VALUES ('app', 'n')", imgate.CodeInvalidParameter},
		{"foreign key", "INSERT INTO tokens (id, app_id, kind) VALUES ('t', 'nope', 1)", imgate.CodeUnknownApp},
		{"syntax", "INSERT INTO", imgate.CodeStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := exec(tt.query)
			var se *sqlite.Error
			if !errors.As(err, &se) {
				t.Fatalf("exec = %v, want a *sqlite.Error", err)
			}
			got := translate(err)
			if code := imgate.ErrorCode(got); code != tt.want {
				t.Errorf("translate(%v) code = %d, want %d", err, code, tt.want)
			}
			if !errors.Is(got, err) {
				t.Errorf("translate(%v) = %v, lost the driver error", err, got)
			}
		})
	}
}

// TestSync: Config.Sync sets the writer's synchronous pragma (1 NORMAL,
// 2 FULL); an unknown mode is refused (issue 17, item 8).
func TestSync(t *testing.T) {
	for mode, want := range map[Sync]string{"": "1", SyncNormal: "1", SyncFull: "2"} {
		s, err := Open(t.Context(), Config{Dir: t.TempDir(), Sync: mode}, nil)
		if err != nil {
			t.Fatalf("Open(sync %q) = %v", mode, err)
		}
		var got string
		if err := s.w.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&got); err != nil || got != want {
			t.Errorf("sync %q: PRAGMA synchronous = %q, %v; want %q", mode, got, err, want)
		}
		s.Close()
	}
	if _, err := Open(t.Context(), Config{Dir: t.TempDir(), Sync: "sometimes"}, nil); err == nil {
		t.Errorf("Open with sync \"sometimes\" succeeded")
	}
}
