package loadtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeProc is a /proc of processes with a comm and CPU ticks each.
type fakeProc struct {
	t   *testing.T
	dir string
}

func newFakeProc(t *testing.T) *fakeProc {
	p := &fakeProc{t: t, dir: t.TempDir()}
	// Entries that are not processes, as in the real /proc.
	for _, name := range []string{"self", "sys"} {
		if err := os.Mkdir(filepath.Join(p.dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(p.dir, "uptime"), []byte("1 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// set writes process pid's stat with utime and stime ticks.
func (p *fakeProc) set(pid int, comm string, utime, stime uint64) {
	p.t.Helper()
	dir := filepath.Join(p.dir, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	// The fields of a real line, with utime and stime 14th and 15th.
	line := fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 4194560 2450 0 0 0 %d %d 0 0 20 0 1 0 3113 224493568 7154 18446744073709551615 1 1 0 0 0 0 4194304 16781312 27137 0 0 0 17 1 0 0 0 0 0\n",
		pid, comm, pid, pid, utime, stime)
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// end removes process pid.
func (p *fakeProc) end(pid int) {
	p.t.Helper()
	if err := os.RemoveAll(filepath.Join(p.dir, strconv.Itoa(pid))); err != nil {
		p.t.Fatal(err)
	}
}

func TestPostgresTicks(t *testing.T) {
	p := newFakeProc(t)
	p.set(100, "postgres", 500, 120)
	p.set(101, "postgres", 7, 3)
	p.set(200, "imgate", 9000, 900)
	p.set(201, "postgres (x)", 1, 1) // a comm with a space and parentheses
	p.set(202, "postgresql", 1, 1)
	got, err := postgresTicks(p.dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[int]uint64{100: 620, 101: 10}, got); d != "" {
		t.Errorf("postgresTicks (-want +got):\n%s", d)
	}
	if _, err := postgresTicks(filepath.Join(p.dir, "absent")); err == nil {
		t.Error("postgresTicks of a missing directory did not fail")
	}
}

func TestParseStat(t *testing.T) {
	comm, ticks, err := parseStat("4242 (a) b) (c) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n")
	if err != nil || comm != "a) b) (c" || ticks != 11+12 {
		t.Errorf("parseStat = %q, %d, %v; want \"a) b) (c\", 23, nil", comm, ticks, err)
	}
	for _, bad := range []string{"", "1 postgres S 1", "1 (postgres) S 1 2 3", "1 (postgres) S 1 2 3 4 5 6 7 8 9 10 x 12 13"} {
		if _, _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat accepted %q", bad)
		}
	}
}

func TestTicksSpent(t *testing.T) {
	tests := []struct {
		name          string
		before, after map[int]uint64
		want          uint64
	}{
		{"steady", map[int]uint64{1: 100, 2: 50}, map[int]uint64{1: 130, 2: 50}, 30},
		{"a backend started: counts from 0", map[int]uint64{1: 100}, map[int]uint64{1: 110, 3: 25}, 35},
		{"a backend ended: its share is lost", map[int]uint64{1: 100, 2: 50}, map[int]uint64{1: 110}, 10},
		{"a PID reused: counts from 0", map[int]uint64{1: 100, 2: 50}, map[int]uint64{1: 110, 2: 4}, 14},
		{"nothing before", nil, map[int]uint64{1: 5}, 5},
		{"nothing after", map[int]uint64{1: 5}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ticksSpent(tt.before, tt.after); got != tt.want {
				t.Errorf("ticksSpent = %d, want %d", got, tt.want)
			}
		})
	}
}
