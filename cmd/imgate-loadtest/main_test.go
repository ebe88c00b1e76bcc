package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestFlagsFromEnvironment(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		vars      map[string]string
		wantPairs int
		wantRate  float64
		wantGrace time.Duration
		wantErr   string
	}{
		{"defaults", nil, nil, 100, 1000, 10 * time.Second, ""},
		{"environment", nil, map[string]string{"IMGATE_LOADTEST_PAIRS": "7", "IMGATE_LOADTEST_GRACE": "3s"}, 7, 1000, 3 * time.Second, ""},
		{"flag wins", []string{"--pairs", "9"}, map[string]string{"IMGATE_LOADTEST_PAIRS": "7"}, 9, 1000, 10 * time.Second, ""},
		{"bad variable", nil, map[string]string{"IMGATE_LOADTEST_RATE": "fast"}, 100, 1000, 10 * time.Second, "IMGATE_LOADTEST_RATE"},
		{"stray argument", []string{"extra"}, nil, 100, 1000, 10 * time.Second, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("chat", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			o := &options{}
			commonFlags(fs, o)
			if err := scenarioFlags(fs, "chat", o); err != nil {
				t.Fatal(err)
			}
			err := parse(fs, tt.args, env(tt.vars))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parse: %v, want an error about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.count != tt.wantPairs || o.rate != tt.wantRate || o.cfg.Grace != tt.wantGrace {
				t.Errorf("pairs %d, rate %g, grace %s; want %d, %g, %s", o.count, o.rate, o.cfg.Grace, tt.wantPairs, tt.wantRate, tt.wantGrace)
			}
		})
	}
}

func TestRunRefusals(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no scenario", nil, flag.ErrHelp.Error()},
		{"unknown scenario", []string{"flood"}, `unknown scenario "flood"`},
		{"no app", []string{"chat"}, "required"},
		{"bad via", []string{"chat", "--app-id", "a", "--admin-token", "t", "--via", "carrier-pigeon", "--url", "http://127.0.0.1:1"}, "want ws or rest"},
		{"metrics URLs not one per node", []string{"chat", "--app-id", "a", "--admin-token", "t", "--url", "http://127.0.0.1:1,http://127.0.0.1:2",
			"--metrics-url", "http://127.0.0.1:3/metrics,http://127.0.0.1:4/metrics,http://127.0.0.1:5/metrics"}, "3 metrics URLs for 2 nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(t.Context(), tt.args, env(nil), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error with %q", tt.args, err, tt.want)
			}
			if tt.name == "no scenario" && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("run without a scenario = %v, want flag.ErrHelp", err)
			}
		})
	}
}

func TestScenarioFlags(t *testing.T) {
	for _, tt := range []struct {
		scenario string
		args     []string
		check    func(o *options) bool
	}{
		{"storm", []string{"--devices", "19000", "--messages", "3", "--wave", "500", "--metrics-url", "http://127.0.0.1:9464/metrics"}, func(o *options) bool {
			return o.storm.Devices == 19000 && o.storm.Messages == 3 && o.storm.Wave == 500 && o.storm.Senders == 10 && o.cfg.MetricsURL != "" && o.postgresCPU
		}},
		{"idle", []string{"--postgres-cpu=false", "--metrics-url", "http://127.0.0.1:9464/metrics,http://127.0.0.1:9465/metrics"}, func(o *options) bool {
			return !o.postgresCPU && o.cfg.MetricsURL == "http://127.0.0.1:9464/metrics,http://127.0.0.1:9465/metrics"
		}},
		{"mixed", []string{"--pairs", "7", "--rest-share", "0.5", "--churn", "0"}, func(o *options) bool {
			return o.mixed.Pairs == 7 && o.mixed.RESTShare == 0.5 && o.mixed.Churn == 0 && o.mixed.Groups == 3 && o.mixed.Duration == 10*time.Second
		}},
		{"mixed", []string{"--faults"}, func(o *options) bool { return o.cfg.Faults }},
	} {
		fs := flag.NewFlagSet(tt.scenario, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o := &options{}
		commonFlags(fs, o)
		if err := scenarioFlags(fs, tt.scenario, o); err != nil {
			t.Fatal(err)
		}
		if err := parse(fs, tt.args, env(nil)); err != nil {
			t.Fatal(err)
		}
		if !tt.check(o) {
			t.Errorf("%s %q: options %+v", tt.scenario, tt.args, o)
		}
	}
}
