package pgtest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/lib/pq"
)

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		server, want string
	}{
		{
			"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			"postgres://postgres@127.0.0.1:5432/db1?sslmode=disable",
		},
		{"postgresql://u:p@h/x", "postgresql://u:p@h/db1"},
		{"host=h user=u dbname=x", "host=h user=u dbname=x dbname=db1"},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			got, err := withDatabase(tt.server, "db1")
			if err != nil || got != tt.want {
				t.Errorf("withDatabase(%q) = %q, %v; want %q, nil", tt.server, got, err, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://u:secret@h/db", "postgres://u:xxxxx@h/db"},
		{"host=h password=secret", "key=value DSN"},
	}
	for _, tt := range tests {
		if got := redact(tt.dsn); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

func TestDSN(t *testing.T) {
	var name string
	t.Run("fresh database", func(t *testing.T) {
		dsn := DSN(t)
		db := openT(t, dsn)
		if err := db.QueryRow("SELECT current_database()").Scan(&name); err != nil {
			t.Fatalf("current_database: %v", err)
		}
		var tables int
		if err := db.QueryRow("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil {
			t.Fatalf("count tables: %v", err)
		}
		if tables != 0 {
			t.Errorf("fresh database has %d tables, want 0", tables)
		}
		// A connection left open must not keep the database from dropping.
		if _, err := db.Exec("CREATE TABLE t (id int)"); err != nil {
			t.Fatalf("create table: %v", err)
		}
	})
	if t.Skipped() || name == "" {
		return
	}
	t.Run("dropped after the test", func(t *testing.T) {
		db := openT(t, DSN(t))
		var n int
		if err := db.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			t.Fatalf("count databases: %v", err)
		}
		if n != 0 {
			t.Errorf("database %s still exists after its test", name)
		}
	})
}

// openT opens dsn and leaves the pool open for DSN's cleanup to deal with.
func openT(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	c, err := pq.NewConnector(dsn)
	if err != nil {
		t.Fatalf("connector: %v", err)
	}
	db := sql.OpenDB(c)
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("ping %s: %v", dsn, err)
	}
	return db
}
