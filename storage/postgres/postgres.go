// Package postgres is the imgate.Store of a cluster: PostgreSQL through
// lib/pq, with the schema migrated at open. Several nodes may open one
// database at once; a session advisory lock lets one migrate at a time.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config configures Open.
type Config struct {
	// DSN is the lib/pq connection string, as a URL or key=value pairs.
	DSN string
	// MaxConns caps the pool's open connections; 0 means 16.
	MaxConns int
	// RoundTrips counts the calls into the driver (*metrics.Metrics);
	// nil counts none.
	RoundTrips sqlstore.RoundTrips
	// AnalyzeEvery is how often the store looks for tables that doubled
	// since their statistics were taken, and analyzes them (analyze.go);
	// 0 means 10 s, negative never.
	AnalyzeEvery time.Duration
}

// Store is the PostgreSQL imgate.Store.
type Store struct {
	*sqlstore.Store
	stop func() // stops keepStatistics and waits for it
}

// Close stops the store's background work and closes its pool.
func (s *Store) Close() error {
	s.stop()
	return s.Store.Close()
}

var _ imgate.Store = (*Store)(nil)

// Open connects to the database of cfg.DSN, applies the migrations it has
// not applied yet and returns the Store. A nil logger discards.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 16
	}
	db, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, logger); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	x := sqlx.NewDb(db, "postgres")
	st := &Store{Store: sqlstore.New(x, x, dialect()), stop: func() {}}
	if cfg.AnalyzeEvery == 0 {
		cfg.AnalyzeEvery = 10 * time.Second
	}
	if cfg.AnalyzeEvery > 0 {
		bg, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			keepStatistics(bg, db, cfg.AnalyzeEvery, logger)
		}()
		st.stop = func() { cancel(); <-done }
	}
	return st, nil
}

// maxIdleTime bounds how long a pooled connection stays unused.
const maxIdleTime = time.Minute

// connect opens the pool and checks that the server answers.
func connect(ctx context.Context, cfg Config) (*sql.DB, error) {
	connector, err := pq.NewConnector(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	// Each connection keeps its prepared statements, so that a query with
	// arguments takes one round trip, not lib/pq's two (Parse, then
	// Execute), and Postgres plans it once.
	db := sql.OpenDB(sqlstore.CacheStatements(connector, cfg.RoundTrips))
	db.SetMaxOpenConns(cfg.MaxConns)
	db.SetMaxIdleConns(cfg.MaxConns)
	// A connection left idle this long is closed: after a restart of the
	// server the dead ones a quiet node holds go within it, not at their
	// next use.
	db.SetConnMaxIdleTime(maxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("postgres: connect: %w", err), db.Close())
	}
	return db, nil
}

// migrate applies the embedded migrations under a session advisory lock,
// so nodes starting at once take turns. The lock is retried every second
// for up to five minutes.
func migrate(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if err := sqlstore.Migrate(ctx, db, goose.DialectPostgres, fsys, logger, goose.WithSessionLocker(locker)); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// dialect is what sqlstore needs to know about PostgreSQL.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		NextID: nextID, NextIDs: nextIDs, Translate: translate, Retry: retryable,
		ForUpdate: " FOR UPDATE", ForNoKeyUpdate: " FOR NO KEY UPDATE",
		SkipLocked: " FOR UPDATE SKIP LOCKED",
		JSONAgg:    "json_agg", JSONArray: "json_build_array",
	}
}

// retryable reports a transaction Postgres aborted as a deadlock's victim
// (40P01), such as a user's deletion against a group change that
// notifies the user, or as a serialization failure (40001): run again,
// it succeeds.
func retryable(err error) bool {
	return pq.As(err, pqerror.TRDeadlockDetected, pqerror.TRSerializationFailure) != nil
}

// nextID draws from the ids sequence that users and groups share.
func nextID(ctx context.Context, tx *sqlx.Tx) (int64, error) {
	var id int64
	if err := tx.GetContext(ctx, &id, "SELECT nextval('ids')"); err != nil {
		return 0, err
	}
	return id, nil
}

// nextIDs draws n ids from the ids sequence, sorted: they need not be
// consecutive, as other sessions draw at the same time.
func nextIDs(ctx context.Context, tx *sqlx.Tx, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	err := tx.SelectContext(ctx, &ids, "SELECT nextval('ids') FROM generate_series(1, $1) ORDER BY 1", n)
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// translate names the MaxIM code of a constraint violation by the
// constraint that failed, as the migrations name them, and of text that
// Postgres cannot store (a NUL character, which SQLite would take), keeping
// the driver error in the chain for logs; other errors pass unchanged.
func translate(err error) error {
	if pq.As(err, pqerror.CharacterNotInRepertoire, pqerror.UntranslatableCharacter) != nil {
		return fmt.Errorf("%w: %w", imgate.Errorf(imgate.CodeInvalidParameter, "text contains a character that cannot be stored (NUL)"), err)
	}
	pe := pq.As(err, pqerror.UniqueViolation, pqerror.ForeignKeyViolation)
	if pe == nil {
		return err
	}
	if e := constraintError(pe.Constraint); e != nil {
		return fmt.Errorf("%w: %w", e, err)
	}
	return err
}

// constraintError is the business error of a violated constraint, nil for
// a constraint with no MaxIM meaning.
func constraintError(constraint string) *imgate.Error {
	switch constraint {
	case "apps_pkey":
		return imgate.Errorf(imgate.CodeInvalidParameter, "app id is taken")
	case "tokens_pkey":
		return imgate.Errorf(imgate.CodeInvalidParameter, "token id is taken")
	case "users_app_username_key":
		return imgate.Errorf(imgate.CodeUserExists, "username is taken")
	case "users_app_email_key":
		return imgate.Errorf(imgate.CodeUserExists, "email is taken")
	case "users_app_mobile_key":
		return imgate.Errorf(imgate.CodeMobileTaken, "mobile is taken")
	case "devices_user_guid_key":
		return imgate.Errorf(imgate.CodeInvalidParameter, "device guid is taken")
	case "users_app_id_fkey", "tokens_app_id_fkey", "groups_app_id_fkey":
		return imgate.Errorf(imgate.CodeUnknownApp, "unknown app")
	case "devices_user_id_fkey", "roster_items_owner_fkey", "roster_items_user_fkey",
		"roster_applications_applicant_fkey", "roster_applications_target_fkey",
		"group_members_user_id_fkey", "group_blocks_user_id_fkey", "group_kicks_user_id_fkey",
		"group_applications_applicant_id_fkey", "group_invitations_invitee_id_fkey", "notice_seqs_user_fkey", "conv_reads_user_fkey",
		"message_hides_user_fkey":
		return imgate.Errorf(imgate.CodeUserNotFound, "user not found")
	case "group_members_group_id_fkey", "group_blocks_group_id_fkey", "group_kicks_group_id_fkey",
		"group_applications_group_id_fkey", "group_invitations_group_id_fkey",
		"group_announcements_group_id_fkey", "group_files_group_id_fkey", "conversations_group_fkey":
		return imgate.Errorf(imgate.CodeGroupNotFound, "group not found")
	case "group_members_pkey":
		return imgate.Errorf(imgate.CodeAlreadyMember, "already a member")
	case "message_hides_message_fkey":
		return imgate.Errorf(imgate.CodeInvalidParameter, "message not found")
	}
	return nil
}
