package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/internal/logguard"
	"github.com/imgate/imgate/storage/embedded"
	"github.com/imgate/imgate/storage/postgres"
	"github.com/imgate/imgate/storage/sqlstore"
)

// storeFlags select and open the store; every command has them.
type storeFlags struct {
	postgres string
	dataDir  string
	openDir  bool // allow a data dir its group or others may access
	sync     string
	logLevel string
	// roundTrips counts the store's calls into its driver; nil: none.
	roundTrips sqlstore.RoundTrips
	// guard holds back warnings and errors that repeat (a long-running
	// command's: serve), see package logguard.
	guard bool
}

func (e env) storeFlags(fs *flagSet) *storeFlags {
	sf := &storeFlags{}
	fs.StringVar(&sf.postgres, "postgres", e.getenv("IMGATE_POSTGRES"), "Postgres DSN; empty selects the embedded SQLite store (env IMGATE_POSTGRES)")
	fs.StringVar(&sf.dataDir, "data-dir", e.str("IMGATE_DATA_DIR", "./imgate-data"), "directory of the embedded store (env IMGATE_DATA_DIR)")
	fs.boolVar(&sf.openDir, "allow-open-data-dir", "IMGATE_ALLOW_OPEN_DATA_DIR", "use a --data-dir that its group or others may access (refused by default: the store holds the secret, password hashes and messages)")
	fs.StringVar(&sf.sync, "sync", e.str("IMGATE_SYNC", "normal"), "embedded store: normal (an acknowledged message survives a process crash, not a power cut) or full (an fsync per commit: survives a power cut too; see BENCHMARKS.md) (env IMGATE_SYNC)")
	fs.StringVar(&sf.logLevel, "log-level", e.str("IMGATE_LOG_LEVEL", "info"), "debug, info, warn or error (env IMGATE_LOG_LEVEL)")
	return sf
}

// versioned is a store that reports its schema version.
type versioned interface {
	imgate.Store
	SchemaVersion(ctx context.Context) (int64, error)
}

// open opens the selected store, applying pending migrations.
func (sf *storeFlags) open(ctx context.Context, logger *slog.Logger) (versioned, error) {
	switch {
	case sf.sync != string(embedded.SyncNormal) && sf.sync != string(embedded.SyncFull):
		return nil, fmt.Errorf("--sync %q: want normal or full", sf.sync)
	case sf.postgres != "" && sf.sync == string(embedded.SyncFull):
		return nil, fmt.Errorf("--sync full is the embedded store's; Postgres's durability is its own synchronous_commit")
	}
	if sf.postgres != "" {
		s, err := postgres.Open(ctx, postgres.Config{DSN: sf.postgres, RoundTrips: sf.roundTrips}, logger)
		if err != nil {
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		return s, nil
	}
	s, err := embedded.Open(ctx, embedded.Config{Dir: sf.dataDir, RoundTrips: sf.roundTrips, PrivateDir: !sf.openDir, Sync: embedded.Sync(sf.sync)}, logger)
	if err != nil {
		return nil, fmt.Errorf("open embedded store in %s: %w", sf.dataDir, err)
	}
	return s, nil
}

// with opens the logger and the store, runs fn, and closes the store.
func (sf *storeFlags) with(ctx context.Context, stderr io.Writer, fn func(versioned, *slog.Logger) error) error {
	logger, closeLog, err := sf.logger(stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	store, err := sf.open(ctx, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	return fn(store, logger)
}

// logger is the command's logger and what closes it (logs what the
// guard holds back).
func (sf *storeFlags) logger(w io.Writer) (*slog.Logger, func(), error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(sf.logLevel)); err != nil {
		return nil, nil, fmt.Errorf("--log-level: %w", err)
	}
	var h slog.Handler = slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	if !sf.guard {
		return slog.New(h), func() {}, nil
	}
	g := logguard.New(h, logguard.Config{})
	return slog.New(g), g.Close, nil
}

func (e env) str(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

// flagSet is a command's flags, whose defaults come from the environment.
// A malformed environment variable is reported by parse.
type flagSet struct {
	*flag.FlagSet
	env
	errs []error
}

func (e env) flags(name string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return &flagSet{FlagSet: fs, env: e}
}

func (f *flagSet) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	return errors.Join(f.errs...)
}

func (f *flagSet) intVar(p *int, name, envName string, def int, usage string) {
	*p = def
	f.Func(name, fmt.Sprintf("%s (default %d, env %s)", usage, def, envName), func(s string) error { return parseInt(p, s) })
	f.fromEnv(envName, func(v string) error { return parseInt(p, v) })
}

func (f *flagSet) durationVar(p *time.Duration, name, envName string, def time.Duration, usage string) {
	*p = def
	f.Func(name, fmt.Sprintf("%s (default %s, env %s)", usage, def, envName), func(s string) error { return parseDuration(p, s) })
	f.fromEnv(envName, func(v string) error { return parseDuration(p, v) })
}

// boolVar is a flag without a value (--name, or --name=false); the
// environment variable takes true, 1, false or 0.
func (f *flagSet) boolVar(p *bool, name, envName string, usage string) {
	f.BoolVar(p, name, false, fmt.Sprintf("%s (env %s)", usage, envName))
	f.fromEnv(envName, func(v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not a boolean: %q", v)
		}
		*p = b
		return nil
	})
}

func (f *flagSet) fromEnv(name string, set func(string) error) {
	if v := f.getenv(name); v != "" {
		if err := set(v); err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s: %w", name, err))
		}
	}
}

func parseInt(p *int, s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("not an integer: %q", s)
	}
	*p = n
	return nil
}

func parseDuration(p *time.Duration, s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("not a duration like 30s or 168h: %q", s)
	}
	*p = d
	return nil
}
