package embedded

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// SQLite parses a statement each time database/sql runs a query string,
// and parsing costs more than many of imgate's queries themselves (a
// quarter of the CPU under REST load). stmtCacheDriver wraps the SQLite
// driver so that each pooled connection keeps the statements it has
// prepared, by query text, and runs them again with new arguments.
//
// A connection is used by one goroutine at a time (database/sql holds
// its lock around every call here), so the cache needs no lock of its
// own. A statement whose rows are still open is busy: a nested query of
// the same text runs unprepared, as before. Statements of several SQL
// commands (migrations) are never cached.
type stmtCacheDriver struct{ driver.Driver }

// maxCachedStmts bounds each connection's cache. imgate has a few hundred
// query texts; lists expanded into "IN (?, ?, …)" make more, so a full
// cache is emptied and starts over.
const maxCachedStmts = 512

func (d stmtCacheDriver) Open(name string) (driver.Conn, error) {
	c, err := d.Driver.Open(name)
	if err != nil {
		return nil, err
	}
	return newCachingConn(c)
}

// sqliteConn is what the wrapper needs of the driver's connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

func newCachingConn(c driver.Conn) (driver.Conn, error) {
	sc, ok := c.(sqliteConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("embedded: driver connection %T lacks what the statement cache needs", c)
	}
	return &cachingConn{sqliteConn: sc, stmts: map[string]*cachedStmt{}}, nil
}

type cachingConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	busy bool // rows of it are open
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
	if strings.Contains(strings.TrimRight(strings.TrimSpace(query), ";"), ";") {
		return nil, nil // several commands
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
	cs, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return cs.stmt.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
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
	errs = append(errs, c.sqliteConn.Close())
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

// stmtCacheConnector opens caching connections to one database.
type stmtCacheConnector struct {
	dsn string
	drv driver.Driver
}

func (c stmtCacheConnector) Connect(context.Context) (driver.Conn, error) {
	return stmtCacheDriver{c.drv}.Open(c.dsn)
}

func (c stmtCacheConnector) Driver() driver.Driver { return stmtCacheDriver{c.drv} }
