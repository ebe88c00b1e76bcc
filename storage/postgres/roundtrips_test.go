package postgres

import (
	"testing"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/metrics"
	"github.com/imgate/imgate/storage/storetest"
)

func TestRoundTrips(t *testing.T) {
	storetest.RoundTrips(t, func(t *testing.T, m *metrics.Metrics) imgate.Store {
		s, err := Open(t.Context(), Config{DSN: pgtest.DSN(t), RoundTrips: m}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
