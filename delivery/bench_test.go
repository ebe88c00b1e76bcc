package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/storage/embedded"
	"github.com/imgate/imgate/storage/postgres"
)

// BenchmarkSend measures Core.Send with many concurrent senders (64 per
// CPU), as a busy node sees them: each send is checked, queued, stored in
// a shared transaction and published. ns/op is per message.
func BenchmarkSend(b *testing.B) {
	stores := map[string]func(b *testing.B) imgate.Store{
		"embedded": func(b *testing.B) imgate.Store {
			st, err := embedded.Open(context.Background(), embedded.Config{Dir: b.TempDir()}, nil)
			if err != nil {
				b.Fatal(err)
			}
			return st
		},
		"postgres": func(b *testing.B) imgate.Store {
			st, err := postgres.Open(context.Background(), postgres.Config{DSN: pgtest.DSN(b)}, nil)
			if err != nil {
				b.Fatal(err)
			}
			return st
		},
	}
	for _, name := range []string{"embedded", "postgres"} {
		b.Run(name, func(b *testing.B) {
			st := stores[name](b)
			b.Cleanup(func() { st.Close() })
			ctx := context.Background()
			if err := st.CreateApp(ctx, imgate.App{ID: "app", Name: "app", CreatedAt: time.Now()}); err != nil {
				b.Fatal(err)
			}
			var users []int64
			for i := range 100 {
				u, err := st.CreateUser(ctx, imgate.User{AppID: "app", Username: fmt.Sprint("u", i), PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()})
				if err != nil {
					b.Fatal(err)
				}
				users = append(users, u.ID)
			}
			c := New(Config{}, st, NewLocalBus(nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
			b.Cleanup(c.Close)
			var next atomic.Int64
			b.SetParallelism(64)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					from := users[i%100]
					to := users[(i*7+1)%100]
					_, _, err := c.Send(ctx, Sender{App: "app", User: from, Device: 1}, []imgate.Message{{
						Kind: imgate.ConvChat, To: to, Type: imgate.TypeChat, Content: "benchmark message", ClientMID: i,
					}})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
