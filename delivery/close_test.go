package delivery

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imgate/imgate"
)

func TestSendAfterCloseFails(t *testing.T) {
	// Sends after Close fail at once: none waits for a writer that is gone,
	// even when the queue has room.
	c, gs, _, users := setup(t)
	gs.release()
	c.Close()
	from := Sender{App: "app", User: users[0], Device: 1}
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		start := time.Now()
		_, _, err := c.Send(ctx, from, []imgate.Message{{Kind: imgate.ConvChat, To: users[1], Content: "late", ClientMID: int64(i + 1)}})
		cancel()
		if !errors.Is(err, errClosed) {
			t.Fatalf("send %d after Close: %v after %s, want errClosed", i, err, time.Since(start).Round(time.Millisecond))
		}
	}
}
