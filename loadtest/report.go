package loadtest

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/gateway/xsync"
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
	// Kinds are the mixed scenario's kinds of sends, each on its own.
	Kinds []KindReport `json:"kinds,omitempty"`
	// Churn is the mixed scenario's devices dropping and reconnecting.
	Churn *Churn `json:"churn,omitempty"`
	// Redials is the devices whose connection the server ended, and how
	// they came back (chat, group and mixed).
	Redials *Redials `json:"redials,omitempty"`
	// Faults is Config.Faults: the run was meant to meet failures, so
	// refused and unanswered sends and dropped devices fail it only
	// when a device could not come back.
	Faults bool `json:"faults,omitempty"`
	// Storm is the storm scenario's reconnect wave.
	Storm *StormReport `json:"storm,omitempty"`
	// Files is the files scenario's uploads and downloads.
	Files *FilesReport `json:"files,omitempty"`
	// Server is what the server's metrics said (with a metrics URL) and
	// what it and Postgres spent on each phase.
	Server *Server `json:"server,omitempty"`
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
	// RefusedBy counts refusals by code: "xsync <status>" over XSYNC,
	// "rest <MaxIM code>" through REST.
	RefusedBy map[string]int64 `json:"refused_by,omitempty"`
	// RefusedAnswerMs is the time from each refused send to its answer:
	// a refusal during an outage should come at once.
	RefusedAnswerMs *Latency `json:"refused_answer_ms,omitempty"`
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
	// Resynced counts receipts of messages a device already held from an
	// earlier connection, sent again by a pull after it reconnected:
	// imgate syncs a new connection from the user's read position, and
	// the tool sends no read receipts. An app drops them by id; they are
	// not duplicates.
	Resynced int64 `json:"resynced,omitempty"`
	// Seconds runs from the first send to the last first receipt.
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
}

// KindReport is one kind of send of the mixed scenario: chat (one to one
// over WebSocket), chat_rest (one to one through /message/send) or group.
type KindReport struct {
	Kind       string      `json:"kind"`
	Send       *Send       `json:"send"`
	Deliveries *Deliveries `json:"deliveries"`
	// Latency is of live receipts only: what reached a device while it
	// was connected. What a churned device synced after reconnecting
	// waited for it and counts in Deliveries alone.
	Latency *Latency `json:"latency_ms,omitempty"`
}

// Churn is devices dropping their connections and coming back during
// the mixed scenario.
type Churn struct {
	// Reconnects counts drops followed by a successful login and sync.
	Reconnects int    `json:"reconnects"`
	Failed     int    `json:"failed"`
	FirstError string `json:"first_error,omitempty"`
	// LoginMs is each reconnect's login and sync (dial, PROVISION,
	// first UNREAD, pulls), with its retries on another node when one
	// failed.
	LoginMs *Latency `json:"login_ms,omitempty"`
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
		fail("%d devices not connected at the end (first: %s)", r.Disconnects, r.FirstDisconnect)
	}
	if rd := r.Redials; rd != nil {
		if rd.Drops > 0 && !r.Faults {
			fail("the server dropped %d devices (%s)", rd.Drops, formatCounts(rd.ByReason))
		}
		if rd.Failed > 0 {
			fail("%d dropped devices did not come back (first: %s)", rd.Failed, rd.FirstError)
		}
	}
	judgeSend := func(s *Send, what string) {
		if s.Attempted < s.Planned {
			fail("%d of %d %ssends made: the run was interrupted", s.Attempted, s.Planned, what)
		}
		if r.Faults {
			return
		}
		if s.Refused > 0 {
			fail("%d %ssends refused: %s (first: %s)%s", s.Refused, what, formatCounts(s.RefusedBy), s.FirstError, rateHint(s.RefusedBy))
		}
		if s.Unanswered > 0 {
			fail("%d %ssends unanswered (first: %s)", s.Unanswered, what, s.FirstError)
		}
	}
	if s := r.Send; s != nil {
		judgeSend(s, "")
	}
	for _, k := range r.Kinds {
		judgeSend(k.Send, k.Kind+" ")
	}
	if c := r.Churn; c != nil && c.Failed > 0 {
		fail("%d churned devices failed to reconnect and sync (first: %s)", c.Failed, c.FirstError)
	}
	if st := r.Storm; st != nil {
		if st.LoginFailed > 0 {
			fail("%d devices failed to log in again (first: %s)", st.LoginFailed, st.FirstError)
		}
		if st.Synced < st.Devices {
			fail("%d of %d devices synced everything they were sent", st.Synced, st.Devices)
		}
		if st.UnreadMismatches > 0 {
			fail("%d devices were told wrong unread counts (first: %s)", st.UnreadMismatches, st.FirstUnreadMismatch)
		}
	}
	if f := r.Files; f != nil {
		if f.Downloads < f.Planned {
			fail("%d of %d files uploaded and downloaded intact", f.Downloads, f.Planned)
		}
		if f.Failed > 0 {
			fail("%d transfers failed (first: %s)", f.Failed, f.FirstError)
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
		if s.TargetRate > 0 {
			row("send", "%d of %d stored in %.2fs: %.0f msgs/s (target %.0f), %d refused, %d unanswered, worst lag %.0f ms",
				s.Stored, s.Planned, s.Seconds, s.PerSecond, s.TargetRate, s.Refused, s.Unanswered, s.MaxLagMs)
		} else {
			row("send", "%d of %d stored in %.2fs: %.0f msgs/s, %d refused, %d unanswered", s.Stored, s.Planned, s.Seconds, s.PerSecond, s.Refused, s.Unanswered)
		}
		if a := s.AnswerMs; a != nil {
			row("answer ms", "%s", a)
		}
		if s.Refused > 0 {
			row("refused", "%s; answered in %s", formatCounts(s.RefusedBy), s.RefusedAnswerMs)
		}
	}
	if d := r.Deliveries; d != nil {
		row("deliveries", "%d of %d in %.2fs: %.0f/s", d.Delivered, d.Expected, d.Seconds, d.PerSecond)
		row("correctness", "lost %d, duplicates %d, out of order %d, unexpected %d", d.Lost, d.Duplicates, d.OutOfOrder, d.Unexpected)
	}
	if d := r.Deliveries; d != nil && d.Resynced > 0 {
		row("resynced", "%d already held, pulled again after a reconnect (not duplicates)", d.Resynced)
	}
	if l := r.Latency; l != nil {
		row("latency ms", "%s", l)
	}
	for _, k := range r.Kinds {
		s, d := k.Send, k.Deliveries
		row(k.Kind, "%d of %d stored (%.0f/s, target %.0f), %d refused, %d unanswered; delivered %d of %d, lost %d, dups %d, out of order %d",
			s.Stored, s.Planned, s.PerSecond, s.TargetRate, s.Refused, s.Unanswered, d.Delivered, d.Expected, d.Lost, d.Duplicates, d.OutOfOrder)
		if s.AnswerMs != nil {
			row("  answer ms", "%s", s.AnswerMs)
		}
		if s.Refused > 0 {
			row("  refused", "%s; answered in %s", formatCounts(s.RefusedBy), s.RefusedAnswerMs)
		}
		if k.Latency != nil {
			row("  latency ms", "%s", k.Latency)
		}
	}
	if c := r.Churn; c != nil {
		row("churn", "%d reconnects, %d failed", c.Reconnects, c.Failed)
		if c.LoginMs != nil && c.LoginMs.Count > 0 {
			row("  login ms", "%s", c.LoginMs)
		}
	}
	if rd := r.Redials; rd != nil && rd.Drops > 0 {
		row("dropped", "%d by the server (%s): %d back, %d failed", rd.Drops, formatCounts(rd.ByReason), rd.Back, rd.Failed)
		if rd.BackMs != nil && rd.BackMs.Count > 0 {
			row("  back ms", "%s", rd.BackMs)
		}
	}
	if st := r.Storm; st != nil {
		row("drop", "%d connections closed in %.2fs", r.Connect.Devices, st.DropSeconds)
		row("reconnect", "%d devices in %.2fs: %.0f logins/s (%d in flight), %d failed", st.Logins, st.LoginSeconds, st.LoginsPerSecond, st.Wave, st.LoginFailed)
		row("synced", "%d of %d devices, %d msgs each, all within %.2fs of the wave's start", st.Synced, st.Devices, st.MessagesPerDevice, st.SyncedSeconds)
		if st.SyncMs != nil {
			row("  sync ms", "%s", st.SyncMs)
		}
		row("  unread", "%d wrong counts", st.UnreadMismatches)
	}
	if f := r.Files; f != nil {
		row("files", "%d of %d uploaded, %d downloaded intact in %.2fs: %.1f files/s, %.1f MiB/s both ways, %d failed",
			f.Uploads, f.Planned, f.Downloads, f.Seconds, f.PerSecond, f.MiBPerSecond, f.Failed)
		row("  upload ms", "%s", f.UploadMs)
		row("  download ms", "%s", f.DownloadMs)
		if f.ServerRSSMaxMiB > 0 {
			row("  server", "RSS %.1f MiB before, %.1f MiB at most; %.2f s CPU", f.ServerRSSBeforeMiB, f.ServerRSSMaxMiB, f.ServerCPUSeconds)
		}
	}
	if sv := r.Server; sv != nil {
		sv.writeTable(row)
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

// rateHint names the likely cause when sends were refused for their rate.
func rateHint(by map[string]int64) string {
	if by["xsync "+xsync.Status_RATE_LIMIT_EXCEEDED.String()] > 0 || by[fmt.Sprintf("rest %d", imgate.CodeTooManyAttempts)] > 0 {
		return "; imgate's --send-rate, --user-send-rate or --app-send-rate may be too low"
	}
	return ""
}

func formatParams(p map[string]any) string {
	s := ""
	for _, k := range []string{"pairs", "members", "devices", "messages", "senders", "wave", "hold", "rate",
		"chat_rate", "rest_share", "groups", "group_size", "group_rate", "churn", "offline", "size", "image_side", "duration", "via"} {
		if v, ok := p[k]; ok {
			s += fmt.Sprintf("%s=%v ", k, v)
		}
	}
	return s
}
