package loadtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: clock ticks of
// USER_HZ, which sysconf(_SC_CLK_TCK) reports. Reading it through sysconf
// needs cgo; Linux fixes it at 100 on every architecture Go supports,
// which is why prometheus/procfs, and so the server's own
// process_cpu_seconds_total, assume 100 too: the two figures agree.
const userHZ = 100

// postgresComm is the command name of every Postgres process: the
// postmaster and each backend (the titles "postgres: 15/main: …" that ps
// shows are their rewritten argv, not their comm).
const postgresComm = "postgres"

// postgresTicks is the CPU time, user plus system in clock ticks, of
// every process under procDir (/proc) whose comm is "postgres", by PID.
func postgresTicks(procDir string) (map[int]uint64, error) {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return nil, fmt.Errorf("loadtest: postgres CPU: %w", err)
	}
	out := map[int]uint64{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procDir, e.Name(), "stat"))
		if err != nil {
			// The process ended between the listing and the read
			// (ENOENT, ESRCH), or is not ours to read.
			continue
		}
		comm, ticks, err := parseStat(string(b))
		if err != nil {
			return nil, fmt.Errorf("loadtest: postgres CPU: %s/%d/stat: %w", procDir, pid, err)
		}
		if comm == postgresComm {
			out[pid] = ticks
		}
	}
	return out, nil
}

// parseStat reads a /proc/PID/stat line: "pid (comm) state ppid …" with
// utime and stime the 14th and 15th fields. The comm may hold spaces and
// parentheses, so the fields are counted from its last ')'.
func parseStat(line string) (comm string, ticks uint64, err error) {
	open, close := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || close < open {
		return "", 0, fmt.Errorf("no (comm) in %q", line)
	}
	fields := strings.Fields(line[close+1:])
	// fields[0] is the 3rd field, state; utime is the 14th.
	if len(fields) < 13 {
		return "", 0, fmt.Errorf("%d fields after the comm, want at least 13", len(fields))
	}
	utime, err := strconv.ParseUint(fields[11], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("utime: %w", err)
	}
	stime, err := strconv.ParseUint(fields[12], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("stime: %w", err)
	}
	return line[open+1 : close], utime + stime, nil
}

// ticksSpent is the CPU ticks the processes spent from the reading before
// to the one after. A process only in after started in between and
// counts from 0. A process only in before ended in between: what it
// spent since before is lost, since its /proc entry is gone (its parent's
// cutime would hold it once reaped, mixed with its whole life's). A PID
// whose ticks went down was reused by a new process, which counts from 0.
func ticksSpent(before, after map[int]uint64) uint64 {
	var t uint64
	for pid, a := range after {
		if b, ok := before[pid]; ok && b <= a {
			t += a - b
		} else {
			t += a
		}
	}
	return t
}
