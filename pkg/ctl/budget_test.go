package ctl_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/slapipe/slapipe/pkg/ctl"
	"github.com/slapipe/slapipe/pkg/rules"
)

func TestParseBudget(t *testing.T) {
	cases := []struct {
		target, window string
		wantT          float64
		wantW          int64
		err            string
	}{
		{"0.999", "", 0.999, 0, ""},
		{"99.9%", "30d", 0.999, 30 * 86400, ""},
		{"0.99", "12h", 0.99, 43200, ""},
		{"99.95 %", "", 0.9995, 0, ""},
		{"ninety", "", 0, 0, `invalid --target "ninety"`},
		{"0.9", "a week", 0, 0, `invalid --budget-window "a week"`},
	}
	for _, c := range cases {
		tp, wp, err := ctl.ParseBudget(c.target, c.window)
		if c.err != "" {
			require.ErrorContains(t, err, c.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, c.wantT, *tp, "exactly the float of the decimal")
		if c.window == "" {
			require.Nil(t, wp)
		} else {
			require.Equal(t, c.wantW, *wp)
		}
	}
}

func TestBudgetRefusedBeforeTheCall(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	i := func(v int64) *int64 { return &v }
	cases := []struct {
		o   ctl.Objective
		err string
	}{
		{ctl.Objective{Name: "a", Selector: "up", Min: f(1), Target: f(1.5)}, "target: must be between 0 and 1"},
		{ctl.Objective{Name: "a", Selector: "up", Min: f(1), BudgetWindowSeconds: i(3600)}, "budget_window_seconds: needs a target"},
		{ctl.Objective{Name: "a", Selector: "up", Min: f(1), Target: f(0.9), BudgetWindowSeconds: i(60)}, "budget_window_seconds: must be between 3600 (1h) and 2592000 (30d) (got 60)"},
	}
	for _, c := range cases {
		h := newHarness(t, ctl.OutputTable)
		err := h.c.SLAAdd(context.Background(), c.o)
		require.ErrorIs(t, err, ctl.ErrUsage)
		require.ErrorContains(t, err, c.err)
		require.Len(t, h.sla.Set.GetObjectives(), 5, "nothing sent")
	}
}

// TestRules prints the rules of the fake manager's set: one group per
// objective, budget burn alerts only for the objective with a target, and
// the unit tests written next to them.
func TestRules(t *testing.T) {
	h := newHarness(t, ctl.OutputTable)
	tests := filepath.Join(t.TempDir(), "rules.test.yml")
	require.NoError(t, h.c.Rules(context.Background(), ctl.RulesOptions{TestsPath: tests, RuleFile: "rules.yml"}))
	var doc struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(h.stdout.Bytes(), &doc), h.stdout.String())
	require.Len(t, doc.Groups, 5)
	require.Equal(t, "slapipe-sla-memory-free", doc.Groups[1].Name)
	require.Len(t, doc.Groups[1].Rules, 4, "memory-free has a target: two burn alerts more")
	require.Len(t, doc.Groups[0].Rules, 2)
	require.Equal(t, `slapipe_sla_out_of_range{objective="memory-free"} == 1`, doc.Groups[1].Rules[1].Expr)
	b, err := os.ReadFile(tests)
	require.NoError(t, err)
	require.Contains(t, string(b), "rule_files:\n  - rules.yml\n")

	err = h.c.Rules(context.Background(), ctl.RulesOptions{Config: rules.Config{Probability: 2}})
	require.ErrorIs(t, err, ctl.ErrUsage)
}
