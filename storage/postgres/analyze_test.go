package postgres

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/pgtest"
)

// TestStatisticsOfGrownTables checks that the store analyzes a table
// that grew past what its statistics know (here: never analyzed, 5,000
// chats), without waiting for autovacuum (turned off for the table).
func TestStatisticsOfGrownTables(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	st, err := Open(ctx, Config{DSN: dsn, AnalyzeEvery: 50 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"ALTER TABLE conversations SET (autovacuum_enabled = false)",
		"INSERT INTO conversations (app_id, kind, a, b) SELECT 'app', 1, 2*i, 2*i+1 FROM generate_series(1, 5000) i",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var analyzed sql.NullTime
	var known float64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		err := db.QueryRowContext(ctx, "SELECT s.last_analyze, c.reltuples FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"+
			" WHERE s.relname = 'conversations'").Scan(&analyzed, &known)
		if err != nil {
			t.Fatal(err)
		}
		if analyzed.Valid {
			break
		}
	}
	if !analyzed.Valid || known != 5000 {
		t.Fatalf("conversations: last analyzed %v, %v rows known; want analyzed, 5000", analyzed, known)
	}
}
