package deploy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// grafanaQuery is what Grafana's MySQL datasource knows when it runs a
// panel's rawSql: the dashboard's time range, the panel's interval and the
// current values of the dashboard's variables.
type grafanaQuery struct {
	from, to time.Time
	interval time.Duration
	vars     map[string]string
}

// Grafana's frontend replaces $var, ${var} and [[var]] (templateSrv) before
// the backend expands $__macro(args) (pkg/tsdb/mysql/macros.go).
var (
	variableRef = regexp.MustCompile(`\$(\w+)|\$\{(\w+)\}|\[\[(\w+)\]\]`)
	macroCall   = regexp.MustCompile(`\$([_a-zA-Z0-9]+)\(([^\)]*)\)`)
)

// expand returns sql as Grafana 11 sends it to MySQL. A single-valued
// variable is inserted as is (the SQL quotes it), as Grafana's SQL
// datasources do. An unknown variable or macro is an error, as in Grafana.
func (q grafanaQuery) expand(sql string) (string, error) {
	var err error
	fail := func(e error) {
		if err == nil {
			err = e
		}
	}
	sql = variableRef.ReplaceAllStringFunc(sql, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if v, ok := q.vars[name]; ok {
			return v
		}
		switch name {
		case "__interval":
			return formatInterval(q.interval)
		case "__interval_ms":
			return strconv.FormatInt(q.interval.Milliseconds(), 10)
		}
		if !strings.HasPrefix(name, "__") {
			fail(fmt.Errorf("unknown dashboard variable $%s", name))
		}
		return ref // a macro, expanded below
	})
	sql = macroCall.ReplaceAllStringFunc(sql, func(call string) string {
		m := macroCall.FindStringSubmatch(call)
		var args []string
		for a := range strings.SplitSeq(m[2], ",") {
			args = append(args, strings.TrimSpace(a))
		}
		out, e := q.macro(m[1], args)
		if e != nil {
			fail(fmt.Errorf("%s: %w", call, e))
		}
		return out
	})
	if err != nil {
		return "", err
	}
	if strings.Contains(sql, "$__") {
		return "", fmt.Errorf("unexpanded macro left in %q", sql)
	}
	return sql, nil
}

// macro mirrors Grafana's MySQL macro engine.
func (q grafanaQuery) macro(name string, args []string) (string, error) {
	from, to := q.from.UTC().Unix(), q.to.UTC().Unix()
	col := func() (string, error) {
		if len(args) == 0 || args[0] == "" {
			return "", fmt.Errorf("missing time column argument")
		}
		return args[0], nil
	}
	switch name {
	case "__time", "__timeEpoch":
		c, err := col()
		return fmt.Sprintf("UNIX_TIMESTAMP(%s) as time_sec", c), err
	case "__timeFilter":
		c, err := col()
		return fmt.Sprintf("%s BETWEEN FROM_UNIXTIME(%d) AND FROM_UNIXTIME(%d)", c, from, to), err
	case "__timeFrom":
		return fmt.Sprintf("FROM_UNIXTIME(%d)", from), nil
	case "__timeTo":
		return fmt.Sprintf("FROM_UNIXTIME(%d)", to), nil
	case "__unixEpochFrom":
		return strconv.FormatInt(from, 10), nil
	case "__unixEpochTo":
		return strconv.FormatInt(to, 10), nil
	case "__unixEpochFilter":
		c, err := col()
		return fmt.Sprintf("%s >= %d AND %s <= %d", c, from, c, to), err
	case "__timeGroup", "__timeGroupAlias", "__unixEpochGroup", "__unixEpochGroupAlias":
		if len(args) < 2 {
			return "", fmt.Errorf("needs a time column and an interval")
		}
		d, err := parseInterval(strings.Trim(args[1], `'"`))
		if err != nil {
			return "", err
		}
		s := int64(d.Seconds())
		out := fmt.Sprintf("UNIX_TIMESTAMP(%s) DIV %d * %d", args[0], s, s)
		if strings.HasPrefix(name, "__unixEpoch") {
			out = fmt.Sprintf("%s DIV %d * %d", args[0], s, s)
		}
		if strings.HasSuffix(name, "Alias") {
			out += ` AS "time"`
		}
		return out, nil
	}
	return "", fmt.Errorf("unknown macro %s", name)
}

var intervalRe = regexp.MustCompile(`^(\d+)(ms|s|m|h|d|w|y)$`)

// parseInterval reads Grafana's interval syntax ("30s", "5m", "1d").
func parseInterval(s string) (time.Duration, error) {
	m := intervalRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("invalid interval %q", s)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

// formatInterval writes d as Grafana writes $__interval.
func formatInterval(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// panelInterval is Grafana's $__interval for a range drawn on about 1000
// pixels: the range over the points, rounded to a round step.
func panelInterval(span time.Duration) time.Duration {
	raw := span / 1000
	steps := []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour}
	out := steps[0]
	for _, s := range steps {
		if s <= raw {
			out = s
		}
	}
	return out
}

var relativeTime = regexp.MustCompile(`^now(?:([+-])(\d+)([smhdw]))?$`)

// resolveTime reads a dashboard's relative time ("now-12h", "now+15m").
func resolveTime(s string, now time.Time) (time.Time, error) {
	m := relativeTime.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("unsupported dashboard time %q", s)
	}
	if m[1] == "" {
		return now, nil
	}
	d, err := parseInterval(m[2] + m[3])
	if err != nil {
		return time.Time{}, err
	}
	if m[1] == "-" {
		d = -d
	}
	return now.Add(d), nil
}

func TestGrafanaExpand(t *testing.T) {
	q := grafanaQuery{
		from:     time.Unix(1700000000, 0),
		to:       time.Unix(1700043200, 0),
		interval: time.Minute,
		vars:     map[string]string{"series": "abc", "window": "1h"},
	}
	cases := []struct {
		name, in, want, err string
	}{
		{"time filter", "WHERE $__timeFilter(computed_at)",
			"WHERE computed_at BETWEEN FROM_UNIXTIME(1700000000) AND FROM_UNIXTIME(1700043200)", ""},
		{"time group alias with interval", "SELECT $__timeGroupAlias(computed_at, $__interval), x",
			`SELECT UNIX_TIMESTAMP(computed_at) DIV 60 * 60 AS "time", x`, ""},
		{"time group quoted", "$__timeGroup(t, '5m')", "UNIX_TIMESTAMP(t) DIV 300 * 300", ""},
		{"variables in all forms", "'$series' '${window}' '[[series]]'", "'abc' '1h' 'abc'", ""},
		{"from and to", "$__timeFrom() $__timeTo() $__unixEpochFrom()", "FROM_UNIXTIME(1700000000) FROM_UNIXTIME(1700043200) 1700000000", ""},
		{"json paths are not variables", "JSON_TABLE(x, '$[*]' COLUMNS (a INT PATH '$.a'))", "JSON_TABLE(x, '$[*]' COLUMNS (a INT PATH '$.a'))", ""},
		{"unknown variable", "WHERE a = '$nope'", "", "unknown dashboard variable $nope"},
		{"unknown macro", "WHERE $__nope(a)", "", "unknown macro __nope"},
		{"missing column", "WHERE $__timeFilter()", "", "missing time column"},
		{"bad interval", "$__timeGroup(t, 'soon')", "", `invalid interval "soon"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := q.expand(c.in)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestResolveTimeAndInterval(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"now": now, "now-12h": now.Add(-12 * time.Hour), "now+15m": now.Add(15 * time.Minute), "now-7d": now.Add(-7 * 24 * time.Hour),
	} {
		got, err := resolveTime(in, now)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := resolveTime("yesterday", now)
	require.Error(t, err)
	require.Equal(t, 30*time.Second, panelInterval(12*time.Hour))
	require.Equal(t, 15*time.Second, panelInterval(6*time.Hour+15*time.Minute))
	require.Equal(t, "30s", formatInterval(30*time.Second))
	require.Equal(t, "2m", formatInterval(2*time.Minute))
}
