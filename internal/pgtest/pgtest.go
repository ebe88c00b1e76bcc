// Package pgtest gives each test a database of its own on a real
// PostgreSQL server.
//
// The server is the one named by IMGATE_TEST_POSTGRES, by default a local
// one that trusts user postgres. When it does not answer, tests skip, or
// fail when IMGATE_REQUIRE_POSTGRES=1, as it is in CI.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
)

// DefaultServer is the server DSN used when IMGATE_TEST_POSTGRES is unset.
const DefaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// DSN creates a fresh, empty database named imgate_test_<random hex> and
// returns a DSN for it. When t ends, it ends the database's connections
// and drops it.
func DSN(t testing.TB) string {
	t.Helper()
	server := os.Getenv("IMGATE_TEST_POSTGRES")
	if server == "" {
		server = DefaultServer
	}
	admin := connect(t, server)
	defer admin.Close()
	name := "imgate_test_" + randomHex()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() { drop(t, server, name) })
	dsn, err := withDatabase(server, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// connect opens the server's administrative database, skipping the test
// when the server does not answer unless IMGATE_REQUIRE_POSTGRES=1.
func connect(t testing.TB, server string) *sql.DB {
	t.Helper()
	db, err := open(server)
	if err == nil {
		return db
	}
	msg := fmt.Sprintf("pgtest: no PostgreSQL at IMGATE_TEST_POSTGRES (%s): %v", redact(server), err)
	if os.Getenv("IMGATE_REQUIRE_POSTGRES") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; set IMGATE_REQUIRE_POSTGRES=1 to fail instead")
	return nil
}

// open connects to dsn and checks that the server answers within seconds.
func open(dsn string) (*sql.DB, error) {
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// drop ends the connections a test left open to the database and drops it.
func drop(t testing.TB, server, name string) {
	db, err := open(server)
	if err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
		return
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx,
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
	if err == nil {
		_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name))
	}
	if err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
	}
}

// withDatabase returns the server DSN with its database replaced by name,
// for the URL form and the key=value form alike.
func withDatabase(server, name string) (string, error) {
	if !strings.HasPrefix(server, "postgres://") && !strings.HasPrefix(server, "postgresql://") {
		// In key=value form the last value of a key wins.
		return server + " dbname=" + name, nil
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("parse IMGATE_TEST_POSTGRES: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// redact hides the password of a DSN for messages: a URL shows without
// it, and key=value pairs, which may hold one anywhere, not at all.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "key=value DSN"
}

// randomHex returns 16 random hex digits; crypto/rand.Read never fails.
func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
