package embedded

import (
	"fmt"
	"testing"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
	"github.com/imgate/imgate/storage/storetest"
)

// TestStatementCache runs queries through the caching connections the
// way the store does, including the cases the cache must step aside in:
// a query of the same text while its rows are open, more texts than the
// cache holds, several commands in one text, and a failing statement.
func TestStatementCache(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, nil)
	db := pool(t, dir, true)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		// One text, many arguments: the cached statement takes each.
		if _, err := db.ExecContext(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	var v string
	for i := range 5 {
		if err := db.GetContext(ctx, &v, "SELECT v FROM kv WHERE k = ?", i); err != nil || v != fmt.Sprint("v", i) {
			t.Fatalf("get %d = %q, %v", i, v, err)
		}
	}
	// The writer has one connection: a nested query of the text whose
	// rows are open runs on the same connection, unprepared.
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const all = "SELECT k FROM kv WHERE k >= ? ORDER BY k"
	rows, err := tx.QueryxContext(ctx, all, 0)
	if err != nil {
		t.Fatal(err)
	}
	var outer, inner []int
	for rows.Next() {
		var k int
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		outer = append(outer, k)
		var ks []int
		if err := tx.SelectContext(ctx, &ks, all, k); err != nil {
			t.Fatal(err)
		}
		inner = append(inner, len(ks))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(outer, inner) != "[0 1 2 3 4] [5 4 3 2 1]" {
		t.Errorf("nested queries of one text: outer %v inner %v", outer, inner)
	}
	// More texts than the cache holds: it starts over, and answers stay
	// right.
	for i := range 600 { // more than the 512 a connection keeps
		var n int
		q := fmt.Sprintf("SELECT COUNT(*) + %d FROM kv", i)
		if err := db.GetContext(ctx, &n, q); err != nil || n != 5+i {
			t.Fatalf("%s = %d, %v", q, n, err)
		}
	}
	// Several commands in one text run, uncached.
	if _, err := db.ExecContext(ctx, "UPDATE kv SET v = 'x' WHERE k = 0; UPDATE kv SET v = 'y' WHERE k = 1;"); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(ctx, &v, "SELECT v FROM kv WHERE k = ?", 1); err != nil || v != "y" {
		t.Errorf("after a two-command exec: %q, %v", v, err)
	}
	// A failing statement reports its error, and the cached one of the
	// same connection goes on working.
	if _, err := db.ExecContext(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", 1, "dup"); err == nil {
		t.Error("duplicate key inserted")
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", 9, "v9"); err != nil {
		t.Errorf("insert after a failed one: %v", err)
	}
	if _, err := db.ExecContext(ctx, "SELECT nope FROM kv"); err == nil {
		t.Error("a bad statement prepared")
	}
}

func TestRoundTrips(t *testing.T) {
	storetest.RoundTrips(t, func(t *testing.T, m *metrics.Metrics) imgate.Store {
		s, err := Open(t.Context(), Config{Dir: t.TempDir(), RoundTrips: m}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
