package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/storage/postgres"
	"github.com/imgate/imgate/storage/sqlstore"
)

// TestConvStatesPlanWithoutStatistics checks that a user's conversation
// list (every login and heartbeat reads it) is planned from the user's
// own rows on a Postgres database that holds many chats but has no
// statistics yet, as one loaded moments ago has: the planner then costs
// an index on (app_id, kind, …) as if it matched one row. It once read
// every chat of the app per login, and the 19,000-device reconnect storm
// on a fresh database never got back in.
func TestConvStatesPlanWithoutStatistics(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	st, err := postgres.Open(ctx, postgres.Config{DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const chats = 20000
	for _, q := range []string{
		// No statistics, as before autovacuum's first ANALYZE.
		"ALTER TABLE conversations SET (autovacuum_enabled = false)",
		"ALTER TABLE messages SET (autovacuum_enabled = false)",
		"ALTER TABLE group_members SET (autovacuum_enabled = false)",
		"INSERT INTO conversations (app_id, kind, a, b, last_seq, last_n)" +
			" SELECT 'app', 1, 2*i, 2*i+1, 1, 1 FROM generate_series(1, 20000) i",
		"INSERT INTO messages (conv_id, seq, id, app_id, kind, from_id, to_id, n)" +
			" SELECT id, 1, id, 'app', 1, a, b, 1 FROM conversations",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var analyzed sql.NullTime
	if err := db.GetContext(ctx, &analyzed, "SELECT GREATEST(last_analyze, last_autoanalyze) FROM pg_stat_user_tables WHERE relname = 'conversations'"); err != nil {
		t.Fatal(err)
	}
	if analyzed.Valid {
		t.Fatalf("conversations analyzed at %v: the test needs a table without statistics", analyzed.Time)
	}
	q := db.Rebind("EXPLAIN (ANALYZE, FORMAT JSON) " + sqlstore.ConvStatesQuery(""))
	for _, user := range []int64{2000, 2001} { // a of one chat, b of another
		var out string
		if err := db.GetContext(ctx, &out, q, user, "app", user, "app", user, "app", user); err != nil {
			t.Fatal(err)
		}
		var plans []struct{ Plan planNode }
		if err := json.Unmarshal([]byte(out), &plans); err != nil {
			t.Fatal(err)
		}
		var read float64
		var scans []string
		plans[0].Plan.walk(func(n planNode) {
			if n.Relation == "conversations" {
				read += n.ActualRows*max(n.ActualLoops, 1) + n.RemovedByFilter
				scans = append(scans, n.NodeType+" "+n.IndexName)
			}
		})
		if read > 10 {
			t.Errorf("user %d: the conversation list read %.0f conversation rows of %d (%s); want the user's own",
				user, read, chats, strings.Join(scans, ", "))
		}
	}
}

type planNode struct {
	NodeType        string     `json:"Node Type"`
	Relation        string     `json:"Relation Name"`
	IndexName       string     `json:"Index Name"`
	ActualRows      float64    `json:"Actual Rows"`
	ActualLoops     float64    `json:"Actual Loops"`
	RemovedByFilter float64    `json:"Rows Removed by Filter"`
	Plans           []planNode `json:"Plans"`
}

func (n planNode) walk(f func(planNode)) {
	f(n)
	for _, c := range n.Plans {
		c.walk(f)
	}
}
