package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v3"

	"github.com/imgate/imgate/metrics"
)

// The files checked, relative to this package's directory.
const (
	dashboardFile  = "grafana/imgate.json"
	alertsFile     = "prometheus/alerts.yml"
	alertsTestFile = "prometheus/alerts_test.yml"
)

// targetLabels are the labels Prometheus adds to every scraped series.
var targetLabels = []string{"job", "instance"}

// prometheusSeries are series that Prometheus itself makes, not imgate;
// the queries may use them.
var prometheusSeries = []string{
	"up", "scrape_duration_seconds", "scrape_samples_scraped",
	"scrape_samples_post_metric_relabeling", "scrape_series_added",
	"ALERTS", "ALERTS_FOR_STATE",
}

// exported is what an imgate node exports: each series name with the
// label names its series carry (target labels included).
type exported map[string]map[string]bool

// exportedSeries gathers a registry built as the command builds it and
// returns the series names it exports: a histogram x exports x_bucket
// (with le), x_sum and x_count; a summary x exports x (with quantile),
// x_sum and x_count.
func exportedSeries(t *testing.T) exported {
	t.Helper()
	reg, m := metrics.NewRegistry()
	m.WatchBus(func() metrics.BusStats { return metrics.BusStats{} })
	m.WatchReady(func() error { return nil })
	m.WatchWindow(func() metrics.WindowStats { return metrics.WindowStats{} })
	m.WatchHolds(func() metrics.HoldStats { return metrics.HoldStats{} })
	m.Cache("token")
	// A labelled family with no child yet is not exported at all: make
	// one child of each family that does not create its children up front.
	m.Request("/user/settings", "GET", 200, time.Millisecond)

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	ex := exported{}
	add := func(name string, labels []string, extra ...string) {
		s := ex[name]
		if s == nil {
			s = map[string]bool{}
			ex[name] = s
		}
		for _, l := range slices.Concat(labels, extra, targetLabels) {
			s[l] = true
		}
	}
	for _, mf := range mfs {
		var labels []string
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				labels = append(labels, lp.GetName())
			}
		}
		name := mf.GetName()
		switch mf.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			add(name+"_bucket", labels, "le")
			add(name+"_sum", labels)
			add(name+"_count", labels)
		case dto.MetricType_SUMMARY:
			add(name, labels, "quantile")
			add(name+"_sum", labels)
			add(name+"_count", labels)
		default:
			add(name, labels)
		}
	}
	for _, name := range prometheusSeries {
		add(name, nil, "alertname", "alertstate", "severity")
	}
	return ex
}

// TestExportedSeries guards the test itself: it must see imgate's own
// series, including those made by WatchBus and WatchReady, and the
// process's.
func TestExportedSeries(t *testing.T) {
	ex := exportedSeries(t)
	for _, name := range []string{
		"imgate_fanout_latency_seconds_bucket", "imgate_fanout_latency_seconds_count",
		"imgate_bus_dropped_total", "imgate_ready", "imgate_build_info",
		"imgate_http_requests_total", "go_goroutines", "up",
	} {
		if ex[name] == nil {
			t.Errorf("%s is not among the exported series", name)
		}
	}
	if ex["imgate_fanout_latency_seconds"] != nil {
		t.Errorf("a histogram's bare name is not a series")
	}
	if !ex["imgate_fanout_latency_seconds_bucket"]["le"] || !ex["imgate_session_closes_total"]["reason"] {
		t.Errorf("label names missing: %v %v", ex["imgate_fanout_latency_seconds_bucket"], ex["imgate_session_closes_total"])
	}
}

func TestDashboard(t *testing.T) {
	ex := exportedSeries(t)
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkDashboard(data, ex) {
		t.Errorf("%s: %s", dashboardFile, p)
	}
}

// TestDashboardPromtool has promtool, PromQL's real parser, check the
// syntax of every dashboard query, with Grafana's variables replaced by
// values, as recording rules in a temporary file. It skips where
// promtool is missing, unless IMGATE_REQUIRE_PROMTOOL=1 (the test command
// sets it; scripts/services.sh installs promtool).
func TestDashboardPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("IMGATE_REQUIRE_PROMTOOL") == "1" {
			t.Fatalf("promtool not found (IMGATE_REQUIRE_PROMTOOL=1): %v", err)
		}
		t.Skip("promtool not found")
	}
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct{ Panels []panel }
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	vars := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "${instance}", ".+", "$instance", ".+")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			for _, tg := range p.Targets {
				rules = append(rules, rule{fmt.Sprintf("dashboard:panel_%d_%s", p.ID, tg.RefID), vars.Replace(tg.Expr)})
			}
		}
	}
	walk(d.Panels)
	out, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dashboard_rules.yml")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(promtool, "check", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules on the dashboard's %d queries: %v\n%s", len(rules), err, msg)
	}
}

func TestAlerts(t *testing.T) {
	ex := exportedSeries(t)
	data, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkAlerts(data, ex) {
		t.Errorf("%s: %s", alertsFile, p)
	}
}

// TestAlertsTestInput checks the series that alerts_test.yml feeds the
// rules: a name misspelled alike in a rule and in its test would pass
// promtool and fail only in production.
func TestAlertsTestInput(t *testing.T) {
	ex := exportedSeries(t)
	data, err := os.ReadFile(alertsTestFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Tests []struct {
			InputSeries []struct {
				Series string `yaml:"series"`
			} `yaml:"input_series"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", alertsTestFile, err)
	}
	n := 0
	for i, tc := range f.Tests {
		for _, s := range tc.InputSeries {
			n++
			for _, p := range checkExpr(s.Series, ex, false) {
				t.Errorf("%s: test %d: series %s: %s", alertsTestFile, i, s.Series, p)
			}
		}
	}
	if n == 0 {
		t.Errorf("%s: no input series", alertsTestFile)
	}
}

// TestNameCheckFails shows that the checks catch a misspelled metric or
// label, an unknown function, and a dashboard query that ignores the
// node selector.
func TestNameCheckFails(t *testing.T) {
	ex := exportedSeries(t)
	for _, tc := range []struct{ expr, want string }{
		{`sum by (kind) (rate(imgate_deliveris_total{instance=~"$instance"}[$__rate_interval]))`, "imgate_deliveris_total"},
		{`histogram_quantile(0.99, sum by (le) (rate(imgate_fanout_latency_seconds{instance=~"$instance"}[5m])))`, "imgate_fanout_latency_seconds"},
		{`sum(rate(imgate_session_closes_total{instance=~"$instance",reasn="slow"}[5m]))`, `label "reasn"`},
		{`sum(rte(imgate_deliveries_total{instance=~"$instance"}[5m]))`, `unknown function "rte"`},
		{`sum(imgate_connections)`, "no instance matcher"},
		{`sum(rate(imgate_deliveries_total{instance=~"$instance"}[5m])`, "unbalanced"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			problems := checkExpr(tc.expr, ex, true)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("checkExpr(%q) = %q, want a problem naming %s", tc.expr, problems, tc.want)
			}
		})
	}

	t.Run("dashboard", func(t *testing.T) {
		dash := `{"schemaVersion": 39, "templating": {"list": []}, "panels": [
			{"id": 1, "type": "timeseries", "datasource": {"type": "prometheus", "uid": "${datasource}"},
			 "targets": [{"expr": "sum(imgate_conections{instance=~\"$instance\"})"}]}]}`
		problems := checkDashboard([]byte(dash), ex)
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "imgate_conections") }) {
			t.Errorf("checkDashboard found %q, want the misspelled imgate_conections", problems)
		}
	})

	t.Run("alerts", func(t *testing.T) {
		rules := "groups:\n- name: x\n  rules:\n  - alert: X\n    expr: imgate_redy == 0\n    for: 1m\n" +
			"    labels: {severity: warning}\n    annotations: {summary: s, description: d, runbook: r}\n"
		problems := checkAlerts([]byte(rules), ex)
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "imgate_redy") }) {
			t.Errorf("checkAlerts found %q, want the misspelled imgate_redy", problems)
		}
	})
}

// TestSelectors pins down what the tokenizer takes for a metric name.
func TestSelectors(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up{job="imgate"} == 0`, []string{"up{job}"}},
		{`sum by (le, kind) (rate(a_bucket{path="push", instance=~"$instance"}[$__rate_interval]))`, []string{"a_bucket{path,instance}"}},
		{`sum without (instance) (a) / on (job) group_left (x) b offset 5m`, []string{"a{}", "b{}"}},
		{`histogram_quantile(0.99, sum(rate(a[5m:1m] @ start()))) > bool 1e-3 and c unless d or e`, []string{"a{}", "c{}", "d{}", "e{}"}},
		{`label_replace(a, "dst", "$1", "src", "(.*)") # a comment naming b`, []string{"a{}"}},
		{`{__name__="a", job!~'x'}`, []string{"a{__name__,job}"}},
		{`SUM BY (le) (a) + Inf + NaN + 0x1F + .5`, []string{"a{}"}},
		{`count_values("version", imgate_build_info) > ${threshold}`, []string{"imgate_build_info{}"}},
		{`a:rate5m{x="}{,"}`, []string{"a:rate5m{x}"}},
	} {
		sels, err := selectors(tc.expr)
		if err != nil {
			t.Errorf("selectors(%q): %v", tc.expr, err)
			continue
		}
		var got []string
		for _, s := range sels {
			got = append(got, s.name+"{"+strings.Join(s.labels, ",")+"}")
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("selectors(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// checkExpr returns what is wrong with a PromQL expression: metric names
// and matcher labels imgate does not export, unknown functions, and
// brackets that do not balance. With needInstance (dashboard queries),
// every selector must also filter on the instance variable.
func checkExpr(expr string, ex exported, needInstance bool) []string {
	sels, err := selectors(expr)
	if err != nil {
		return []string{fmt.Sprintf("%q: %v", expr, err)}
	}
	if len(sels) == 0 {
		return []string{fmt.Sprintf("%q: queries no metric", expr)}
	}
	var problems []string
	for _, s := range sels {
		labels, ok := ex[s.name]
		switch {
		case s.name == "":
			problems = append(problems, fmt.Sprintf("%q: a selector without a metric name", expr))
			continue
		case !ok:
			problems = append(problems, fmt.Sprintf("%q: metric %s is not exported by imgate", expr, s.name))
			continue
		}
		for _, l := range s.labels {
			if l != "__name__" && !labels[l] {
				problems = append(problems, fmt.Sprintf("%q: %s has no label %q", expr, s.name, l))
			}
		}
		if needInstance && !slices.Contains(prometheusSeries, s.name) && !slices.Contains(s.labels, "instance") {
			problems = append(problems, fmt.Sprintf("%q: %s has no instance matcher (use instance=~\"$instance\")", expr, s.name))
		}
	}
	return problems
}

// checkDashboard checks the Grafana dashboard: valid JSON; a datasource
// variable and the instance variable; every panel with a datasource, at
// least one target and a unique id; and every query by checkExpr.
func checkDashboard(data []byte, ex exported) []string {
	var d struct {
		SchemaVersion int `json:"schemaVersion"`
		Templating    struct {
			List []struct {
				Name       string          `json:"name"`
				Type       string          `json:"type"`
				Query      json.RawMessage `json:"query"`
				Definition string          `json:"definition"`
				Multi      bool            `json:"multi"`
			} `json:"list"`
		} `json:"templating"`
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return []string{fmt.Sprintf("not valid JSON: %v", err)}
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if d.SchemaVersion < 36 {
		add("schemaVersion %d: want 36 or later", d.SchemaVersion)
	}

	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		if v.Type != "query" {
			continue
		}
		def := v.Definition
		if def == "" {
			var q struct{ Query string }
			if json.Unmarshal(v.Query, &q) != nil {
				json.Unmarshal(v.Query, &q.Query)
			}
			def = q.Query
		}
		m := regexp.MustCompile(`^\s*label_values\((.+),\s*([a-zA-Z_]\w*)\s*\)\s*$`).FindStringSubmatch(def)
		if m == nil {
			add("variable %s: query %q: want label_values(metric, label)", v.Name, def)
			continue
		}
		for _, p := range checkExpr(m[1], ex, false) {
			add("variable %s: %s", v.Name, p)
		}
		if sels, err := selectors(m[1]); err == nil && len(sels) == 1 && !ex[sels[0].name][m[2]] {
			add("variable %s: %s has no label %q", v.Name, sels[0].name, m[2])
		}
		if v.Name == "instance" && !v.Multi {
			add("variable instance: want multi-select")
		}
	}
	if len(d.Panels) > 0 {
		for _, name := range []string{"datasource", "instance"} {
			if !vars[name] {
				add("no template variable %q", name)
			}
		}
	}

	ids := map[int]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
			if p.ID == 0 {
				add("%s: no id", where)
			} else if other, dup := ids[p.ID]; dup {
				add("%s: id also used by %q", where, other)
			}
			ids[p.ID] = p.Title
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			if len(p.Datasource) == 0 || string(p.Datasource) == "null" {
				add("%s: no datasource", where)
			}
			if len(p.Targets) == 0 {
				add("%s: no targets", where)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					add("%s: target %s has no expr", where, tg.RefID)
					continue
				}
				for _, pr := range checkExpr(tg.Expr, ex, true) {
					add("%s: %s", where, pr)
				}
			}
		}
	}
	walk(d.Panels)
	if len(ids) == 0 {
		add("no panels")
	}
	return problems
}

type panel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource json.RawMessage `json:"datasource"`
	Targets    []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// checkAlerts checks the alert rules: each alert has an expression over
// exported metrics (checkExpr), a for, a severity and the summary,
// description and runbook annotations.
func checkAlerts(data []byte, ex exported) []string {
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Record      string            `yaml:"record"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return []string{fmt.Sprintf("not valid YAML: %v", err)}
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	n := 0
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			n++
			name := r.Alert + r.Record
			for _, p := range checkExpr(r.Expr, ex, false) {
				add("%s: %s", name, p)
			}
			if r.Alert == "" {
				continue
			}
			if r.For == "" {
				add("%s: no for", name)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				add("%s: severity %q: want warning or critical", name, s)
			}
			for _, a := range []string{"summary", "description", "runbook"} {
				if r.Annotations[a] == "" {
					add("%s: no %s annotation", name, a)
				}
			}
		}
	}
	if n == 0 {
		add("no rules")
	}
	return problems
}

// selector is a metric name in an expression and the label names its
// matchers use.
type selector struct {
	name   string
	labels []string
}

// selectors returns the metric selectors of a PromQL expression, in order.
//
// It is a tokenizer, not a parser: the rules are parsed for real by
// promtool in CI (scripts/test.sh); this only has to tell metric names
// from everything else, which PromQL's lexical structure makes simple. An
// identifier is a metric name unless it is a keyword or aggregation
// operator, a function (followed by "("), or a label in the list after
// by, without, on, ignoring, group_left or group_right. Strings, label
// matchers in {}, ranges and subqueries in [], numbers, durations,
// comments and Grafana variables ($x, ${x}) are skipped. Functions must
// be PromQL's.
func selectors(expr string) ([]selector, error) {
	var sels []selector
	s := expr
	depth := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			j, err := skipString(s, i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unbalanced [ at %d", i)
			}
			i += j + 1
		case c == '{':
			sel := selector{}
			j, err := matchers(s, i, &sel)
			if err != nil {
				return nil, err
			}
			sels = append(sels, sel)
			i = j
		case c == '$':
			i++
			if i < len(s) && s[i] == '{' {
				j := strings.IndexByte(s[i:], '}')
				if j < 0 {
					return nil, fmt.Errorf("unbalanced ${ at %d", i)
				}
				i += j + 1
			} else {
				for i < len(s) && isIdent(s[i], true) {
					i++
				}
			}
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			// Numbers (1, 0.5, 1e-3, 0x1F) and durations (5m, 1h30m).
			for i < len(s) && (isIdent(s[i], true) || s[i] == '.') {
				i++
			}
		case isIdent(c, false):
			j := i
			for j < len(s) && isIdent(s[j], true) {
				j++
			}
			word := s[i:j]
			i = j
			next := skipSpace(s, i)
			lower := strings.ToLower(word)
			switch {
			case labelListKeywords[lower]:
				if next < len(s) && s[next] == '(' {
					k := strings.IndexByte(s[next:], ')')
					if k < 0 {
						return nil, fmt.Errorf("unbalanced ( after %s", word)
					}
					i = next + k + 1
				}
			case keywords[lower]:
			case next < len(s) && s[next] == '(':
				if !functions[word] {
					return nil, fmt.Errorf("unknown function %q", word)
				}
			default:
				sel := selector{name: word}
				if next < len(s) && s[next] == '{' {
					k, err := matchers(s, next, &sel)
					if err != nil {
						return nil, err
					}
					i = k
				}
				sels = append(sels, sel)
			}
		case c == '(':
			depth++
			i++
		case c == ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced ) at %d", i)
			}
			i++
		case c == '}' || c == ']':
			return nil, fmt.Errorf("unbalanced %c at %d", c, i)
		default: // operators, commas, @
			i++
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced (: %d not closed", depth)
	}
	return sels, nil
}

// matchers reads the label matchers from s[i] == '{' to the closing '}',
// adding their label names to sel and, from __name__="x", its name. It
// returns the index after the '}'.
func matchers(s string, i int, sel *selector) (int, error) {
	i++
	for {
		i = skipSpace(s, i)
		if i < len(s) && s[i] == ',' {
			i = skipSpace(s, i+1)
		}
		if i >= len(s) {
			return 0, fmt.Errorf("unbalanced { in %q", s)
		}
		if s[i] == '}' {
			return i + 1, nil
		}
		j := i
		for j < len(s) && isIdent(s[j], j > i) {
			j++
		}
		if j == i {
			return 0, fmt.Errorf("want a label name at %d in %q", i, s)
		}
		label := s[i:j]
		j = skipSpace(s, j)
		op := ""
		for _, o := range []string{"!=", "=~", "!~", "="} {
			if strings.HasPrefix(s[j:], o) {
				op = o
				break
			}
		}
		if op == "" {
			return 0, fmt.Errorf("want =, !=, =~ or !~ after %s in %q", label, s)
		}
		j = skipSpace(s, j+len(op))
		if j >= len(s) || (s[j] != '"' && s[j] != '\'' && s[j] != '`') {
			return 0, fmt.Errorf("want a string after %s%s in %q", label, op, s)
		}
		k, err := skipString(s, j)
		if err != nil {
			return 0, err
		}
		sel.labels = append(sel.labels, label)
		if label == "__name__" && op == "=" && sel.name == "" {
			sel.name = s[j+1 : k-1]
		}
		i = k
	}
}

// skipString returns the index after the string that starts at s[i].
func skipString(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string at %d in %q", i, s)
}

func skipSpace(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isIdent(c byte, notFirst bool) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || notFirst && isDigit(c)
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// labelListKeywords take a parenthesised list of label names.
var labelListKeywords = set("by", "without", "on", "ignoring", "group_left", "group_right")

// keywords are PromQL's aggregation operators, binary and set operators,
// modifiers and literals (case-insensitive, as in PromQL).
var keywords = set(
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
	"bottomk", "topk", "quantile", "limitk", "limit_ratio",
	"and", "or", "unless", "atan2", "bool", "offset", "inf", "nan",
)

// functions are PromQL's functions (case-sensitive), start() and end()
// of the @ modifier included.
var functions = set(
	"abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh",
	"avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh",
	"count_over_time", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg",
	"delta", "deriv", "double_exponential_smoothing", "exp", "floor", "histogram_avg",
	"histogram_count", "histogram_fraction", "histogram_quantile", "histogram_stddev",
	"histogram_stdvar", "histogram_sum", "holt_winters", "hour", "idelta", "increase", "info",
	"irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2",
	"mad_over_time", "max_over_time", "min_over_time", "minute", "month", "pi",
	"predict_linear", "present_over_time", "quantile_over_time", "rad", "rate", "resets",
	"round", "scalar", "sgn", "sin", "sinh", "sort", "sort_by_label", "sort_by_label_desc",
	"sort_desc", "sqrt", "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan",
	"tanh", "time", "timestamp", "vector", "year", "start", "end",
)

// TestFilesExist keeps the file list above honest, and lists the
// exported series when run with -v (handy when writing a query).
func TestFilesExist(t *testing.T) {
	for _, f := range []string{dashboardFile, alertsFile, alertsTestFile, "prometheus/prometheus.yml"} {
		if _, err := os.Stat(filepath.FromSlash(f)); err != nil {
			t.Error(err)
		}
	}
	ex := exportedSeries(t)
	names := make([]string, 0, len(ex))
	for n := range ex {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("exported series: %s", strings.Join(names, " "))
}
