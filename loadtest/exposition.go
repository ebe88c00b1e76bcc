package loadtest

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// series is one sample line of a Prometheus text exposition: its labels
// (nil when it has none) and its value.
type series struct {
	labels map[string]string
	value  float64
}

// parseExposition returns the series of each named metric found in r,
// by name; a metric without a sample line is absent from the answer.
//
// A small parser of the plain sample lines ("name[{labels}] value
// [timestamp]") rather than prometheus/common/expfmt's TextParser: the
// tool needs a handful of counters and gauges, and skipping every other
// line without understanding it means a malformed or new-fangled family
// elsewhere in the exposition cannot cost the figures it does need, where
// the TextParser rejects the whole scrape on its first inconsistency.
func parseExposition(r io.Reader, names ...string) (map[string][]series, error) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	out := map[string][]series{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexAny(line, "{ \t")
		if end < 0 || !want[line[:end]] {
			continue
		}
		s, err := parseSample(line[end:])
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		out[line[:end]] = append(out[line[:end]], s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return out, nil
}

// parseSample parses what follows a sample's metric name: the optional
// label set, the value and an optional timestamp.
func parseSample(rest string) (series, error) {
	var s series
	if rest[0] == '{' {
		labels, n, err := parseLabels(rest)
		if err != nil {
			return s, err
		}
		s.labels, rest = labels, rest[n:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, fmt.Errorf("no value")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("value: %w", err)
	}
	s.value = v
	return s, nil
}

// parseLabels parses the label set `{name="value",...}` that s starts
// with, unescaping \\, \" and \n in values, and returns the labels and
// the length of the set.
func parseLabels(s string) (map[string]string, int, error) {
	labels := map[string]string{}
	i := 1
	for {
		i += len(s[i:]) - len(strings.TrimLeft(s[i:], " \t,"))
		if i >= len(s) {
			return nil, 0, fmt.Errorf("unclosed label set")
		}
		if s[i] == '}' {
			return labels, i + 1, nil
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 || i+eq+1 >= len(s) || s[i+eq+1] != '"' {
			return nil, 0, fmt.Errorf("malformed label set")
		}
		name := strings.TrimSpace(s[i : i+eq])
		value, n, err := unquote(s[i+eq+1:])
		if err != nil {
			return nil, 0, err
		}
		labels[name] = value
		i += eq + 1 + n
	}
}

// unquote reads the double-quoted label value s starts with and returns
// it unescaped, with the length of its quoted form.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return b.String(), i + 1, nil
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			default: // \\ and \"; the format escapes nothing else
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unclosed label value")
}

// sum is the sum of a metric's series, NaN when it has none.
func sum(ss []series) float64 {
	if len(ss) == 0 {
		return math.NaN()
	}
	var t float64
	for _, s := range ss {
		t += s.value
	}
	return t
}

// byLabel sums a metric's series by the value of one label; a series
// without the label counts under "".
func byLabel(ss []series, label string) map[string]float64 {
	out := make(map[string]float64, len(ss))
	for _, s := range ss {
		out[s.labels[label]] += s.value
	}
	return out
}

// parseMetrics returns the value of each named metric, summed over its
// series, NaN when absent.
func parseMetrics(r io.Reader, names ...string) ([]float64, error) {
	found, err := parseExposition(r, names...)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(names))
	for i, n := range names {
		out[i] = sum(found[n])
	}
	return out, nil
}
