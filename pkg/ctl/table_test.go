package ctl_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/pkg/ctl"
	"github.com/slapipe/slapipe/pkg/ctl/ctltest"
)

// row finds the table line holding every cell.
func row(out string, cells ...string) string {
	for _, line := range strings.Split(out, "\n") {
		ok := true
		for _, c := range cells {
			ok = ok && strings.Contains(line, c)
		}
		if ok {
			return line
		}
	}
	return ""
}

func TestTables(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(c *ctl.Client) error
		rows [][]string
	}{
		{"sla get", func(c *ctl.Client) error { return c.SLAGet(ctx) }, [][]string{
			{"NAME", "SELECTOR", "MIN", "MAX", "TARGET"},
			// Bytes read with binary prefixes, counters as rates.
			{"memory-free", "node_memory_MemFree_bytes", "256 MiB", "-", "99.5% over 7d"},
			{"disk-write", "node_disk_written_bytes_total", "95.4 MiB/s"},
		}},
		{"violations", func(c *ctl.Client) error { return c.Violations(ctx, "") }, [][]string{
			{"WINDOW", "OBJECTIVE", "STATE", "COMPLIANCE", "WORST"},
			{"1h", "memory-free", "VIOLATED", "720", "60", "5m0s", "91.67%", "191 MiB"},
			{"1h", "disk-write", "ok", "100.00%"},
			{"12h", "memory-free", "8640", "100.00%"},
		}},
		{"prediction", func(c *ctl.Client) error { return c.Predictions(ctx) }, [][]string{
			{"within the next 10m0s"},
			{"filesystem-avail", `{mountpoint="/"}`, "83.00%", "(in 7m30s)", "858 MiB", "1.12 GiB", "damped"},
		}},
		{"stats", func(c *ctl.Client) error { return c.Stats(ctx, ctl.Query{Metric: "node_memory_MemFree_bytes"}) }, [][]string{
			{"node_memory_MemFree_bytes", "raw", "1h", "720", "286 MiB", "572 MiB", "429 MiB", "28.6 MiB"},
		}},
		{"metadata", func(c *ctl.Client) error { return c.Metadata(ctx, ctl.Query{Metric: "node_memory_MemFree_bytes"}) }, [][]string{
			{"node_memory_MemFree_bytes", "-3.5", "0.0080", "12", "yes", "120 (found)", "0.80", "0.90 0.80 0.70 0.60 0.50"},
		}},
		{"metadata of a refused season", func(c *ctl.Client) error {
			return c.Metadata(ctx, ctl.Query{Metric: "node_disk_written_bytes_total"})
		}, [][]string{
			{"SEASON CHECK"},
			{"cycles disagree: a one-off event, not a season (150: 57 cycles, z 6.2, 55% agree, strength 0.04)"},
		}},
		{"metrics", func(c *ctl.Client) error { return c.Metrics(ctx, "", false) }, [][]string{
			{"node_disk_written_bytes_total", "counter", "2", "The total number of bytes"},
			{"NAME", "TYPE", "SERIES", "HELP"},
		}},
		{"runs", func(c *ctl.Client) error { return c.Runs(ctx, 0) }, [][]string{
			{ctltest.RunID, "succeeded", "manual", "3", "1.8s"},
			{"failed", "schedule", "connection refused"},
		}},
		{"forecast", func(c *ctl.Client) error { return c.Forecast(ctx, ctl.Query{Metric: "node_memory_MemFree_bytes"}) }, [][]string{
			{"node_memory_MemFree_bytes", ctltest.MemSeries},
			{"┤"},
			{"history", "forecast", "95% interval"},
			{"next 10m0s", "damped_seasonal"},
			{"95 % interval: from the forecast's own out-of-sample errors, kept at zero or above"},
		}},
		{"budget", func(c *ctl.Client) error { return c.Budget(ctx) }, [][]string{
			{"OBJECTIVE", "TARGET", "WINDOW", "BUDGET", "SPENT", "REMAINING", "BURN 1H", "BURN 6H", "EXHAUSTION"},
			{"memory-free", "99.5%", "7d", "50m24s", "25m12s", "50.00%", "24", "8", `{instance="backfill:9100"} (of 2)`},
		}},
		{"status", func(c *ctl.Client) error { return c.Status(ctx) }, [][]string{
			{"SLA set"}, {"Violations"}, {"Predictions"}, {"Error budget"}, {"Last run"},
			{"memory-free", "91.67%"},
		}},
		{"etl run", func(c *ctl.Client) error { return c.ETLRun(ctx, nil) }, [][]string{
			{ctltest.RunID, "succeeded", "3 series"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ctl.OutputTable)
			require.NoError(t, tc.run(h.c))
			out := h.stdout.String()
			for _, cells := range tc.rows {
				require.NotEmptyf(t, row(out, cells...), "no line with %q in:\n%s", cells, out)
			}
			require.NotContains(t, out, "\x1b[", "no colour when stdout is not a terminal")
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		run   func(c *ctl.Client) error
		want  string
		usage bool
	}{
		{"lower >= upper", func(c *ctl.Client) error {
			lo, hi := 10.0, 5.0
			return c.SLAAdd(ctx, ctl.Objective{Name: "x", Selector: "node_load1", Min: &lo, Max: &hi})
		}, "max: must be greater than min (got 5 <= 10)", true},
		{"no bound", func(c *ctl.Client) error {
			return c.SLAAdd(ctx, ctl.Objective{Name: "x", Selector: "node_load1"})
		}, "give at least one bound", true},
		{"malformed selector", func(c *ctl.Client) error {
			hi := 1.0
			return c.SLAAdd(ctx, ctl.Objective{Name: "x", Selector: "node_load1{", Max: &hi})
		}, "selector: invalid selector: \"node_load1{\": 1:12: parse error", true},
		{"bad window", func(c *ctl.Client) error { return c.Violations(ctx, "2h") }, `invalid --window "2h": use one of 1h, 3h, 12h`, true},
		{"bad metric name", func(c *ctl.Client) error { return c.Stats(ctx, ctl.Query{Metric: "node\xffload"}) }, "invalid metric name", true},
		{"bad etl selector", func(c *ctl.Client) error { return c.ETLRun(ctx, []string{"{{"}) }, `invalid --selector "{{"`, true},
		{"unknown metric", func(c *ctl.Client) error { return c.Stats(ctx, ctl.Query{Metric: "node_nope"}) },
			`no stored series for metric "node_nope": list the stored metrics with ` + "`slapipe ctl metrics --stored`", false},
		{"remove unknown objective", func(c *ctl.Client) error { return c.SLARemove(ctx, "nope") }, `no objective named "nope"`, false},
		{"duplicate names in set", func(c *ctl.Client) error {
			hi := 1.0
			o := ctl.Objective{Name: "a", Selector: "node_load1", Max: &hi}
			return c.SLASet(ctx, []ctl.Objective{o, o})
		}, `objectives[1].name: "a" is already used by objectives[0]`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ctl.OutputJSON)
			err := tc.run(h.c)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "\n")
			require.Equal(t, tc.usage, errors.Is(err, ctl.ErrUsage), "usage error: %v", err)
			require.Empty(t, h.stdout.String(), "a failed command prints nothing on stdout")
		})
	}
}

func TestServerReasonSurfaces(t *testing.T) {
	// Only the server knows the set, so only it can refuse a name that is
	// already taken: its InvalidArgument reason must reach the user unchanged.
	sla, ret := ctltest.NewSLA(), ctltest.NewRetrieval()
	slaAddr, retAddr := ctltest.Serve(t, sla, ret)
	c, err := ctl.New(ctl.Options{SLAAddr: slaAddr, RetrievalAddr: retAddr, Output: ctl.OutputJSON,
		Stdout: &strings.Builder{}, Stderr: &strings.Builder{}})
	require.NoError(t, err)
	defer c.Close()
	hi := 1.0
	err = c.SLAAdd(context.Background(), ctl.Objective{Name: "disk-write", Selector: "node_load1", Max: &hi})
	require.EqualError(t, err, `objectives[5].name: "disk-write" is used twice`)
}

func TestUnreachable(t *testing.T) {
	dead := ctltest.UnusedAddr(t)
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(c *ctl.Client) error
		want string
	}{
		{"sla manager", func(c *ctl.Client) error { return c.SLAGet(ctx) },
			"cannot reach the SLA manager at " + dead + ": start it with `slapipe slamanager` or set --sla-addr"},
		{"etl stream", func(c *ctl.Client) error { return c.ETLRun(ctx, nil) },
			"cannot reach the SLA manager at " + dead + ": start it with `slapipe slamanager` or set --sla-addr"},
		{"retrieval", func(c *ctl.Client) error { return c.Stats(ctx, ctl.Query{Metric: "node_load1"}) },
			"cannot reach the retrieval service at " + dead + ": start it with `slapipe dataretrieval` or set --retrieval-addr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			c, err := ctl.New(ctl.Options{SLAAddr: dead, RetrievalAddr: dead, Stdout: &out, Stderr: &out, Timeout: 5 * time.Second})
			require.NoError(t, err)
			defer c.Close()
			require.EqualError(t, tc.run(c), tc.want)
			require.Empty(t, out.String())
		})
	}
}

func TestSLAFileRoundTrip(t *testing.T) {
	// What `sla get -o json` prints is what `sla set --file` takes.
	h := newHarness(t, ctl.OutputJSON)
	require.NoError(t, h.c.SLAGet(context.Background()))
	dir := t.TempDir()
	path := filepath.Join(dir, "sla.json")
	require.NoError(t, os.WriteFile(path, h.stdout.Bytes(), 0o600))
	objs, err := ctl.ReadSLAFile(path, nil)
	require.NoError(t, err)
	require.Len(t, objs, 5)
	require.Equal(t, "memory-free", objs[1].Name)
	require.Equal(t, ctltest.MemFreeMin, *objs[1].Min)
	require.Nil(t, objs[1].Max)

	objs[1].Name = "memory-free-renamed"
	h.stdout.Reset()
	require.NoError(t, h.c.SLASet(context.Background(), objs))
	require.Equal(t, "memory-free-renamed", h.sla.Set.GetObjectives()[1].GetName())
	require.Equal(t, int64(2), h.sla.Set.GetVersion())
}

func TestReadSLAFile(t *testing.T) {
	cases := []struct {
		name, text, err string
		want            int
	}{
		{"yaml", "objectives:\n  - name: a\n    selector: node_load1\n    max: 4\n  - name: b\n    selector: up\n    min: 1\n    max: null\n", "", 2},
		{"json", `{"objectives": [{"name": "a", "selector": "node_load1", "min": null, "max": 4}], "version": 3}`, "", 1},
		{"budget", "objectives:\n  - {name: a, selector: up, min: 1, target: 0.999, budget_window_seconds: 86400}\n", "", 1},
		{"unknown key", "objectives: []\nobjective: []\n", `field objective not found`, 0},
		{"unknown objective key", "objectives:\n  - name: a\n    selector: up\n    maximum: 3\n", `field maximum not found`, 0},
		{"empty", "", "is empty", 0},
		{"no list", "version: 3\n", `no "objectives" list`, 0},
		{"not yaml", "{{{", "sla.yaml:", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sla.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.text), 0o600))
			objs, err := ctl.ReadSLAFile(path, nil)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				require.NotContains(t, err.Error(), "\n")
				return
			}
			require.NoError(t, err)
			require.Len(t, objs, tc.want)
		})
	}
}

func TestParseBound(t *testing.T) {
	cases := []struct {
		in   string
		want float64
		none bool
		err  bool
	}{
		{in: "", none: true},
		{in: "100e6", want: 100e6},
		{in: "256Mi", want: 268435456},
		{in: "1Gi", want: 1073741824},
		{in: "1.5k", want: 1500},
		{in: "2G", want: 2e9},
		{in: "-3", want: -3},
		{in: "abc", err: true},
		{in: "NaN", err: true},
		{in: "Inf", err: true},
		{in: "Mi", err: true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ctl.ParseBound(tc.in)
			switch {
			case tc.err:
				require.Error(t, err)
			case tc.none:
				require.NoError(t, err)
				require.Nil(t, got)
			default:
				require.NoError(t, err)
				require.Equal(t, tc.want, *got)
			}
		})
	}
}

func TestSLAChangeWarnings(t *testing.T) {
	// The manager saves an objective on a metric Prometheus does not know
	// but says so: tables print the warning on stderr, JSON carries it.
	const warning = `objectives[5].selector: prometheus has no metric "node_nope" (saved anyway)`
	hi := 1.0
	cases := []struct {
		name   string
		output string
		check  func(t *testing.T, stdout, stderr string)
	}{
		{"table", ctl.OutputTable, func(t *testing.T, stdout, stderr string) {
			require.Equal(t, "warning: "+warning+"\n", stderr)
			require.NotContains(t, stdout, "warning")
			require.NotEmpty(t, row(stdout, "nope-free", "node_nope"), "the set is printed:\n%s", stdout)
		}},
		{"json", ctl.OutputJSON, func(t *testing.T, stdout, stderr string) {
			require.Empty(t, stderr)
			var doc map[string]any
			require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
			require.Equal(t, []any{warning}, arr(t, obj(t, doc, "warnings", "objectives")["warnings"]))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.output)
			h.sla.Mu.Lock()
			h.sla.Warnings = []string{warning}
			h.sla.Mu.Unlock()
			require.NoError(t, h.c.SLAAdd(context.Background(), ctl.Objective{Name: "nope-free", Selector: "node_nope", Max: &hi}))
			tc.check(t, h.stdout.String(), h.stderr.String())
		})
	}
}
