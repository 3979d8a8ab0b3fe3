package slamanager

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// clockSource answers every Pull with one series whose value at time t is
// out(t) ? 200 : 50, on the step grid of the asked range: a history defined
// by absolute time, so pulls at different clocks see the same past.
type clockSource struct{ out func(t time.Time) bool }

func (c clockSource) Pull(_ context.Context, _ string, start, end time.Time, step time.Duration) ([]promSeries, error) {
	s := promSeries{ID: "s1", Metric: "m", Labels: map[string]string{"instance": "a"}, Start: start, Step: step}
	for t := start; !t.After(end); t = t.Add(step) {
		v := 50.0
		if c.out(t) {
			v = 200
		}
		s.Values = append(s.Values, v)
	}
	return []promSeries{s}, nil
}

// span is n samples at 5 s from start: n*5 seconds out of range.
type span struct {
	start time.Time
	n     int
}

func (s span) holds(t time.Time) bool {
	return !t.Before(s.start) && t.Before(s.start.Add(time.Duration(s.n)*testStep))
}

// TestBudgetKnownByConstruction builds a history with exactly 310 s out of
// range in a 1-day budget window, spread over two pulls 10 h apart (the
// oldest 100 s only in the first), and checks every budget figure on both
// store dialects: the long window comes from the stored minutes, not from
// the last pull.
func TestBudgetKnownByConstruction(t *testing.T) {
	for _, dialect := range []string{store.DialectSQLite, store.DialectMySQL} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "slapipe.db")
			if dialect == store.DialectMySQL {
				dsn = testenv.NewMySQLDatabase(t, testenv.MySQLDSN(t), "budget")
			}
			st, err := store.OpenMigrated(ctx, dsn)
			require.NoError(t, err)
			defer st.Close()

			t0 := testEnd
			t1 := t0.Add(10 * time.Hour)
			spans := []span{
				{t0.Add(-11*time.Hour + 7*time.Second), 20},    // 100 s, 21 h before t1: first pull only
				{t0.Add(-30 * time.Minute), 12},                // 60 s
				{t1.Add(-50*time.Minute + 10*time.Second), 24}, // 120 s: last hour
				{t1.Add(-3 * time.Minute), 6},                  // 30 s: last 5 minutes
				{t1.Add(-26 * time.Hour), 40},                  // 200 s, outside the day
			}
			src := clockSource{out: func(t time.Time) bool {
				for _, s := range spans {
					if s.holds(t) {
						return true
					}
				}
				return false
			}}
			_, err = st.SaveSLA(ctx, []*slapipev1.Objective{{Name: "o", Selector: "m", Max: proto.Float64(100),
				Target: proto.Float64(0.99), BudgetWindowSeconds: 86400}}, "test")
			require.NoError(t, err)

			now := t0
			reg := prometheus.NewPedanticRegistry()
			m, err := New(Config{}, Deps{Store: st, Source: src, Registerer: reg})
			require.NoError(t, err)
			m.now = func() time.Time { return now }
			_, err = m.GetBudget(ctx, &slapipev1.GetBudgetRequest{})
			require.NoError(t, err)
			now = t1
			got, err := m.GetBudget(ctx, &slapipev1.GetBudgetRequest{})
			require.NoError(t, err)

			// Budget 1% of a day = 864 s; spent 100+60+120+30 = 310 s. Out
			// in the last 5m: 30 s, 30m: 30 s, 1h: 150 s, 6h: 150 s. At
			// 150 s per hour the 554 s left last 13296 s.
			require.Len(t, got.Budgets, 1)
			b := got.Budgets[0]
			require.Equal(t, "o", b.Objective)
			require.Equal(t, map[string]string{"instance": "a"}, b.Labels)
			require.Equal(t, int64(86400), b.WindowSeconds)
			require.InDelta(t, 864, b.BudgetSeconds, 1e-9)
			require.InDelta(t, 310, b.SpentSeconds, 1e-9)
			require.InDelta(t, 1-310.0/864, b.RemainingRatio, 1e-12)
			require.InDelta(t, 30.0/300/0.01, b.BurnRate_5M, 1e-9)
			require.InDelta(t, 30.0/1800/0.01, b.BurnRate_30M, 1e-9)
			require.InDelta(t, 150.0/3600/0.01, b.BurnRate_1H, 1e-9)
			require.InDelta(t, 150.0/21600/0.01, b.BurnRate_6H, 1e-9)
			require.NotNil(t, b.Exhaustion)
			require.Equal(t, t1.Add(13296*time.Second), b.Exhaustion.AsTime())

			// The same figures on /metrics.
			m.evaluate(ctx)
			const ls = `instance="a",metric="m",objective="o"`
			gauges := gatherGauges(t, reg)
			for name, want := range map[string]float64{
				`slapipe_sla_budget_burn_rate{` + ls + `,window="5m"}`:        10,
				`slapipe_sla_budget_burn_rate{` + ls + `,window="30m"}`:       30.0 / 18,
				`slapipe_sla_budget_burn_rate{` + ls + `,window="1h"}`:        150.0 / 36,
				`slapipe_sla_budget_burn_rate{` + ls + `,window="6h"}`:        150.0 / 216,
				`slapipe_sla_budget_exhaustion_timestamp_seconds{` + ls + `}`: float64(t1.Unix() + 13296),
				`slapipe_sla_budget_remaining_ratio{` + ls + `}`:              1 - 310.0/864,
				`slapipe_sla_budget_seconds{` + ls + `}`:                      864,
				`slapipe_sla_budget_spent_seconds{` + ls + `}`:                310,
			} {
				require.Contains(t, gauges, name)
				require.InDelta(t, want, gauges[name], 1e-9, name)
			}

			// A restarted manager recounts its whole pull: same figures.
			m2, err := New(Config{}, Deps{Store: st, Source: src})
			require.NoError(t, err)
			m2.now = m.now
			again, err := m2.GetBudget(ctx, &slapipev1.GetBudgetRequest{})
			require.NoError(t, err)
			require.InDelta(t, 310, again.Budgets[0].SpentSeconds, 1e-9)

			// Overspent: a bound every sample breaks recounts the last 12 h
			// (43200 s out) and the budget is exhausted now.
			_, err = m2.SetSLA(ctx, &slapipev1.SetSLARequest{Objectives: []*slapipev1.Objective{{Name: "o", Selector: "m",
				Max: proto.Float64(10), Target: proto.Float64(0.99), BudgetWindowSeconds: 86400}}})
			require.NoError(t, err)
			over, err := m2.GetBudget(ctx, &slapipev1.GetBudgetRequest{})
			require.NoError(t, err)
			ob := over.Budgets[0]
			// 12 h recounted (the pull's complete minutes: 720 of them,
			// 43200 s) plus the first pull's 100 s 21 h ago.
			require.InDelta(t, 43200+100, ob.SpentSeconds, 1e-9)
			require.Less(t, ob.RemainingRatio, 0.0)
			require.InDelta(t, 100, ob.BurnRate_1H, 1e-9, "always out: 1/(1-0.99)")
			require.Equal(t, t1, ob.Exhaustion.AsTime())
		})
	}
}

func TestValidateBudget(t *testing.T) {
	base := func(target *float64, window int64) *slapipev1.Objective {
		return &slapipev1.Objective{Name: "o", Selector: "m", Max: proto.Float64(1), Target: target, BudgetWindowSeconds: window}
	}
	cases := []struct {
		name string
		o    *slapipev1.Objective
		want string // "" = valid
	}{
		{"no budget", base(nil, 0), ""},
		{"target, default window", base(proto.Float64(0.999), 0), ""},
		{"target and 30d", base(proto.Float64(0.9), 30*86400), ""},
		{"target 1", base(proto.Float64(1), 0), "objectives[0].target: must be between 0 and 1, both excluded, e.g. 0.999 (got 1)"},
		{"target 0", base(proto.Float64(0), 0), "objectives[0].target: must be between 0 and 1"},
		{"window without target", base(nil, 3600), "objectives[0].budget_window_seconds: needs a target"},
		{"window too short", base(proto.Float64(0.9), 60), "objectives[0].budget_window_seconds: must be between 3600 (1h) and 2592000 (30d) (got 60)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ValidateObjectives([]*slapipev1.Objective{c.o})
			if c.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, c.want)
		})
	}
}

// gatherGauges reads every gauge of reg as name{labels} -> value, labels
// sorted by name as the exposition writes them.
func gatherGauges(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetGauge() == nil {
				continue
			}
			var ls []string
			for _, lp := range m.GetLabel() {
				ls = append(ls, lp.GetName()+"="+strconv.Quote(lp.GetValue()))
			}
			key := mf.GetName()
			if len(ls) > 0 {
				key += "{" + strings.Join(ls, ",") + "}"
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestObjectiveKeyByValue: the same objective read twice from the store
// (fresh pointers for its bounds) has one key, so the minutes already
// stored are not all rewritten at every evaluation; a changed or dropped
// bound has another.
func TestObjectiveKeyByValue(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	a := &slapipev1.Objective{Name: "cpu", Selector: "node_load1", Min: f(0), Max: f(1.5)}
	b := &slapipev1.Objective{Name: "cpu", Selector: "node_load1", Min: f(0), Max: f(1.5)}
	require.Equal(t, objectiveKey(a), objectiveKey(b))
	for name, o := range map[string]*slapipev1.Objective{
		"max changed": {Name: "cpu", Selector: "node_load1", Min: f(0), Max: f(2)},
		"min dropped": {Name: "cpu", Selector: "node_load1", Max: f(1.5)},
		"min is max":  {Name: "cpu", Selector: "node_load1", Max: f(0), Min: f(1.5)},
	} {
		require.NotEqual(t, objectiveKey(a), objectiveKey(o), name)
	}
}
