package ctl_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/ctl"
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
		require.InDelta(t, c.wantT, *tp, 1e-12)
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
		{ctl.Objective{Name: "a", Selector: "up", Min: f(1), BudgetWindowSeconds: i(3600)}, "budget_window_seconds: give a target too"},
		{ctl.Objective{Name: "a", Selector: "up", Min: f(1), Target: f(0.9), BudgetWindowSeconds: i(60)}, "between 1h and 30d (got 1m0s)"},
	}
	for _, c := range cases {
		h := newHarness(t, ctl.OutputTable)
		err := h.c.SLAAdd(context.Background(), c.o)
		require.ErrorIs(t, err, ctl.ErrUsage)
		require.ErrorContains(t, err, c.err)
		require.Len(t, h.sla.Set.GetObjectives(), 5, "nothing sent")
	}
}
