package embedded

import (
	"testing"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/storage/storetest"
)

func BenchmarkAppendMessages(b *testing.B) {
	for _, mode := range []Sync{SyncNormal, SyncFull} {
		b.Run("sync="+string(mode), func(b *testing.B) {
			storetest.BenchmarkAppendMessages(b, func(b *testing.B) imgate.Store {
				s, err := Open(b.Context(), Config{Dir: b.TempDir(), Sync: mode}, nil)
				if err != nil {
					b.Fatalf("Open = %v", err)
				}
				b.Cleanup(func() { s.Close() })
				return s
			})
		})
	}
}
