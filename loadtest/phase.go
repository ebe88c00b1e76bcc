package loadtest

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
)

// The phases of a run that the server's spending is reported for.
const (
	phaseConnect   = "connect"   // the devices' logins
	phaseSend      = "send"      // from the first send until every delivery arrived
	phaseHold      = "hold"      // idle: the devices held
	phaseReconnect = "reconnect" // storm: the wave's logins and syncs, until all synced
)

// Phase is what the server spent during one phase of a run: the increase
// of its counters from the reading at the phase's start to the one at its
// end, summed over the nodes, and the CPU time of the Postgres processes
// on this machine. A figure per unit divides the phase's whole spending
// by each unit of work the tool counted in it (so a send phase's CPU per
// message and per delivery are two views of one amount, not two shares).
type Phase struct {
	// Name is connect (the devices' logins), send (from the first send
	// until every delivery arrived, or the grace ran out; the mixed
	// scenario's churned logins and syncs included), hold (idle) or
	// reconnect (the storm's wave, until every device synced).
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
	// Logins, Messages (stored; the storm's: one per device it was sent
	// to) and Deliveries (first receipts) are the units of work the
	// figures per unit divide by; 0 when not a unit of this phase.
	Logins     int64 `json:"logins,omitempty"`
	Messages   int64 `json:"messages,omitempty"`
	Deliveries int64 `json:"deliveries,omitempty"`
	// ServerCPUMicros is process_cpu_seconds_total's increase, in µs;
	// nil when not exposed.
	ServerCPUMicros *Spend `json:"server_cpu_us,omitempty"`
	// PostgresCPUMicros is the user and system CPU time of the processes
	// named postgres on this machine (whichever server they served), in
	// µs; nil when not read.
	PostgresCPUMicros *Spend `json:"postgres_cpu_us,omitempty"`
	// StoreRoundTrips is imgate_store_round_trips_total's increase, and
	// RoundTripsByOp the same by op (login, send, pull, unread, notices,
	// rest, other).
	StoreRoundTrips *Spend             `json:"store_round_trips,omitempty"`
	RoundTripsByOp  map[string]float64 `json:"store_round_trips_by_op,omitempty"`
	// DeliveriesByPath is imgate_deliveries_total's increase by path
	// (push, sync); PushPercent is push's share of it, nil when there
	// were none.
	DeliveriesByPath map[string]float64 `json:"deliveries_by_path,omitempty"`
	PushPercent      *float64           `json:"push_percent,omitempty"`
	// NoticesByCause is imgate_notices_total's increase by cause
	// (no_cursor, gap, queue_full, pending_overflow, resync, login).
	NoticesByCause map[string]float64 `json:"notices_by_cause,omitempty"`
	// PullsBySource is imgate_pulls_total's increase by source (memory,
	// store).
	PullsBySource map[string]float64 `json:"pulls_by_source,omitempty"`
	// ServerLogins is imgate_logins_total's increase: the logins the
	// server counted, any client's.
	ServerLogins *float64 `json:"server_logins,omitempty"`
	// NotExposed names the counters no node exposed at the phase's end
	// (with metrics endpoints to read).
	NotExposed []string `json:"not_exposed,omitempty"`
}

// Spend is an amount spent during a phase, in all and per unit of work
// the tool counted in it; a unit the phase had none of is left out.
type Spend struct {
	Total       float64 `json:"total"`
	PerLogin    float64 `json:"per_login,omitempty"`
	PerMessage  float64 `json:"per_message,omitempty"`
	PerDelivery float64 `json:"per_delivery,omitempty"`
}

// endPhase takes a reading that ends the phase called name, begun at the
// last reading, and begins the next phase there. The phase is nil when
// s is nil (nothing to read) or a reading failed: the failure is noted in
// the report and the run goes on.
func (s *Server) endPhase(ctx context.Context, name string) *Phase {
	if s == nil {
		return nil
	}
	start := s.last
	s.mark(ctx)
	if start == nil || s.last == nil {
		return nil
	}
	ph := diff(name, start, s.last)
	s.Phases = append(s.Phases, ph)
	return ph
}

// mark takes a reading that begins the next phase, leaving out the time
// since the last (the storm's hold and drop).
func (s *Server) mark(ctx context.Context) {
	if s == nil {
		return
	}
	rd, err := s.probe.read(ctx)
	if err != nil {
		s.note(err)
	}
	s.last = rd
}

// diff is the phase from reading a to reading b.
func diff(name string, a, b *reading) *Phase {
	ph := &Phase{Name: name, Seconds: b.at.Sub(a.at).Seconds()}
	if b.pg != nil {
		ph.PostgresCPUMicros = &Spend{Total: float64(ticksSpent(a.pg, b.pg)) * 1e6 / userHZ}
	}
	if b.sample == nil {
		return ph // no metrics endpoints
	}
	for _, c := range counters() {
		if _, ok := b.counts[c]; !ok {
			ph.NotExposed = append(ph.NotExposed, c)
		}
	}
	inc := func(c string) map[string]float64 { return increase(a.counts[c], b.counts[c]) }
	if v, ok := inc(metricCPU)[""]; ok {
		// Whole µs: the counter moves in 10 ms steps, and a float's
		// difference would print as 139999.99999999968.
		ph.ServerCPUMicros = &Spend{Total: math.Round(v * 1e6)}
	}
	if m := inc(metricRoundTrips); m != nil {
		ph.RoundTripsByOp, ph.StoreRoundTrips = m, &Spend{Total: total(m)}
	}
	if m := inc(metricDeliveries); m != nil {
		ph.DeliveriesByPath = m
		if t := total(m); t > 0 {
			share := 100 * m["push"] / t
			ph.PushPercent = &share
		}
	}
	ph.NoticesByCause, ph.PullsBySource = inc(metricNotices), inc(metricPulls)
	if v, ok := inc(metricLogins)[""]; ok {
		ph.ServerLogins = &v
	}
	return ph
}

// increase is a counter's increase by label value from a to b; nil when
// b has none. A value absent from a started after it, from 0; one that
// went down belongs to a node that restarted, and counts from 0 too.
func increase(a, b map[string]float64) map[string]float64 {
	if b == nil {
		return nil
	}
	out := make(map[string]float64, len(b))
	for k, v := range b {
		if before, ok := a[k]; ok && before <= v {
			v -= before
		}
		out[k] = v
	}
	return out
}

func total(m map[string]float64) float64 {
	var t float64
	for _, v := range m {
		t += v
	}
	return t
}

// count sets the phase's units of work and its figures per unit.
func (p *Phase) count(logins, messages, deliveries int64) {
	if p == nil {
		return
	}
	p.Logins, p.Messages, p.Deliveries = logins, messages, deliveries
	per := func(total float64, n int64) float64 {
		if n <= 0 {
			return 0
		}
		return math.Round(total/float64(n)*1000) / 1000 // readable JSON
	}
	for _, s := range []*Spend{p.ServerCPUMicros, p.PostgresCPUMicros, p.StoreRoundTrips} {
		if s != nil {
			s.PerLogin, s.PerMessage, s.PerDelivery = per(s.Total, logins), per(s.Total, messages), per(s.Total, deliveries)
		}
	}
}

// writeTable writes the server block's rows.
func (s *Server) writeTable(row func(k, format string, args ...any)) {
	head := "no metrics endpoint"
	if s.Nodes > 0 {
		head = fmt.Sprintf("metrics of %d node(s)", s.Nodes)
	}
	if s.PostgresProcesses > 0 {
		head += fmt.Sprintf("; CPU of %d postgres processes on this machine", s.PostgresProcesses)
	}
	row("server", "%s", head)
	if s.Before != nil {
		row("  before", "%s", s.Before)
	}
	if s.During != nil {
		row("  during", "%s", s.During)
		row("  per device", "%.1f KiB RSS, %.2f goroutines (over %d devices)", s.RSSPerDeviceKiB, s.GoroutinesPerDevice, s.Devices)
	}
	var missing []string
	for _, p := range s.Phases {
		p.writeTable(row)
		for _, m := range p.NotExposed {
			if !slices.Contains(missing, m) {
				missing = append(missing, m)
			}
		}
	}
	if len(missing) > 0 {
		row("  not exposed", "%s", strings.Join(missing, ", "))
	}
	if s.Error != "" {
		row("  metrics error", "%s", s.Error)
	}
}

// writeTable writes a phase's rows, leaving out the counters the server
// did not expose (the server block names them once).
func (p *Phase) writeTable(row func(k, format string, args ...any)) {
	units := p.units()
	head := fmt.Sprintf("%.2fs", p.Seconds)
	if len(units) > 0 {
		var us []string
		for _, u := range units {
			us = append(us, fmt.Sprintf("%d %s", u.n, u.plural))
		}
		head = strings.Join(us, ", ") + " in " + head
	}
	if p.ServerLogins != nil && (p.Logins > 0 || *p.ServerLogins != 0) {
		head += fmt.Sprintf(" (server counted %.0f logins)", *p.ServerLogins)
	}
	row("  "+p.Name, "%s", head)
	row("    CPU", "%s", p.cpu(units))
	if p.StoreRoundTrips != nil {
		row("    round trips", "%s", p.roundTrips(units))
	}
	if p.DeliveriesByPath != nil {
		deliveries := breakdownLine(p.DeliveriesByPath)
		if p.PushPercent != nil {
			deliveries = fmt.Sprintf("push %.1f%%: %s", *p.PushPercent, deliveries)
		}
		row("    deliveries", "%s", deliveries)
	}
	if p.NoticesByCause != nil {
		row("    notices", "%s", breakdownLine(p.NoticesByCause))
	}
	if p.PullsBySource != nil {
		row("    pulls", "%s", breakdownLine(p.PullsBySource))
	}
}

// unit is a unit of work of a phase, for the table.
type unit struct {
	n              int64
	plural, suffix string
	per            func(*Spend) float64
}

func (p *Phase) units() []unit {
	var us []unit
	for _, u := range []unit{
		{p.Logins, "logins", "/login", func(s *Spend) float64 { return s.PerLogin }},
		{p.Messages, "msgs stored", "/msg", func(s *Spend) float64 { return s.PerMessage }},
		{p.Deliveries, "deliveries", "/delivery", func(s *Spend) float64 { return s.PerDelivery }},
	} {
		if u.n > 0 {
			us = append(us, u)
		}
	}
	return us
}

// cpu is the CPU row: "server 0.420s, Postgres 0.130s: 420 µs/login + 130
// µs in Postgres".
func (p *Phase) cpu(units []unit) string {
	sv, pg := p.ServerCPUMicros, p.PostgresCPUMicros
	var parts []string
	switch {
	case sv != nil:
		parts = append(parts, fmt.Sprintf("server %.3fs", sv.Total/1e6))
	case slices.Contains(p.NotExposed, metricCPU):
		parts = append(parts, "server not exposed")
	}
	if pg != nil {
		parts = append(parts, fmt.Sprintf("Postgres %.3fs", pg.Total/1e6))
	}
	out := strings.Join(parts, ", ")
	var per []string
	for _, u := range units {
		switch {
		case sv != nil && pg != nil:
			per = append(per, fmt.Sprintf("%s µs%s + %s µs in Postgres", micros(u.per(sv)), u.suffix, micros(u.per(pg))))
		case sv != nil:
			per = append(per, fmt.Sprintf("%s µs%s", micros(u.per(sv)), u.suffix))
		case pg != nil:
			per = append(per, fmt.Sprintf("%s µs%s in Postgres", micros(u.per(pg)), u.suffix))
		}
	}
	if len(per) > 0 {
		out += ": " + strings.Join(per, "; ")
	}
	return out
}

// micros formats µs with a decimal below 10.
func micros(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func (p *Phase) roundTrips(units []unit) string {
	rt := p.StoreRoundTrips
	out := fmt.Sprintf("%.0f", rt.Total)
	var per []string
	for _, u := range units {
		per = append(per, fmt.Sprintf("%.2f%s", u.per(rt), u.suffix))
	}
	if len(per) > 0 {
		out += " = " + strings.Join(per, ", ")
	}
	return out + ": " + breakdownLine(p.RoundTripsByOp)
}

// breakdownLine is a counter's increase by label value, largest first:
// "gap 150, no_cursor 50"; "none" when nothing counted.
func breakdownLine(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "none"
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		name := k
		if name == "" {
			name = "(unlabelled)"
		}
		parts[i] = fmt.Sprintf("%s %.0f", name, m[k])
	}
	return strings.Join(parts, ", ")
}
