package loadtest

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress makes progress bars on a writer, or invisible ones without.
type progress struct{ w io.Writer }

// bar counts up to max, showing the rate of unit (users, msgs) when given.
func (p progress) bar(max int64, desc, unit string) *progressbar.ProgressBar {
	if p.w == nil {
		return progressbar.NewOptions64(max, progressbar.OptionSetVisibility(false))
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	}
	if unit != "" {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit))
	}
	return progressbar.NewOptions64(max, opts...)
}

// follow moves bar to the value of n until ctx ends or the bar is full.
// describe, when not nil, refreshes the description on each tick.
func follow(ctx context.Context, bar *progressbar.ProgressBar, n *atomic.Int64, describe func() string) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for !bar.IsFinished() {
		if describe != nil {
			bar.Describe(describe())
		}
		bar.Set64(n.Load())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// end leaves bar as it is, on a line of its own.
func end(bar *progressbar.ProgressBar) {
	if !bar.IsFinished() {
		bar.Exit()
	}
}
