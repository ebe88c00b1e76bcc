package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/imgate/imgate/internal/pgtest"
	"github.com/imgate/imgate/storage/sqlstore"
)

// TestPingAfterRestart fills the pool, restarts the server (every pooled
// connection is then dead) and checks that the first Ping, what /readyz
// asks, answers: it must not report the store down once per dead
// connection.
func TestPingAfterRestart(t *testing.T) {
	srv := pgtest.StartServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const conns = 6
	db, err := connect(ctx, Config{DSN: srv.DSN(), MaxConns: conns})
	if err != nil {
		t.Fatal(err)
	}
	x := sqlx.NewDb(db, "postgres")
	st := sqlstore.New(x, x, dialect())
	defer st.Close()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			if _, err := db.ExecContext(ctx, "SELECT pg_sleep(0.3)"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if idle := db.Stats().Idle; idle != conns {
		t.Fatalf("%d idle connections, want %d", idle, conns)
	}
	srv.Restart()
	for i := range 3 {
		if err := st.Ping(ctx); err != nil {
			t.Errorf("ping %d after the restart: %v", i+1, err)
		}
	}
}
