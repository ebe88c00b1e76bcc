// Package embedded is the imgate.Store of a single node: SQLite in one file
// through the pure-Go modernc driver, with the schema migrated at open.
//
// SQLite has one writer at a time, so the Store writes through a pool of
// one connection whose transactions begin IMMEDIATE, and reads through a
// pool of several read-only connections that WAL mode lets run beside it.
package embedded

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the name of the database file inside Config.Dir.
const FileName = "imgate.db"

// Config configures Open.
type Config struct {
	// Dir is the directory of the database file, created when missing.
	// It is required.
	Dir string
	// RoundTrips counts the calls into the driver (*metrics.Metrics);
	// nil counts none.
	RoundTrips sqlstore.RoundTrips
	// PrivateDir makes Open refuse a Dir that its group or others may
	// access: the file holds the signing secret, password hashes and
	// every message. imgate's commands set it unless told otherwise
	// (--allow-open-data-dir). Whatever it says, the files Open creates
	// are its owner's only.
	PrivateDir bool
	// Sync is SQLite's synchronous setting: SyncNormal (the default) or
	// SyncFull. See SyncFull.
	Sync Sync
}

// Sync is how hard a commit waits for the disk.
type Sync string

const (
	// SyncNormal (WAL with synchronous=NORMAL) survives a crash of the
	// process but may lose the last commits, acknowledged ones included,
	// to an OS crash or a power cut; the database stays consistent.
	SyncNormal Sync = "normal"
	// SyncFull (synchronous=FULL) syncs the WAL at every commit, so that
	// an acknowledged commit survives a power cut too, at the cost of an
	// fsync per commit (BENCHMARKS.md, "Embedded store: --sync").
	SyncFull Sync = "full"
)

// pragma is the value of SQLite's synchronous pragma for the mode.
func (m Sync) pragma() (string, error) {
	switch m {
	case "", SyncNormal:
		return "NORMAL", nil
	case SyncFull:
		return "FULL", nil
	}
	return "", fmt.Errorf("embedded: sync %q: want normal or full", string(m))
}

// Store is the SQLite imgate.Store.
type Store struct {
	*sqlstore.Store
	w *sqlx.DB // the writer, for tests of its settings
}

var _ imgate.Store = (*Store)(nil)

// Open opens, or creates, the database file in cfg.Dir, applies the
// migrations it has not applied yet and returns the Store. A nil logger
// discards.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dir == "" {
		return nil, errors.New("embedded: Config.Dir is empty")
	}
	syncPragma, err := cfg.Sync.pragma()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: create dir: %w", err)
	}
	if err := checkDir(cfg.Dir, !cfg.PrivateDir); err != nil {
		return nil, err
	}
	path := filepath.Join(cfg.Dir, FileName)
	if err := ownerOnly(path); err != nil {
		return nil, err
	}
	w, err := openPool(ctx, path, true, syncPragma, cfg.RoundTrips)
	if err != nil {
		return nil, err
	}
	// Migrate before the readers open, so that they find the file in WAL
	// mode and the schema in place.
	if err := migrate(ctx, w, logger); err != nil {
		return nil, errors.Join(err, w.Close())
	}
	r, err := openPool(ctx, path, false, syncPragma, cfg.RoundTrips)
	if err != nil {
		return nil, errors.Join(err, w.Close())
	}
	return &Store{Store: sqlstore.New(w, r, dialect()), w: w}, nil
}

// checkDir refuses a data directory its group or others may access,
// unless allowed.
func checkDir(dir string, allow bool) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("embedded: data dir: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && !allow {
		return fmt.Errorf("embedded: data dir %s has mode %04o: its group or others may read the store (secret, password hashes, messages); run chmod 700 on it, or allow it explicitly (--allow-open-data-dir)", dir, perm)
	}
	return nil
}

// ownerOnly creates the database file readable and writable by its owner
// only, before SQLite creates it with the umask's mode, and takes group
// and others' access from the files of an existing store. SQLite gives
// the WAL and shared-memory files the database file's mode.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("embedded: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("embedded: create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("embedded: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("embedded: restrict %s to its owner: %w", p, err)
			}
		}
	}
	return nil
}

// openPool opens the writer pool (one connection, IMMEDIATE transactions)
// or the reader pool (read-only connections, one per CPU, at least four).
// The pragmas ride in the DSN so that every pooled connection gets them;
// sync is the synchronous pragma's value.
func openPool(ctx context.Context, path string, writer bool, sync string, rt sqlstore.RoundTrips) (*sqlx.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+sync+")")
	// Statement journals (an INSERT … ON CONFLICT inside a transaction
	// opens one) in memory, not in a temporary file written page by page.
	q.Add("_pragma", "temp_store(MEMORY)")
	conns := max(runtime.NumCPU(), 4)
	if writer {
		q.Set("_txlock", "immediate")
		conns = 1
		// A batch of messages to many conversations dirties many index
		// pages: a 64 MiB page cache keeps them from spilling mid
		// transaction, and checkpoints every 10,000 WAL pages (~40 MiB)
		// instead of SQLite's 1,000 stop a checkpoint (copy back and
		// fsync) from following nearly every commit. Under chat load
		// (2,000 pairs, 2 cores) the two took the store from ~5,000 to
		// ~7,300 msgs/s and p99 from 630 to 420 ms (BENCHMARKS.md).
		q.Add("_pragma", "cache_size(-65536)")
		q.Add("_pragma", "wal_autocheckpoint(10000)")
	} else {
		q.Add("_pragma", "query_only(1)")
		q.Add("_pragma", "cache_size(-16384)")
	}
	// Each connection keeps its prepared statements: SQLite would parse
	// every query text again (sqlstore.CacheStatements).
	db := sqlx.NewDb(sql.OpenDB(sqlstore.CacheStatements(dsnConnector{dsn: path + "?" + q.Encode()}, rt)), "sqlite")
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("embedded: open %s: %w", path, err), db.Close())
	}
	return db, nil
}

// migrate applies the embedded migrations through the writer. No lock is
// needed: one process owns the file, and its writer is one connection.
func migrate(ctx context.Context, w *sqlx.DB, logger *slog.Logger) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("embedded: migrations: %w", err)
	}
	if err := sqlstore.Migrate(ctx, w.DB, goose.DialectSQLite3, fsys, logger); err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	return nil
}

// dialect is what sqlstore needs to know about SQLite. Rows need no locks:
// every write transaction holds the database's one write lock.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{NextID: nextID, NextIDs: nextIDs, Translate: translate}
}

// nextID bumps the one-row counter that users and groups share; the
// bump commits or rolls back with the write transaction.
func nextID(ctx context.Context, tx *sqlx.Tx) (int64, error) {
	var id int64
	if err := tx.GetContext(ctx, &id, "UPDATE ids SET v = v + 1 WHERE id = 1 RETURNING v"); err != nil {
		return 0, err
	}
	return id, nil
}

// nextIDs bumps the counter by n in one statement and returns the n ids
// it skipped over, which are consecutive.
func nextIDs(ctx context.Context, tx *sqlx.Tx, n int) ([]int64, error) {
	var last int64
	if err := tx.GetContext(ctx, &last, "UPDATE ids SET v = v + ? WHERE id = 1 RETURNING v", n); err != nil {
		return nil, err
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = last - int64(n) + 1 + int64(i)
	}
	return ids, nil
}

// translate names the MaxIM code of a constraint violation by SQLite's
// extended result code, keeping the driver error in the chain for logs.
// SQLite does not say which index failed other than in the message text,
// which is not matched; writes are serialised, so the user methods' checks
// inside the transaction already answer the precise codes, and this is a
// backstop only.
func translate(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	var e *imgate.Error
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		e = imgate.Errorf(imgate.CodeInvalidParameter, "already exists")
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		e = imgate.Errorf(imgate.CodeUnknownApp, "unknown app")
	default:
		return err
	}
	return fmt.Errorf("%w: %w", e, err)
}

// dsnConnector opens SQLite connections to one DSN.
type dsnConnector struct{ dsn string }

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) {
	return (&sqlite.Driver{}).Open(c.dsn)
}

func (c dsnConnector) Driver() driver.Driver { return &sqlite.Driver{} }
