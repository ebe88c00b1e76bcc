package postgres

import (
	"database/sql"
	"io/fs"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/storage/storetest"
)

// TestUnreadBackfill stores messages, migrates the database down to
// version 4, which drops the running unread counts, and opens it again,
// so that migration 5 counts the stored messages afresh.
func TestUnreadBackfill(t *testing.T) {
	dsn := pgtest.DSN(t)
	s, err := Open(t.Context(), Config{DSN: dsn}, nil)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	storetest.UnreadBackfill(t, s, func(t *testing.T) imgate.Store {
		if err := s.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			t.Fatalf("sql.Open = %v", err)
		}
		defer db.Close()
		fsys, err := fs.Sub(migrations, "migrations")
		if err != nil {
			t.Fatalf("migrations: %v", err)
		}
		p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatalf("goose.NewProvider = %v", err)
		}
		if _, err := p.DownTo(t.Context(), 4); err != nil {
			t.Fatalf("DownTo(4) = %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		again := open(t, dsn, nil)
		wantVersion(t, again)
		return again
	})
}
