package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// CacheStatements wraps a driver's connector so that each pooled
// connection keeps the statements it has prepared, by query text, and
// runs them again with new arguments. database/sql prepares nothing
// across calls: SQLite (modernc) then parses every query text again,
// which costs more than many of imgate's queries themselves (a quarter of
// the CPU under REST load), and lib/pq sends each query with arguments
// as a Parse round trip and then an Execute round trip; a prepared
// statement runs in one.
//
// A connection is used by one goroutine at a time (database/sql holds
// its lock around every call here), so the cache needs no lock of its
// own. A statement whose rows are still open is busy: a nested query of
// the same text runs unprepared, as before. Only single SELECT, INSERT,
// UPDATE, DELETE and WITH statements are cached, not DDL or scripts of
// several commands (migrations).
//
// Every connection also counts its round trips to rt (nil: none), here
// where both stores pass, so that they count alike.
func CacheStatements(c driver.Connector, rt RoundTrips) driver.Connector {
	return cachingConnector{c, rt}
}

// RoundTrips counts calls into the database driver: each Exec, Query,
// Begin, Commit and Rollback, under the context of the call (for a
// Commit or Rollback, the context its transaction began with), from
// which it reads what the call was for (metrics.StoreOp).
// *metrics.Metrics is one.
type RoundTrips interface {
	StoreRoundTrip(ctx context.Context)
}

type noRoundTrips struct{}

func (noRoundTrips) StoreRoundTrip(context.Context) {}

type cachingConnector struct {
	driver.Connector
	rt RoundTrips
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	rt := c.rt
	if rt == nil {
		rt = noRoundTrips{}
	}
	return newCachingConn(conn, rt)
}

// maxCachedStmts bounds each connection's cache. imgate has a few hundred
// query texts; lists expanded into "IN (?, ?, …)" make more, so a full
// cache is emptied and starts over.
const maxCachedStmts = 512

// baseConn is what the cache needs of a driver's connection; both
// modernc's SQLite and lib/pq have it.
type baseConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
}

func newCachingConn(c driver.Conn, rt RoundTrips) (driver.Conn, error) {
	bc, ok := c.(baseConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("sqlstore: driver connection %T lacks what the statement cache needs", c)
	}
	return &cachingConn{baseConn: bc, conn: c, stmts: map[string]*cachedStmt{}, rt: rt}, nil
}

type cachingConn struct {
	baseConn
	conn  driver.Conn // for the optional interfaces
	stmts map[string]*cachedStmt
	rt    RoundTrips
}

// BeginTx begins a transaction whose Commit or Rollback counts as a
// round trip of the operation ctx names.
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.rt.StoreRoundTrip(ctx)
	tx, err := c.baseConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countedTx{tx, c.rt, ctx}, nil
}

// countedTx counts its end as a round trip.
type countedTx struct {
	driver.Tx
	rt  RoundTrips
	ctx context.Context // the transaction's, for its operation label
}

func (t countedTx) Commit() error {
	t.rt.StoreRoundTrip(t.ctx)
	return t.Tx.Commit()
}

func (t countedTx) Rollback() error {
	t.rt.StoreRoundTrip(t.ctx)
	return t.Tx.Rollback()
}

// The optional interfaces database/sql looks for, passed on when the
// driver's connection has them.

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	busy bool // rows of it are open
}

// cacheable tells whether a query is one statement the cache keeps.
func cacheable(query string) bool {
	q := strings.TrimSpace(query)
	if strings.Contains(strings.TrimRight(q, "; \t\n"), ";") {
		return false // several commands
	}
	word, _, _ := strings.Cut(q, " ")
	switch strings.ToUpper(word) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH":
		return true
	}
	return false
}

// cached returns the connection's prepared statement of query, preparing
// it if need be; nil when query is not to be cached or is busy.
func (c *cachingConn) cached(ctx context.Context, query string) (*cachedStmt, error) {
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	if !cacheable(query) {
		return nil, nil
	}
	s, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := s.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		s.Close()
		return nil, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		c.evict()
	}
	cs := &cachedStmt{stmt: st}
	c.stmts[query] = cs
	return cs, nil
}

// evict closes and forgets every statement that is not busy.
func (c *cachingConn) evict() {
	for q, cs := range c.stmts {
		if !cs.busy {
			cs.stmt.Close()
			delete(c.stmts, q)
		}
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.rt.StoreRoundTrip(ctx)
	cs, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.baseConn.ExecContext(ctx, query, args)
	}
	return cs.stmt.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.rt.StoreRoundTrip(ctx)
	cs, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.baseConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

// Close closes the cached statements, then the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.stmt.Close())
		delete(c.stmts, q)
	}
	errs = append(errs, c.baseConn.Close())
	return errors.Join(errs...)
}

// cachedRows are the rows of a cached statement: closing them frees the
// statement for the next query.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	r.cs.busy = false
	return r.Rows.Close()
}

// The driver's rows describe their columns; pass that on.

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}
