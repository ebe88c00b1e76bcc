// Command imgate-loadtest sets up users and groups on a running imgate
// through its REST API, drives a scenario over XSYNC WebSockets, and
// prints throughput, end-to-end latency and correctness:
//
//	imgate-loadtest chat  --pairs 500 --rate 2000 --duration 10s [--via rest]
//	imgate-loadtest group --members 1000 --rate 50 --duration 10s
//	imgate-loadtest idle  --devices 10000 --duration 1m
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
  idle    logged-in devices held for a duration

Every flag has an environment variable IMGATE_LOADTEST_<FLAG>, e.g.
IMGATE_LOADTEST_ADMIN_TOKEN. Run "imgate-loadtest <scenario> -h" for the
flags of a scenario.`

// errFailed is a run that completed and found faults; the report says
// which.
var errFailed = errors.New("the run failed (see the report)")

// options are the flags of every scenario.
type options struct {
	cfg      loadtest.Config
	json     bool
	quiet    bool
	duration time.Duration
	rate     float64
	via      string
	count    int // pairs, members or devices
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
	fs.StringVar(&o.cfg.URL, "url", "http://127.0.0.1:8080", "imgate's REST base URL; the WebSocket is its /ws")
	fs.StringVar(&o.cfg.AppID, "app-id", "", "the app's id (required)")
	fs.StringVar(&o.cfg.AdminToken, "admin-token", "", "an admin access token of the app (required)")
	fs.StringVar(&o.cfg.Prefix, "prefix", "", "username prefix; default lt_ and random letters, unique per run")
	fs.StringVar(&o.cfg.Password, "password", "", "password of every user (default loadtest)")
	fs.IntVar(&o.cfg.MaxList, "max-list", 500, "longest list in one REST call: imgate's --max-list")
	fs.IntVar(&o.cfg.Concurrency, "concurrency", 64, "REST calls and logins in flight during setup")
	fs.IntVar(&o.cfg.SourceAddrs, "source-addrs", 0, "spread connections over 127.0.0.1..127.0.0.N (loopback URLs only); 0: one per 20,000 devices")
	fs.DurationVar(&o.cfg.Grace, "grace", 10*time.Second, "how long to wait after the last send for missing deliveries")
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
		fs.Float64Var(&o.rate, "rate", 10, "messages per second from the owner")
		fs.StringVar(&o.via, "via", "ws", "ws (XSYNC over WebSocket) or rest (/message/send with from_user_id)")
	case "idle":
		fs.IntVar(&o.count, "devices", 1000, "devices to log in and hold")
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
		return r.Group(ctx, loadtest.Group{Members: o.count, Rate: o.rate, Duration: o.duration, Via: via})
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
