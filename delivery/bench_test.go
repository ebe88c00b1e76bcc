package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"syscall"
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
	for _, run := range []struct {
		name    string
		writers int
	}{{"embedded", 1}, {"embedded", 2}, {"postgres", 1}, {"postgres", 2}} {
		name := run.name
		b.Run(fmt.Sprintf("%s/writers=%d", name, run.writers), func(b *testing.B) {
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
			c := New(Config{Writers: run.writers}, st, NewLocalBus(nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
			b.Cleanup(c.Close)
			var next atomic.Int64
			b.SetParallelism(64)
			cpu0 := processCPU(b)
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
			// The process's CPU (benchmark, core and, for the embedded
			// store, SQLite) per message: the figure that survives a
			// noisy machine, unlike ns/op.
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
		})
	}
}

// processCPU is the CPU time this process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
