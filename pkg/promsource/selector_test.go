package promsource

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSelector(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		metric   string
		matchers []string // Matcher.String() of each, in parser order
	}{
		{"bare name", "node_load1", "node_load1", []string{`__name__="node_load1"`}},
		{"name with matcher", `node_filesystem_avail_bytes{mountpoint="/"}`, "node_filesystem_avail_bytes",
			[]string{`mountpoint="/"`, `__name__="node_filesystem_avail_bytes"`}},
		{"spaces around", `  up{job = "node"}  `, "up", []string{`job="node"`, `__name__="up"`}},
		{"name matcher in braces", `{__name__="up"}`, "up", []string{`__name__="up"`}},
		{"name regexp in braces", `{__name__=~"node_.*"}`, "", []string{`__name__=~"node_.*"`}},
		{"name-less selector", `{job="node"}`, "", []string{`job="node"`}},
		{"bare pattern", "node_.*", "", []string{`__name__=~"node_.*"`}},
		{"pattern with matchers", `node_disk_.*_total{device="sda"}`, "",
			[]string{`__name__=~"node_disk_.*_total"`, `device="sda"`}},
		{"pattern with empty braces", `node_(cpu|load).*{}`, "", []string{`__name__=~"node_(cpu|load).*"`}},
		{"escaped quote in value", `up{job="a\"b"}`, "up", []string{`job="a\"b"`, `__name__="up"`}},
		{"hash inside quotes", `up{job="a#b"}`, "up", []string{`job="a#b"`, `__name__="up"`}},
		{"negative and regexp matchers", `up{job!="x",instance=~"a|b"}`, "up",
			[]string{`job!="x"`, `instance=~"a|b"`, `__name__="up"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			metric, ms, err := ParseSelector(c.in)
			require.NoError(t, err)
			require.Equal(t, c.metric, metric)
			got := make([]string, len(ms))
			for i, m := range ms {
				got[i] = m.String()
			}
			require.ElementsMatch(t, c.matchers, got)
		})
	}
}

func TestParseSelectorRejects(t *testing.T) {
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"blank", "   "},
		{"binary operator injection", "up or vector(1)"},
		{"range selector", `foo{a="b"}[5m]`},
		{"offset", "up offset 5m"},
		{"at modifier", "up @ 1700000000"},
		{"function call", "rate(node_cpu_seconds_total[5m])"},
		{"aggregation", "sum(up)"},
		{"number", "1"},
		{"string", `"up"`},
		{"subquery", "up[1h:5m]"},
		{"only empty-matching matchers", `{job=~".*"}`},
		{"empty braces", "{}"},
		{"unclosed brace", `up{job="node"`},
		{"bad regexp in matcher", `up{job=~"("}`},
		{"bad name pattern", "node_(.*"},
		{"pattern with injection", `node_.* or vector(1)`},
		{"pattern with range", `node_.*[5m]`},
		{"label injection via quote", `up{job="a"} or vector(1)`},
		{"comment", "up # x"},
		{"comment after matchers", `up{job="a"} # or vector(1)`},
		{"pattern with character class", "node_[a-z]+"},
		{"parenthesised name", "(up)"},
		{"semicolon", "up; drop"},
		{"too long", "a" + string(make([]byte, maxSelectorLen))},
		{"every name", `{__name__=~".+"}`},
		{"every name, bare pattern", ".+"},
		{"every name with a negative matcher", `{__name__=~".+",job!="x"}`},
		{"every job", `{job=~".+"}`},
		{"alternation hiding everything", `{__name__=~"a|.+"}`},
		{"only negative matchers", `{job!="",instance!="x"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ParseSelector(c.in)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrInvalidSelector), "error %v does not wrap ErrInvalidSelector", err)
		})
	}
}

func TestQuerySelector(t *testing.T) {
	cases := []struct {
		name, sel, metric, want string
	}{
		{"bare", "node_load1", "node_load1", "node_load1"},
		{"pattern drops name matcher", `node_.*{device="sda"}`, "node_disk_read_bytes_total", `node_disk_read_bytes_total{device="sda"}`},
		{"escapes values", `{__name__=~"x.*",job="a\"b\\c"}`, "xy", `xy{job="a\"b\\c"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ms, err := ParseSelector(c.sel)
			require.NoError(t, err)
			got := querySelector(c.metric, ms)
			require.Equal(t, c.want, got)
			// What is sent must itself pass validation and pin the metric.
			metric, _, err := ParseSelector(got)
			require.NoError(t, err)
			require.Equal(t, c.metric, metric)
		})
	}
}
