package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
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
	defer st.Close()
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A statement prepared while the tables are empty, as a node's are
	// when it starts on a new database, and run as a generic plan, as
	// Postgres runs a prepared statement after its fifth execution.
	conn, err := db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	query := db.Rebind(sqlstore.ConvStatesQuery(""))
	args := func(user int64) []any { return []any{user, "app", user, "app", user, "app", user} }
	login := db.Rebind(sqlstore.LoginStateQuery(st.Store, true))
	for _, q := range []string{
		"SET plan_cache_mode = force_generic_plan", "PREPARE convs AS " + query, "PREPARE login AS " + login,
		"INSERT INTO apps (id, name) VALUES ('app', 'app')",
		"INSERT INTO users (id, app_id, username) VALUES (1, 'app', 'one'), (2000, 'app', 'u2000'), (2001, 'app', 'u2001')",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// EXECUTE takes no bind parameters: the values go in its text.
	execute := func(user int64) string {
		return fmt.Sprintf("EXECUTE convs(%d, 'app', %d, 'app', %d, 'app', %d)", user, user, user, user)
	}
	loginAs := func(user int64) string {
		return fmt.Sprintf("EXECUTE login(%d, 'app', %d, 'app', %d, 'app', %d, 0, '', 'app', %d)", user, user, user, user, user)
	}
	for _, q := range []string{execute(1), loginAs(1)} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	const chats = 20000
	for _, q := range []string{
		// No statistics, as before autovacuum's first ANALYZE.
		"ALTER TABLE conversations SET (autovacuum_enabled = false)",
		"ALTER TABLE messages SET (autovacuum_enabled = false)",
		"ALTER TABLE conv_reads SET (autovacuum_enabled = false)",
		"ALTER TABLE group_members SET (autovacuum_enabled = false)",
		"INSERT INTO conversations (app_id, kind, a, b, last_seq, last_n)" +
			" SELECT 'app', 1, 2*i, 2*i+1, 3, 3 FROM generate_series(1, 20000) i",
		"INSERT INTO messages (conv_id, seq, id, app_id, kind, from_id, to_id, n)" +
			" SELECT c.id, s, 3*c.id+s, 'app', 1, c.a, c.b, s FROM conversations c, generate_series(1, 3) s",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var analyzed sql.NullTime
	if err := db.GetContext(ctx, &analyzed, "SELECT GREATEST(last_analyze, last_autoanalyze) FROM pg_stat_user_tables WHERE relname = 'messages'"); err != nil {
		t.Fatal(err)
	}
	if analyzed.Valid {
		t.Fatalf("messages analyzed at %v: the test needs a table without statistics", analyzed.Time)
	}
	for _, user := range []int64{2000, 2001} { // a of one chat, b of another
		for name, run := range map[string]func() (string, error){
			"planned now": func() (string, error) {
				var out string
				return out, db.GetContext(ctx, &out, "EXPLAIN (ANALYZE, FORMAT JSON) "+query, args(user)...)
			},
			"prepared on the empty tables": func() (string, error) {
				var out string
				return out, conn.GetContext(ctx, &out, "EXPLAIN (ANALYZE, FORMAT JSON) "+execute(user))
			},
			"login's, prepared on the empty tables": func() (string, error) {
				var out string
				return out, conn.GetContext(ctx, &out, "EXPLAIN (ANALYZE, FORMAT JSON) "+loginAs(user))
			},
		} {
			out, err := run()
			if err != nil {
				t.Fatal(err)
			}
			var plans []struct{ Plan planNode }
			if err := json.Unmarshal([]byte(out), &plans); err != nil {
				t.Fatal(err)
			}
			read := map[string]float64{}
			var scans []string
			plans[0].Plan.walk(func(n planNode) {
				if n.Relation != "" {
					read[n.Relation] += n.ActualRows*max(n.ActualLoops, 1) + n.RemovedByFilter
					scans = append(scans, n.NodeType+" "+n.Relation+" "+n.IndexName)
				}
			})
			for rel, n := range read {
				if n > 10 {
					t.Errorf("user %d, %s: the conversation list read %.0f rows of %s (%d chats, 3 messages each: %s); want the user's own",
						user, name, n, rel, chats, strings.Join(scans, ", "))
				}
			}
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
