package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
)

// versionTable is where goose records the applied migrations.
const versionTable = goose.DefaultTablename

// Migrate applies the migrations of fsys that db has not applied yet, one
// log line per applied version. It keeps no global state: opts add what the
// dialect needs, such as a session locker for databases that several nodes
// migrate at once.
func Migrate(ctx context.Context, db *sql.DB, dialect goose.Dialect, fsys fs.FS, logger *slog.Logger, opts ...goose.ProviderOption) error {
	opts = append([]goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(logger),
	}, opts...)
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	for _, r := range results {
		logger.InfoContext(ctx, "applied migration",
			"version", r.Source.Version, "path", r.Source.Path, "duration", r.Duration)
	}
	return nil
}
