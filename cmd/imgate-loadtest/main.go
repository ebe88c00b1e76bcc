// Command imgate-loadtest sets up users and groups on a running imgate
// through its REST API, drives a scenario over XSYNC WebSockets, and
// prints throughput, end-to-end latency and correctness:
//
//	imgate-loadtest chat  --pairs 500 --rate 2000 --duration 10s [--via rest]
//	imgate-loadtest group --members 1000 --rate 50 --duration 10s
//	imgate-loadtest idle  --devices 10000 --duration 1m [--metrics-url URL]
//	imgate-loadtest storm --devices 19000 --messages 5
//	imgate-loadtest mixed --pairs 500 --chat-rate 1000 --groups 5 --group-rate 20 --churn 5
//	imgate-loadtest files --devices 20 --size 1048576 --rate 10 --duration 10s
//
// The app comes from "imgate app create" (see usage below).
//
// Every flag has an environment variable IMGATE_LOADTEST_<FLAG>, e.g.
// IMGATE_LOADTEST_ADMIN_TOKEN. It exits 1 when the run fails: a lost,
// duplicated or reordered delivery, a refused send, a dropped device.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/imgate/imgate/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "imgate-loadtest:", err)
		os.Exit(1)
	}
}

const usage = `usage: imgate-loadtest <scenario> [flags]

scenarios:
  chat    pairs of users chat one to one at a total rate (--via ws or rest)
  group   one group of online members; its owner sends at a rate
  idle    logged-in devices held for a duration; with --metrics-url, the
          server's RSS and goroutines per device
  storm   devices online, all drop at once, get messages while offline,
          all reconnect at once: login rate, time until all are synced
  mixed   chat over WebSocket and REST, group messages and devices
          dropping and reconnecting, at once over one set of users
  files   users upload chat files to each other (upload URL, multipart
          POST) at a rate; each receiver downloads and checks the bytes;
          with --metrics-url, the server's CPU and its highest RSS

The tool makes its own users (/user/register/batch), tokens, groups and
group members through the REST API, under a fresh username prefix per
run. The app and its admin token come from one command on the server's
store, since imgate has no REST call that creates apps:

  imgate app create --id loadtest --name loadtest [--postgres DSN | --data-dir DIR]
  # {"app_id":"loadtest","access_token":"eyJ…"}

then pass --app-id and --admin-token. Serve with a cheap bcrypt cost and a
per-session send rate above a sender's: imgate serve --password-cost 4
--send-rate 1000.

With --metrics-url (one endpoint, or one per node), every run also says
where the server's time went, per phase (connect, send, hold, a storm's
reconnect wave): its CPU per login, stored message and delivery, with
Postgres's CPU added when it runs on this machine (--postgres-cpu), its
deliveries by path (push share), NOTICEs by cause, pulls by source and
store round trips by operation.

Every run checks that each stored message reaches each device that
should get it exactly once and in order; a loss, duplicate, reordering,
refused send (counted by code) or dropped device fails it (exit status
1). A device the server drops comes back to the next node up with
back-off, and a node that refuses connections is skipped for a second;
with --faults (chaos runs) refusals, unanswered sends and drops are
counted but fail the run only when a device cannot come back.

Every flag has an environment variable IMGATE_LOADTEST_<FLAG>, e.g.
IMGATE_LOADTEST_ADMIN_TOKEN. Run "imgate-loadtest <scenario> -h" for the
flags of a scenario.`

// errFailed is a run that completed and found faults; the report says
// which.
var errFailed = errors.New("the run failed (see the report)")

// options are the flags of every scenario.
type options struct {
	cfg   loadtest.Config
	json  bool
	quiet bool
	// postgresCPU is --postgres-cpu, the inverse of cfg.NoPostgresCPU.
	postgresCPU bool
	duration    time.Duration
	rate        float64
	via         string
	count       int // pairs, members or devices
	senders     int // group: members that send
	storm       loadtest.Storm
	files       loadtest.Files
	mixed       loadtest.Mixed
}

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	scenario := args[0]
	fs := flag.NewFlagSet(scenario, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	commonFlags(fs, o)
	if err := scenarioFlags(fs, scenario, o); err != nil {
		fmt.Fprintln(stderr, usage)
		return err
	}
	if err := parse(fs, args[1:], getenv); err != nil {
		return err
	}
	if !o.quiet {
		o.cfg.Progress = stderr
	}
	o.cfg.NoPostgresCPU = !o.postgresCPU
	r, err := loadtest.New(o.cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "imgate-loadtest: %s against %s, usernames %s*\n", scenario, o.cfg.URL, r.Prefix())
	rep, err := runScenario(ctx, r, scenario, o)
	if err != nil {
		return err
	}
	if err := output(stdout, rep, o.json); err != nil {
		return err
	}
	if !rep.Pass {
		return errFailed
	}
	return nil
}

func commonFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.cfg.URL, "url", "http://127.0.0.1:8080", "imgate's REST base URL; the WebSocket is its /ws. Several nodes: comma-separated URLs (devices spread over them by user id, REST calls go to each in turn)")
	fs.StringVar(&o.cfg.AppID, "app-id", "", "the app's id (required)")
	fs.StringVar(&o.cfg.AdminToken, "admin-token", "", "an admin access token of the app (required)")
	fs.StringVar(&o.cfg.Prefix, "prefix", "", "username prefix; default lt_ and random letters, unique per run")
	fs.StringVar(&o.cfg.Password, "password", "", "password of every user (default loadtest)")
	fs.IntVar(&o.cfg.MaxList, "max-list", 500, "longest list in one REST call: imgate's --max-list")
	fs.IntVar(&o.cfg.Concurrency, "concurrency", 64, "REST calls and logins in flight during setup")
	fs.IntVar(&o.cfg.SourceAddrs, "source-addrs", 0, "spread connections over 127.0.0.1..127.0.0.N (loopback URLs only); 0: one per 20,000 devices")
	fs.DurationVar(&o.cfg.Grace, "grace", 10*time.Second, "how long to wait after the last send (storm: the last login) for missing deliveries")
	fs.StringVar(&o.cfg.MetricsURL, "metrics-url", "", "the server's Prometheus endpoint, e.g. http://127.0.0.1:9464/metrics (imgate serve --metrics-listen), or one per --url node, comma-separated: report its RSS, goroutines and devices online before the logins and while the devices are held, the growth per device, and per phase its CPU per login, message and delivery, deliveries by path, NOTICEs by cause, pulls by source and store round trips")
	fs.BoolVar(&o.cfg.Faults, "faults", false, "the run meets failures on purpose (chaos): refused and unanswered sends and devices the server dropped are counted, by code and reason, and fail the run only when a device cannot come back; losses, duplicates and reordering still fail it")
	fs.BoolVar(&o.postgresCPU, "postgres-cpu", true, "when processes named postgres run on this machine, add their CPU time (from /proc) to each phase's figures: \"+ N µs in Postgres\"")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bars")
}

func scenarioFlags(fs *flag.FlagSet, scenario string, o *options) error {
	switch scenario {
	case "chat":
		fs.IntVar(&o.count, "pairs", 100, "pairs of users; the first of each sends to the second")
		fs.Float64Var(&o.rate, "rate", 1000, "messages per second, all pairs together")
		fs.StringVar(&o.via, "via", "ws", "ws (XSYNC over WebSocket) or rest (/message/send with from_user_id)")
	case "group":
		fs.IntVar(&o.count, "members", 100, "members of the group, all online, the owner included")
		fs.IntVar(&o.senders, "senders", 1, "members that send (the owner first), each waiting for its answers; the others receive")
		fs.Float64Var(&o.rate, "rate", 10, "messages per second from the senders together")
		fs.StringVar(&o.via, "via", "ws", "ws (XSYNC over WebSocket) or rest (/message/send with from_user_id)")
	case "idle":
		fs.IntVar(&o.count, "devices", 1000, "devices to log in and hold")
	case "files":
		f := &o.files
		fs.IntVar(&f.Devices, "devices", 20, "users sending files; user i sends to user i+1, who downloads each")
		fs.Int64Var(&f.Size, "size", 1<<20, "bytes of each file")
		fs.Float64Var(&f.Rate, "rate", 10, "uploads per second, all users together")
		fs.DurationVar(&f.Duration, "duration", 10*time.Second, "how long to upload")
		fs.IntVar(&f.ImageSide, "image-side", 0, "when positive, send a JPEG of noise this many pixels wide and high as an image (file_type 102, a thumbnail each) instead of --size bytes")
		return nil
	case "storm":
		st := &o.storm
		fs.IntVar(&st.Devices, "devices", 1000, "devices (one user each) that drop and reconnect")
		fs.IntVar(&st.Messages, "messages", 5, "messages each device is sent while offline, through /message/send")
		fs.IntVar(&st.Senders, "senders", 10, "users sending them (device i gets its messages from sender i mod senders)")
		fs.DurationVar(&st.Hold, "hold", time.Second, "how long the devices stay online before all drop")
		fs.IntVar(&st.Wave, "wave", 0, "logins in flight during the reconnect wave; 0: every device at once")
		return nil
	case "mixed":
		m := &o.mixed
		fs.IntVar(&m.Pairs, "pairs", 100, "pairs of users (all online); the first of each sends to the second")
		fs.Float64Var(&m.ChatRate, "chat-rate", 200, "one-to-one messages per second, all pairs together")
		fs.Float64Var(&m.RESTShare, "rest-share", 0.25, "share (0..1) of the pairs, and so of the chat, sending through /message/send instead of WebSocket")
		fs.IntVar(&m.Groups, "groups", 3, "groups, drawn from the same users, each owned by a chat sender")
		fs.IntVar(&m.GroupSize, "group-size", 50, "members of each group, the owner included")
		fs.Float64Var(&m.GroupRate, "group-rate", 10, "group messages per second, all groups together, from their owners over WebSocket")
		fs.Float64Var(&m.Churn, "churn", 2, "chat receivers dropping their connection per second; each comes back after --offline and syncs")
		fs.DurationVar(&m.Offline, "offline", time.Second, "how long a dropped device stays away")
		fs.DurationVar(&m.Duration, "duration", 10*time.Second, "how long to send")
		return nil
	default:
		return fmt.Errorf("unknown scenario %q", scenario)
	}
	def := 10 * time.Second
	if scenario == "idle" {
		def = 30 * time.Second
	}
	fs.DurationVar(&o.duration, "duration", def, "how long to send (chat, group) or hold (idle)")
	return nil
}

// parse parses args, then takes each flag not given from its environment
// variable.
func parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		if v := getenv(name); v != "" && !given[f.Name] {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	})
	return errors.Join(errs...)
}

func envName(flag string) string {
	return "IMGATE_LOADTEST_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func runScenario(ctx context.Context, r *loadtest.Runner, scenario string, o *options) (*loadtest.Report, error) {
	via := loadtest.Via(o.via)
	switch scenario {
	case "chat":
		return r.Chat(ctx, loadtest.Chat{Pairs: o.count, Rate: o.rate, Duration: o.duration, Via: via})
	case "group":
		return r.Group(ctx, loadtest.Group{Members: o.count, Senders: o.senders, Rate: o.rate, Duration: o.duration, Via: via})
	case "storm":
		return r.Storm(ctx, o.storm)
	case "files":
		return r.Files(ctx, o.files)
	case "mixed":
		return r.Mixed(ctx, o.mixed)
	default:
		return r.Idle(ctx, loadtest.Idle{Devices: o.count, Duration: o.duration})
	}
}

func output(w io.Writer, rep *loadtest.Report, asJSON bool) error {
	if !asJSON {
		return rep.WriteTable(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
