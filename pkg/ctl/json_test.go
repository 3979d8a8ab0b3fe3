package ctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/pkg/ctl"
	"github.com/slapipe/slapipe/pkg/ctl/ctltest"
	"github.com/slapipe/slapipe/pkg/promsource"
)

type harness struct {
	c              *ctl.Client
	sla            *ctltest.SLA
	ret            *ctltest.Retrieval
	stdout, stderr *bytes.Buffer
}

func newHarness(t *testing.T, output string) *harness {
	t.Helper()
	h := &harness{sla: ctltest.NewSLA(), ret: ctltest.NewRetrieval(), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	slaAddr, retAddr := ctltest.Serve(t, h.sla, h.ret)
	c, err := ctl.New(ctl.Options{SLAAddr: slaAddr, RetrievalAddr: retAddr, Output: output,
		Stdout: h.stdout, Stderr: h.stderr, Timeout: 5 * time.Second,
		// The validator `slapipe ctl` is built with, so the tests see its
		// verdicts and messages.
		ValidateSelector: func(s string) error {
			_, _, err := promsource.ParseSelector(s)
			return err
		}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	h.c = c
	return h
}

// obj asserts v is a JSON object with at least the keys and returns it.
func obj(t *testing.T, v any, keys ...string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	require.Truef(t, ok, "want an object, got %T (%v)", v, v)
	for _, k := range keys {
		require.Containsf(t, m, k, "key %q missing in %v", k, m)
	}
	return m
}

func arr(t *testing.T, v any) []any {
	t.Helper()
	a, ok := v.([]any)
	require.Truef(t, ok, "want an array, got %T (%v)", v, v)
	return a
}

func isNum(t *testing.T, v any, what string) float64 {
	t.Helper()
	n, ok := v.(float64)
	require.Truef(t, ok, "%s: want a number, got %T (%v)", what, v, v)
	return n
}

func isRFC3339(t *testing.T, v any, what string) {
	t.Helper()
	s, ok := v.(string)
	require.Truef(t, ok, "%s: want a string time, got %T", what, v)
	_, err := time.Parse(time.RFC3339, s)
	require.NoErrorf(t, err, "%s: %q is not RFC 3339", what, s)
}

func labelsOK(t *testing.T, v any) map[string]any {
	t.Helper()
	m := obj(t, v)
	require.NotContains(t, m, "__name__")
	for k, x := range m {
		_, ok := x.(string)
		require.Truef(t, ok, "label %s: want a string, got %T", k, x)
	}
	return m
}

func TestJSONShapes(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		run   func(c *ctl.Client) error
		check func(t *testing.T, doc map[string]any)
	}{
		{"sla get", func(c *ctl.Client) error { return c.SLAGet(ctx) }, func(t *testing.T, doc map[string]any) {
			objs := arr(t, obj(t, doc, "objectives")["objectives"])
			require.Len(t, objs, 5)
			for _, o := range objs {
				m := obj(t, o, "name", "selector", "min", "max")
				require.IsType(t, "", m["name"])
				require.IsType(t, "", m["selector"])
			}
			mem := obj(t, objs[1])
			require.Equal(t, "memory-free", mem["name"])
			require.Equal(t, ctltest.MemFreeMin, isNum(t, mem["min"], "min"))
			require.Nil(t, mem["max"], "absent bound must be null")
			require.Equal(t, 0.995, isNum(t, mem["target"], "target"))
			require.Equal(t, float64(7*86400), isNum(t, mem["budget_window_seconds"], "the default window, explicit"))
			disk := obj(t, objs[0], "target", "budget_window_seconds")
			require.Nil(t, disk["target"], "no target: null")
			require.Nil(t, disk["budget_window_seconds"], "no target: no window")
		}},
		{"budget", func(c *ctl.Client) error { return c.Budget(ctx) }, func(t *testing.T, doc map[string]any) {
			objs := arr(t, obj(t, doc, "objectives")["objectives"])
			require.Len(t, objs, 1, "one row per objective")
			b := obj(t, objs[0], "objective", "target", "window_seconds", "budget_seconds", "spent_seconds",
				"remaining_ratio", "burn_rate_1h", "burn_rate_6h", "exhaustion", "labels", "series")
			require.Equal(t, ctltest.ViolatedObjective, b["objective"])
			require.Equal(t, 0.995, isNum(t, b["target"], "target"))
			require.Equal(t, float64(604800), isNum(t, b["window_seconds"], "window_seconds"))
			require.Equal(t, float64(3024), isNum(t, b["budget_seconds"], "budget_seconds"))
			require.Equal(t, ctltest.BudgetSpent, isNum(t, b["spent_seconds"], "the worst series' spending"))
			require.Equal(t, 0.5, isNum(t, b["remaining_ratio"], "remaining_ratio"))
			require.Equal(t, float64(24), isNum(t, b["burn_rate_1h"], "burn_rate_1h"))
			require.Equal(t, float64(8), isNum(t, b["burn_rate_6h"], "burn_rate_6h"))
			require.Equal(t, ctltest.BudgetExhausted, b["exhaustion"])
			require.Equal(t, map[string]any{"instance": "backfill:9100"}, labelsOK(t, b["labels"]))
			require.Equal(t, float64(2), isNum(t, b["series"], "series counted"))
		}},
		{"violations", func(c *ctl.Client) error { return c.Violations(ctx, "") }, func(t *testing.T, doc map[string]any) {
			obj(t, doc, "stale", "windows")
			require.Equal(t, false, doc["stale"])
			windows := obj(t, doc["windows"], "1h", "3h", "12h")
			for w, rows := range windows {
				for _, r := range arr(t, rows) {
					row := obj(t, r, "objective", "metric", "labels", "samples", "samples_out", "episodes", "seconds_out", "compliance", "worst")
					labelsOK(t, row["labels"])
					c := isNum(t, row["compliance"], "compliance")
					require.Truef(t, c >= 0 && c <= 1, "%s compliance %v outside [0,1]", w, c)
				}
			}
			var mem map[string]any
			for _, r := range arr(t, windows["1h"]) {
				if obj(t, r)["objective"] == ctltest.ViolatedObjective {
					mem = obj(t, r)
				}
			}
			require.NotNil(t, mem, "violated objective missing from 1h")
			require.Equal(t, float64(ctltest.ViolatedSamples), mem["samples"])
			require.Equal(t, float64(ctltest.ViolatedOut), mem["samples_out"])
			require.Equal(t, float64(ctltest.ViolatedEpisodes), mem["episodes"])
			require.Equal(t, 300.0, mem["seconds_out"])
			require.InDelta(t, ctltest.ViolatedCompl, mem["compliance"], 1e-12)
			isRFC3339(t, mem["worst_at"], "worst_at")
		}},
		{"violations --window 1h", func(c *ctl.Client) error { return c.Violations(ctx, "1h") }, func(t *testing.T, doc map[string]any) {
			windows := obj(t, doc["windows"], "1h")
			require.Len(t, windows, 1)
			// A row without samples has no worst value: null, not NaN.
			found := false
			for _, r := range arr(t, windows["1h"]) {
				if row := obj(t, r); row["samples"] == 0.0 {
					require.Nil(t, row["worst"])
					found = true
				}
			}
			require.True(t, found)
		}},
		{"prediction", func(c *ctl.Client) error { return c.Predictions(ctx) }, func(t *testing.T, doc map[string]any) {
			obj(t, doc, "stale", "horizon_seconds", "predictions")
			require.Equal(t, 600.0, doc["horizon_seconds"])
			ps := arr(t, doc["predictions"])
			require.Len(t, ps, 2)
			for _, p := range ps {
				m := obj(t, p, "objective", "metric", "labels", "probability", "min", "max", "mean", "first_crossing")
				labelsOK(t, m["labels"])
				pr := isNum(t, m["probability"], "probability")
				require.True(t, pr >= 0 && pr <= 1)
			}
			first := obj(t, ps[0])
			require.Equal(t, ctltest.PredictedCrossing, first["first_crossing"])
			require.Nil(t, obj(t, ps[1])["first_crossing"], "no crossing expected must be null")
		}},
		{"stats", func(c *ctl.Client) error { return c.Stats(ctx, ctl.Query{Metric: "node_disk_written_bytes_total"}) }, func(t *testing.T, doc map[string]any) {
			obj(t, doc, "run_id", "computed_at", "series")
			require.Equal(t, ctltest.RunID, doc["run_id"])
			isRFC3339(t, doc["computed_at"], "computed_at")
			series := arr(t, doc["series"])
			require.Len(t, series, 2)
			for _, s := range series {
				m := obj(t, s, "metric", "labels", "transform", "windows")
				require.Equal(t, "rate", m["transform"])
				labelsOK(t, m["labels"])
				ws := obj(t, m["windows"], "1h", "3h", "12h")
				for _, w := range ws {
					wm := obj(t, w, "samples", "min", "max", "mean", "stddev")
					for _, k := range []string{"samples", "min", "max", "mean", "stddev"} {
						isNum(t, wm[k], k)
					}
				}
			}
			sda := obj(t, obj(t, obj(t, series[0])["windows"])["1h"])
			require.Equal(t, 720.0, sda["samples"])
			require.Equal(t, 1e6, sda["min"])
		}},
		{"metadata", func(c *ctl.Client) error { return c.Metadata(ctx, ctl.Query{Metric: "node_disk_written_bytes_total"}) }, func(t *testing.T, doc map[string]any) {
			series := arr(t, obj(t, doc, "run_id", "computed_at", "series")["series"])
			sda := obj(t, series[0], "metric", "labels", "adf", "acf", "seasonality", "season_check")
			check := obj(t, sda["season_check"], "period", "candidate", "cycles", "z", "agreement", "strength", "reason")
			require.Equal(t, 0.0, check["period"])
			require.Equal(t, 150.0, check["candidate"])
			require.Equal(t, 0.55, check["agreement"])
			require.Equal(t, "cycles disagree: a one-off event, not a season", check["reason"])
			adf := obj(t, sda["adf"], "statistic", "pvalue", "used_lag", "nobs", "critical_values", "ic_best", "stationary")
			obj(t, adf["critical_values"], "1%", "5%", "10%")
			require.Equal(t, false, adf["stationary"])
			require.Len(t, arr(t, sda["acf"]), 3)
			require.Nil(t, sda["seasonality"])
			constant := obj(t, series[1])
			require.Nil(t, constant["adf"], "constant series: adf null")
			require.Nil(t, constant["acf"], "constant series: acf null")
		}},
		{"forecast", func(c *ctl.Client) error {
			return c.Forecast(ctx, ctl.Query{Metric: "node_memory_MemFree_bytes"})
		}, func(t *testing.T, doc map[string]any) {
			series := arr(t, obj(t, doc, "run_id", "series")["series"])
			require.Len(t, series, 1)
			s := obj(t, series[0], "metric", "labels", "model", "interval", "non_negative", "history", "points", "predicted_min", "predicted_max", "predicted_mean")
			require.Equal(t, "empirical", s["interval"])
			require.Equal(t, true, s["non_negative"])
			hist := arr(t, s["history"])
			require.Len(t, hist, 240)
			last := obj(t, hist[239], "time", "value")
			require.Equal(t, ctltest.Now.Format(time.RFC3339), last["time"], "the last history sample is at range_end")
			pts := arr(t, s["points"])
			require.Len(t, pts, 120)
			p := obj(t, pts[0], "time", "mean", "lower", "upper")
			isRFC3339(t, p["time"], "time")
			require.Less(t, isNum(t, p["lower"], "lower"), isNum(t, p["upper"], "upper"))
		}},
		{"metrics", func(c *ctl.Client) error { return c.Metrics(ctx, "", false) }, func(t *testing.T, doc map[string]any) {
			ms := arr(t, obj(t, doc, "metrics")["metrics"])
			require.Len(t, ms, 2)
			for _, m := range ms {
				mm := obj(t, m, "name", "type", "help", "series")
				isNum(t, mm["series"], "series")
			}
			require.Equal(t, "gauge", obj(t, ms[0])["type"])
		}},
		{"metrics --stored", func(c *ctl.Client) error { return c.Metrics(ctx, "", true) }, func(t *testing.T, doc map[string]any) {
			ms := arr(t, obj(t, doc, "metrics")["metrics"])
			require.Len(t, ms, 2)
			disk := obj(t, ms[0], "name", "type", "help", "series")
			require.Equal(t, "node_disk_written_bytes_total", disk["name"])
			require.Equal(t, 2.0, disk["series"])
		}},
		{"etl run", func(c *ctl.Client) error { return c.ETLRun(ctx, nil) }, func(t *testing.T, doc map[string]any) {
			obj(t, doc, "run_id", "status", "series", "seconds")
			require.Equal(t, ctltest.RunID, doc["run_id"])
			require.Equal(t, "succeeded", doc["status"])
			require.Equal(t, 3.0, doc["series"])
			require.Equal(t, 1.8, doc["seconds"])
		}},
		{"runs", func(c *ctl.Client) error { return c.Runs(ctx, 0) }, func(t *testing.T, doc map[string]any) {
			runs := arr(t, obj(t, doc, "runs")["runs"])
			require.Len(t, runs, 2)
			r := obj(t, runs[0], "run_id", "status", "series", "seconds", "started_at", "finished_at")
			isRFC3339(t, r["started_at"], "started_at")
			require.Equal(t, "failed", obj(t, runs[1])["status"])
		}},
		{"status", func(c *ctl.Client) error { return c.Status(ctx) }, func(t *testing.T, doc map[string]any) {
			obj(t, doc, "sla", "violations", "predictions", "budget", "last_run")
			require.Len(t, arr(t, obj(t, doc["budget"], "objectives")["objectives"]), 1)
			obj(t, doc["sla"], "objectives")
			obj(t, doc["violations"], "stale", "windows")
			obj(t, doc["predictions"], "stale", "horizon_seconds", "predictions")
			require.Equal(t, ctltest.RunID, obj(t, doc["last_run"])["run_id"])
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ctl.OutputJSON)
			require.NoError(t, tc.run(h.c))
			var doc map[string]any
			require.NoErrorf(t, json.Unmarshal(h.stdout.Bytes(), &doc), "stdout is not one JSON object: %s", h.stdout)
			tc.check(t, doc)
			if tc.name != "etl run" {
				require.Empty(t, h.stderr.String())
			}
		})
	}
}

func TestETLProgressPlainLines(t *testing.T) {
	h := newHarness(t, ctl.OutputJSON)
	require.NoError(t, h.c.ETLRun(context.Background(), []string{`node_load1{job="node"}`}))
	lines := strings.Split(strings.TrimSpace(h.stderr.String()), "\n")
	// One line per stage start and per tenth of it: 0/3, 1/3, 2/3, 3/3 for
	// each of the three stages.
	require.Len(t, lines, 12, "stderr: %s", h.stderr)
	require.Contains(t, lines[0], "etl: pull 0/3")
	require.Contains(t, lines[11], "etl: publish 3/3")
	require.Equal(t, []string{`node_load1{job="node"}`}, h.sla.ETLSelectors)
}
