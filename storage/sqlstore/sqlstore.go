// Package sqlstore is the one implementation of imgate.Store over SQL that
// storage/postgres and storage/embedded share. Queries are written once with
// ? placeholders and rebound by sqlx for the driver; what differs between
// databases (id allocation, row locking, driver errors) comes in a Dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate"
)

// Dialect is what the Store needs to know about the database under it.
type Dialect struct {
	// NextID allocates the next id of the one sequence that users and
	// groups share, inside the write transaction tx.
	NextID func(ctx context.Context, tx *sqlx.Tx) (int64, error)
	// NextIDs allocates n ids of the same sequence in one statement, in
	// ascending order; nil calls NextID n times.
	NextIDs func(ctx context.Context, tx *sqlx.Tx, n int) ([]int64, error)
	// Translate returns err as an *imgate.Error when it is a driver error
	// with a MaxIM meaning, such as a unique violation, and err unchanged
	// otherwise.
	Translate func(err error) error
	// ForUpdate ends a SELECT of rows the transaction goes on to write:
	// " FOR UPDATE" where the database locks rows, "" where writers are
	// serialised anyway.
	ForUpdate string
	// ForNoKeyUpdate ends a SELECT of rows the transaction serialises on
	// but does not delete or re-key: " FOR NO KEY UPDATE" on PostgreSQL,
	// where it leaves other transactions free to insert rows that
	// reference the locked ones by foreign key; "" where writers are
	// serialised anyway.
	ForNoKeyUpdate string
	// JSONAgg and JSONArray name the database's functions that aggregate
	// values into a JSON array and build one from their arguments, for
	// statements that return lists in one row (LoginState):
	// "json_group_array" and "json_array" on SQLite (the defaults),
	// "json_agg" and "json_build_array" on PostgreSQL.
	JSONAgg, JSONArray string
	// Retry reports whether a write transaction that failed with err may
	// run again from the start: the database aborted it to break a
	// deadlock, or as a serialization failure. nil: never.
	Retry func(err error) bool
	// SkipLocked ends a SELECT of rows to lock that concurrent claimers
	// skip rather than wait for: " FOR UPDATE SKIP LOCKED" on
	// PostgreSQL, "" where writers are serialised anyway.
	SkipLocked string
}

// writeAttempts bounds the runs of one write transaction that Retry lets
// run again; writeBackOff is the base of the pause between runs.
const (
	writeAttempts = 3
	writeBackOff  = 10 * time.Millisecond
)

// Store implements imgate.Store over a writer and a reader handle.
type Store struct {
	w, r  *sqlx.DB
	d     Dialect
	hooks *hookCache
}

var _ imgate.Store = (*Store)(nil)

// New returns a Store that writes through w and reads through r, which may
// be the same pool. The Store owns both: Close closes them. d.NextID is
// required; a nil d.Translate leaves driver errors as they are.
func New(w, r *sqlx.DB, d Dialect) *Store {
	if d.Translate == nil {
		d.Translate = func(err error) error { return err }
	}
	if d.JSONAgg == "" {
		d.JSONAgg, d.JSONArray = "json_group_array", "json_array"
	}
	if d.NextIDs == nil {
		d.NextIDs = func(ctx context.Context, tx *sqlx.Tx, n int) ([]int64, error) {
			ids := make([]int64, n)
			for i := range ids {
				id, err := d.NextID(ctx, tx)
				if err != nil {
					return nil, err
				}
				ids[i] = id
			}
			return ids, nil
		}
	}
	return &Store{w: w, r: r, d: d, hooks: &hookCache{hooks: map[string]cachedHook{}}}
}

// Ping checks that both handles answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := ping(ctx, s.w.DB); err != nil {
		return fmt.Errorf("sqlstore: ping writer: %w", err)
	}
	if s.r != s.w {
		if err := ping(ctx, s.r.DB); err != nil {
			return fmt.Errorf("sqlstore: ping reader: %w", err)
		}
	}
	return nil
}

// ping pings the pool until a connection answers or one fails for a
// reason other than being dead. database/sql's PingContext pings one
// pooled connection and reports its failure: after a database restart
// every pooled connection is dead, and each ping would drop one and
// report the store down (with 16 connections, 16 readiness probes in a
// row) while a new connection would answer.
func ping(ctx context.Context, db *sql.DB) error {
	var err error
	for range db.Stats().MaxOpenConnections + 2 {
		if err = db.PingContext(ctx); err == nil || !errors.Is(err, driver.ErrBadConn) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// Close closes both handles.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	if err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}

// SchemaVersion returns the highest migration version applied to the
// database, 0 when none is.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	err := s.r.GetContext(ctx, &v, "SELECT MAX(version_id) FROM "+versionTable)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: schema version: %w", err)
	}
	return v.Int64, nil
}

// write runs fn in a transaction on the writer and commits it when fn
// succeeds. Driver errors come back translated by the dialect.
//
// A transaction the database aborts to break a deadlock (Dialect.Retry)
// runs again, up to writeAttempts times in all, after a short random
// pause: fn must be safe to run again, leaving nothing behind of a run
// whose transaction rolled back (the Store's callbacks are told so).
func (s *Store) write(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || s.d.Retry == nil || attempt == writeAttempts || !s.d.Retry(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * writeBackOff * time.Duration(1+rand.IntN(4)) / 2):
		}
	}
}

// writeOnce runs fn in one write transaction.
func (s *Store) writeOnce(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return s.d.Translate(err)
	}
	if err := tx.Commit(); err != nil {
		return s.d.Translate(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// read runs fn in a read-only transaction on the reader, for reads that
// take more than one statement and must see one snapshot. A read of one
// statement needs no transaction and runs on s.r directly.
func (s *Store) read(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.r.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// notFound turns sql.ErrNoRows into the business error e and returns any
// other error unchanged.
func notFound(err error, e *imgate.Error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return e
	}
	return err
}

// millis is the SQL form of a time: milliseconds since the epoch, 0 for
// the zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of millis.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
