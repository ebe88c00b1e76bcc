package metrics

import "context"

// Store operations, the values of imgate_store_round_trips_total's "op"
// label: what a round trip to the database was for. Callers label a
// context with WithStoreOp; a round trip under an unlabelled context
// counts as OpOther.
const (
	OpLogin   = "login"
	OpSend    = "send"
	OpPull    = "pull"
	OpUnread  = "unread"
	OpNotices = "notices"
	OpREST    = "rest"
	OpOther   = "other"
)

// StoreOps are the values of the "op" label, OpOther last.
var StoreOps = []string{OpLogin, OpSend, OpPull, OpUnread, OpNotices, OpREST, OpOther}

type storeOpKey struct{}

// WithStoreOp labels ctx with a store operation (one of StoreOps), so
// that the round trips made under it count for that operation.
func WithStoreOp(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, storeOpKey{}, op)
}

// StoreOp returns the store operation ctx is labelled with, OpOther when
// none.
func StoreOp(ctx context.Context) string {
	if op, ok := ctx.Value(storeOpKey{}).(string); ok {
		return op
	}
	return OpOther
}

// StoreRoundTrip counts one call into the database driver (an Exec,
// Query, Begin, Commit or Rollback) made under ctx, by ctx's store
// operation. The SQL stores call it from every connection
// (sqlstore.CacheStatements).
func (m *Metrics) StoreRoundTrip(ctx context.Context) {
	c, ok := m.roundTrips[StoreOp(ctx)]
	if !ok {
		c = m.roundTrips[OpOther]
	}
	c.Inc()
}

// LoggedIn counts a WebSocket login the server accepted.
func (m *Metrics) LoggedIn() { m.logins.Inc() }
