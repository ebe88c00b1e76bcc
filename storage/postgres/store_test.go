package postgres

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/lib/pq"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/storage/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) imgate.Store {
		return open(t, pgtest.DSN(t), nil)
	})
}

// open opens a Store on dsn and closes it when t ends.
func open(t *testing.T, dsn string, logger *slog.Logger) *Store {
	t.Helper()
	s, err := Open(t.Context(), Config{DSN: dsn}, logger)
	if err != nil {
		t.Fatalf("Open = %v", err)
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
	dsn := pgtest.DSN(t)
	first, err := Open(t.Context(), Config{DSN: dsn}, nil)
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
	again := open(t, dsn, slog.New(slog.NewTextHandler(&logs, nil)))
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
	s := open(t, pgtest.DSN(t), slog.New(slog.NewTextHandler(&logs, nil)))
	wantVersion(t, s)
	for _, want := range []string{"applied migration", "version=1", "version=2", "version=3", "version=4", "version=5"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs of a first open = %q, want %q: versions 1 to 5 applied", logs.String(), want)
		}
	}
}

func TestConcurrentOpen(t *testing.T) {
	dsn := pgtest.DSN(t)
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), Config{DSN: dsn, MaxConns: 2}, nil) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("node %d: Open = %v", i, errs[i])
			continue
		}
		wantVersion(t, stores[i])
		if err := stores[i].Close(); err != nil {
			t.Errorf("node %d: Close = %v", i, err)
		}
	}
}

func TestIDsStartAtOneHundredMillion(t *testing.T) {
	s := open(t, pgtest.DSN(t), nil)
	if err := s.CreateApp(t.Context(), imgate.App{ID: "app"}); err != nil {
		t.Fatalf("CreateApp = %v", err)
	}
	u, err := s.CreateUser(t.Context(), imgate.User{AppID: "app", Username: "alice"})
	if err != nil || u.ID != 100_000_000 {
		t.Errorf("first user id = %d, %v; want 100000000", u.ID, err)
	}
}

func TestTranslate(t *testing.T) {
	plain := errors.New("plain")
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"plain error", plain, imgate.CodeStore},
		{"taken app id", &pq.Error{Code: "23505", Constraint: "apps_pkey"}, imgate.CodeInvalidParameter},
		{"taken username", &pq.Error{Code: "23505", Constraint: "users_app_username_key"}, imgate.CodeUserExists},
		{"taken email", &pq.Error{Code: "23505", Constraint: "users_app_email_key"}, imgate.CodeUserExists},
		{"taken mobile", &pq.Error{Code: "23505", Constraint: "users_app_mobile_key"}, imgate.CodeMobileTaken},
		{"unknown app", &pq.Error{Code: "23503", Constraint: "users_app_id_fkey"}, imgate.CodeUnknownApp},
		{"group of unknown app", &pq.Error{Code: "23503", Constraint: "groups_app_id_fkey"}, imgate.CodeUnknownApp},
		{"roster of unknown user", &pq.Error{Code: "23503", Constraint: "roster_items_user_fkey"}, imgate.CodeUserNotFound},
		{"member of unknown group", &pq.Error{Code: "23503", Constraint: "group_members_group_id_fkey"}, imgate.CodeGroupNotFound},
		{"member twice", &pq.Error{Code: "23505", Constraint: "group_members_pkey"}, imgate.CodeAlreadyMember},
		{"conversation of unknown group", &pq.Error{Code: "23503", Constraint: "conversations_group_fkey"}, imgate.CodeGroupNotFound},
		{"read position of unknown user", &pq.Error{Code: "23503", Constraint: "conv_reads_user_fkey"}, imgate.CodeUserNotFound},
		{"hide for unknown user", &pq.Error{Code: "23503", Constraint: "message_hides_user_fkey"}, imgate.CodeUserNotFound},
		{"hide of unknown message", &pq.Error{Code: "23503", Constraint: "message_hides_message_fkey"}, imgate.CodeInvalidParameter},
		{"unknown constraint", &pq.Error{Code: "23505", Constraint: "other"}, imgate.CodeStore},
		{"other sqlstate", &pq.Error{Code: "40001", Constraint: "users_app_mobile_key"}, imgate.CodeStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translate(tt.err)
			if code := imgate.ErrorCode(got); code != tt.want {
				t.Errorf("translate(%v) code = %d, want %d", tt.err, code, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("translate(%v) = %v, lost the driver error", tt.err, got)
			}
		})
	}
}
