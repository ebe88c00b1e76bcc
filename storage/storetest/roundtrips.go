package storetest

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/metrics"
)

// RoundTrips checks that a store counts its calls into the database
// driver to the Metrics it was opened with, by the operation its
// context names: a one-statement read is one round trip; a write
// transaction counts its Begin, statements and Commit (or Rollback)
// under the operation of the context it began with; an unlabelled call
// counts as other. open returns a fresh, empty store counting to m.
func RoundTrips(t *testing.T, open func(t *testing.T, m *metrics.Metrics) imgate.Store) {
	reg := prometheus.NewRegistry()
	st := open(t, metrics.New(reg))
	uid := deviceUser(t, st)
	bg := context.Background()
	for _, c := range []struct {
		name     string
		op       string
		call     func(ctx context.Context) error
		min, max float64
	}{
		{"one read", metrics.OpLogin, func(ctx context.Context) error { _, err := st.User(ctx, "app", uid); return err }, 1, 1},
		{"login state", metrics.OpLogin, func(ctx context.Context) error {
			_, err := st.LoginState(ctx, imgate.LoginQuery{App: "app", User: uid, SN: 1, Convs: true})
			return err
		}, 1, 1},
		{"new device", metrics.OpLogin, func(ctx context.Context) error {
			_, ok, err := st.CreateDevice(ctx, login(uid, 0, "new", 1))
			if !ok {
				t.Errorf("CreateDevice = %v, %v; want created", ok, err)
			}
			return err
		}, 1, 1},
		{"unlabelled", metrics.OpOther, func(ctx context.Context) error { _, err := st.User(bg, "app", uid); return err }, 1, 1},
		{"write", metrics.OpSend, func(ctx context.Context) error { _, err := st.RegisterDevice(ctx, login(uid, 0, "g", 1)); return err }, 3, 10},
		{"rolled back", metrics.OpREST, func(ctx context.Context) error {
			_, err := st.RegisterDevice(ctx, login(uid+1000, 0, "g", 1))
			if imgate.ErrorCode(err) != imgate.CodeUserNotFound {
				t.Errorf("RegisterDevice(unknown user) = %v", err)
			}
			return nil
		}, 3, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := gatheredTrips(t, reg)
			if err := c.call(metrics.WithStoreOp(bg, c.op)); err != nil {
				t.Fatal(err)
			}
			after := gatheredTrips(t, reg)
			for _, op := range metrics.StoreOps {
				d := after[op] - before[op]
				switch {
				case op == c.op && (d < c.min || d > c.max):
					t.Errorf("%s: %v round trips, want %v to %v", op, d, c.min, c.max)
				case op != c.op && d != 0:
					t.Errorf("%s: %v round trips, want none (all %s)", op, d, c.op)
				}
			}
		})
	}
}

// gatheredTrips reads imgate_store_round_trips_total by op.
func gatheredTrips(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "imgate_store_round_trips_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}
