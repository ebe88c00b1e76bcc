package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/lib/pq"
)

// Statistics on a young database. The nodes keep their statements
// prepared, and Postgres runs a prepared statement by a generic plan
// made once, with the statistics of that moment: on a database a minute
// old, made while its tables were empty. Until autovacuum's first
// ANALYZE (it waits for a minute and for 10 % growth) such plans
// estimate every table at a few rows, and a login read every message of
// the app by a hash join (16 ms of Postgres per login in a reconnect
// storm of 19,000 devices; 1 ms once analyzed). So the store analyzes a
// table itself when it has grown to twice the rows its statistics know
// of (and by at least minAnalyzeRows): a few times while a database is
// young, then not at all (autovacuum's thresholds come first). ANALYZE
// also makes Postgres replan the statements that read the table.

// minAnalyzeRows is the least growth that makes the store analyze a table.
const minAnalyzeRows = 1000

// analyzeLock is the advisory lock the nodes take turns analyzing by.
const analyzeLock = 0x696d67617465 // "imgate"

// keepStatistics analyzes the tables that grew, every period, until ctx
// ends.
func keepStatistics(ctx context.Context, db *sql.DB, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := analyzeGrown(ctx, db, logger); err != nil && ctx.Err() == nil {
			logger.Warn("postgres: analyze grown tables", "err", err)
		}
	}
}

// analyzeGrown analyzes the schema's tables that have twice the rows
// their statistics say (never analyzed: any), if no other node is at it.
func analyzeGrown(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var locked bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", analyzeLock).Scan(&locked); err != nil || !locked {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", analyzeLock) //nolint:errcheck // ends with the session anyway
	rows, err := conn.QueryContext(ctx, "SELECT s.relname, s.n_live_tup, c.reltuples FROM pg_stat_user_tables s"+
		" JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = current_schema()"+
		" AND s.n_live_tup >= $1 AND s.n_live_tup >= 2 * GREATEST(c.reltuples, 0)", minAnalyzeRows)
	if err != nil {
		return err
	}
	type grown struct {
		name       string
		live, seen float64
	}
	var tables []grown
	for rows.Next() {
		var g grown
		if err := rows.Scan(&g.name, &g.live, &g.seen); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, g)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, g := range tables {
		start := time.Now()
		if _, err := conn.ExecContext(ctx, "ANALYZE "+pq.QuoteIdentifier(g.name)); err != nil {
			return fmt.Errorf("analyze %s: %w", g.name, err)
		}
		logger.Info("postgres: analyzed a grown table", "table", g.name, "rows", int64(g.live),
			"rows_known_before", int64(max(g.seen, 0)), "took", time.Since(start))
	}
	return nil
}
