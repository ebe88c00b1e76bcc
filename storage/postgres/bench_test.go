package postgres

import (
	"testing"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/storage/storetest"
)

func BenchmarkAppendMessages(b *testing.B) {
	storetest.BenchmarkAppendMessages(b, func(b *testing.B) imgate.Store {
		s, err := Open(b.Context(), Config{DSN: pgtest.DSN(b)}, nil)
		if err != nil {
			b.Fatalf("Open = %v", err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
