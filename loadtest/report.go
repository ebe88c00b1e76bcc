package loadtest

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Report is what a scenario measured and whether it passed. Times are in
// seconds and latencies in milliseconds.
type Report struct {
	Scenario string `json:"scenario"`
	Via      string `json:"via,omitempty"`
	// Params are the scenario's settings, by flag name.
	Params map[string]any `json:"params"`
	// SetupSeconds is how long registration, tokens and groups took.
	SetupSeconds float64     `json:"setup_seconds"`
	Users        int         `json:"users"`
	Connect      Connect     `json:"connect"`
	Send         *Send       `json:"send,omitempty"`
	Deliveries   *Deliveries `json:"deliveries,omitempty"`
	Latency      *Latency    `json:"latency_ms,omitempty"`
	// Disconnects counts devices whose connection ended before the run
	// closed it.
	Disconnects     int    `json:"disconnects"`
	FirstDisconnect string `json:"first_disconnect,omitempty"`
	// Failures say why the run failed; empty when it passed.
	Failures []string `json:"failures"`
	Pass     bool     `json:"pass"`
}

// Connect is how the devices logged in.
type Connect struct {
	Devices     int     `json:"devices"`
	Failed      int     `json:"failed"`
	FirstError  string  `json:"first_error,omitempty"`
	SourceAddrs int     `json:"source_addrs"`
	Seconds     float64 `json:"seconds"`
	// PerSecond is logins (dial, PROVISION, first UNREAD) per second
	// over the whole connection phase.
	PerSecond float64 `json:"per_second"`
}

// Send is what the senders did.
type Send struct {
	TargetRate float64 `json:"target_rate"`
	Planned    int64   `json:"planned"`
	Attempted  int64   `json:"attempted"`
	Stored     int64   `json:"stored"`
	Refused    int64   `json:"refused"`
	// Unanswered sends failed without an answer (connection or request
	// error, timeout).
	Unanswered int64   `json:"unanswered"`
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"per_second"`
	// MaxLagMs is how far behind its schedule a send started at worst.
	MaxLagMs float64 `json:"max_lag_ms"`
	// AnswerMs is the time from each send to the server's answer (the
	// send is stored then).
	AnswerMs *Latency `json:"answer_ms"`
}

// Deliveries compares what was stored with what devices received.
type Deliveries struct {
	// Expected is stored messages times the devices that must get each.
	Expected  int64 `json:"expected"`
	Delivered int64 `json:"delivered"`
	Lost      int64 `json:"lost"`
	// Duplicates counts receipts beyond the first, including metas a
	// device's session dropped as already held.
	Duplicates int64 `json:"duplicates"`
	// OutOfOrder counts messages received after a later one of the same
	// sender.
	OutOfOrder int64 `json:"out_of_order"`
	// Unexpected counts receipts of messages not stored, or not meant for
	// the device.
	Unexpected int64 `json:"unexpected"`
	// Seconds runs from the first send to the last first receipt.
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
}

// Latency summarises the end-to-end latency of first receipts, from the
// sender's clock before sending to the receiving device's after decoding.
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// String is the percentiles on one line.
func (l *Latency) String() string {
	return fmt.Sprintf("p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  (mean %.2f, n %d)", l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean, l.Count)
}

// judge fills Failures and Pass.
func (r *Report) judge() {
	r.Failures = []string{}
	fail := func(format string, args ...any) { r.Failures = append(r.Failures, fmt.Sprintf(format, args...)) }
	if r.Connect.Failed > 0 {
		fail("%d devices failed to connect (first: %s)", r.Connect.Failed, r.Connect.FirstError)
	}
	if r.Disconnects > 0 {
		fail("%d devices disconnected during the run (first: %s)", r.Disconnects, r.FirstDisconnect)
	}
	if s := r.Send; s != nil {
		if s.Attempted < s.Planned {
			fail("%d of %d sends made: the run was interrupted", s.Attempted, s.Planned)
		}
		if s.Refused > 0 {
			fail("%d sends refused (first: %s); imgate's --send-rate may be too low", s.Refused, s.FirstError)
		}
		if s.Unanswered > 0 {
			fail("%d sends unanswered (first: %s)", s.Unanswered, s.FirstError)
		}
	}
	if d := r.Deliveries; d != nil {
		for _, c := range []struct {
			n    int64
			what string
		}{{d.Lost, "lost"}, {d.Duplicates, "duplicated"}, {d.OutOfOrder, "out of order"}, {d.Unexpected, "unexpected"}} {
			if c.n > 0 {
				fail("%d deliveries %s", c.n, c.what)
			}
		}
	}
	r.Pass = len(r.Failures) == 0
}

// WriteTable writes the report as a table for people.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("scenario", "%s %s", r.Scenario, r.Via)
	row("params", "%s", formatParams(r.Params))
	row("setup", "%d users in %.1fs", r.Users, r.SetupSeconds)
	c := r.Connect
	row("connect", "%d devices in %.2fs: %.0f logins/s over %d source address(es), %d failed", c.Devices, c.Seconds, c.PerSecond, c.SourceAddrs, c.Failed)
	if s := r.Send; s != nil {
		row("send", "%d of %d stored in %.2fs: %.0f msgs/s (target %.0f), %d refused, %d unanswered, worst lag %.0f ms",
			s.Stored, s.Planned, s.Seconds, s.PerSecond, s.TargetRate, s.Refused, s.Unanswered, s.MaxLagMs)
		if a := s.AnswerMs; a != nil {
			row("answer ms", "%s", a)
		}
	}
	if d := r.Deliveries; d != nil {
		row("deliveries", "%d of %d in %.2fs: %.0f/s", d.Delivered, d.Expected, d.Seconds, d.PerSecond)
		row("correctness", "lost %d, duplicates %d, out of order %d, unexpected %d", d.Lost, d.Duplicates, d.OutOfOrder, d.Unexpected)
	}
	if l := r.Latency; l != nil {
		row("latency ms", "%s", l)
	}
	row("disconnects", "%d", r.Disconnects)
	result := "PASS"
	if !r.Pass {
		result = "FAIL"
	}
	row("result", "%s", result)
	for _, f := range r.Failures {
		row("", "%s", f)
	}
	return tw.Flush()
}

func formatParams(p map[string]any) string {
	s := ""
	for _, k := range []string{"pairs", "members", "devices", "rate", "duration", "via"} {
		if v, ok := p[k]; ok {
			s += fmt.Sprintf("%s=%v ", k, v)
		}
	}
	return s
}
