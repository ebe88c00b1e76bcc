package storetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

// BenchmarkAppendMessages measures AppendMessages on ms in batches of 1
// and of 100 messages, each with a client mid as WebSocket sends carry,
// to one chat between two users of a fresh app, and reports msgs/s.
func BenchmarkAppendMessages(b *testing.B, open func(b *testing.B) imgate.Store) {
	for _, size := range []int{1, 100} {
		b.Run("batch="+strconv.Itoa(size), func(b *testing.B) {
			st := open(b)
			var ms imgate.MessageStore = st
			ctx := b.Context()
			if err := st.CreateApp(ctx, imgate.App{ID: "app", Name: "bench", Status: imgate.AppNormal}); err != nil {
				b.Fatalf("CreateApp = %v", err)
			}
			var users [2]int64
			for i := range users {
				u, err := st.CreateUser(ctx, newUser("app", "u"+strconv.Itoa(i)))
				if err != nil {
					b.Fatalf("CreateUser = %v", err)
				}
				users[i] = u.ID
			}
			batch := make([]imgate.Message, size)
			var mid int64
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				for i := range batch {
					mid++
					batch[i] = chat("app", users[0], users[1], "a message of some forty bytes of text")
					batch[i].ClientMID = mid
				}
				if _, _, err := ms.AppendMessages(ctx, batch); err != nil {
					b.Fatalf("AppendMessages = %v", err)
				}
			}
			b.ReportMetric(float64(mid)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
