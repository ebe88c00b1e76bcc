package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// Server is a PostgreSQL server of a test's own, for tests that restart
// or stop it (the machine's shared server is never touched). It runs
// Debian's initdb and pg_ctl, as user postgres when the test runs as
// root (initdb refuses root). When they are missing, the test skips, or
// fails when IMGATE_REQUIRE_POSTGRES=1.
type Server struct {
	t      testing.TB
	bin    string // the directory of initdb and pg_ctl
	dir    string // holds data/, the socket and the log
	port   int
	asUser []string // runuser -u postgres --, when root
}

// StartServer initialises and starts a private server on a free port of
// 127.0.0.1 (fsync off: tests do not test the disk). It is stopped and
// removed when t ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin := serverBin()
	if bin == "" {
		msg := "pgtest: no initdb and pg_ctl under /usr/lib/postgresql"
		if os.Getenv("IMGATE_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir, err := os.MkdirTemp("", "imgate-pg-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	s := &Server{t: t, bin: bin, dir: dir, port: freePort(t)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root and no user postgres to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		s.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	t.Cleanup(func() {
		_ = s.pgctl("stop", "-m", "immediate")
		_ = os.RemoveAll(dir)
	})
	if out, err := s.command(filepath.Join(bin, "initdb"), "-D", s.data(), "-U", "postgres", "-A", "trust", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	s.Start()
	return s
}

// DSN is the server's postgres database, for user postgres.
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Start starts the server and waits until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off", s.port, s.dir)
	if err := s.pgctl("start", "-w", "-t", "60", "-o", opts, "-l", filepath.Join(s.dir, "log")); err != nil {
		s.t.Fatalf("pgtest: start: %v", err)
	}
}

// Stop stops the server, ending its sessions at once (as a crash or an
// operator's fast shutdown does for clients).
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.pgctl("stop", "-w", "-m", "fast"); err != nil {
		s.t.Fatalf("pgtest: stop: %v", err)
	}
}

// Restart stops and starts the server.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.Start()
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) pgctl(args ...string) error {
	args = append([]string{"-D", s.data()}, args...)
	if out, err := s.command(filepath.Join(s.bin, "pg_ctl"), args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %v: %w\n%s", args, err, out)
	}
	return nil
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, s.asUser...), name), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.dir
	return cmd
}

// serverBin is the newest /usr/lib/postgresql/*/bin with initdb, or "".
func serverBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func versionOf(bin string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return v
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
