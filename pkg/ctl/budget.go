package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// budgetJSON is the `budget -o json` document (and the "budget" field of
// `status -o json`).
type budgetJSON struct {
	Stale      bool                  `json:"stale"`
	AgeSeconds num                   `json:"age_seconds"`
	ComputedAt *string               `json:"computed_at"`
	Objectives []objectiveBudgetJSON `json:"objectives"`
}

// objectiveBudgetJSON is one objective's budget: that of its series that
// spent the most (metric and labels name it; series counts them all).
type objectiveBudgetJSON struct {
	Objective      string            `json:"objective"`
	Target         num               `json:"target"`
	WindowSeconds  int64             `json:"window_seconds"`
	BudgetSeconds  num               `json:"budget_seconds"`
	SpentSeconds   num               `json:"spent_seconds"`
	RemainingRatio num               `json:"remaining_ratio"`
	BurnRate5m     num               `json:"burn_rate_5m"`
	BurnRate30m    num               `json:"burn_rate_30m"`
	BurnRate1h     num               `json:"burn_rate_1h"`
	BurnRate6h     num               `json:"burn_rate_6h"`
	Exhaustion     *string           `json:"exhaustion"`
	Metric         string            `json:"metric"`
	Labels         map[string]string `json:"labels"`
	SeriesID       string            `json:"series_id"`
	Series         int               `json:"series"`
}

// worstBudgets keeps, per objective in first-seen order, the series that
// spent the most of its budget, with the number of series seen.
func worstBudgets(bs []*slapipev1.Budget) ([]*slapipev1.Budget, map[string]int) {
	var order []string
	worst := map[string]*slapipev1.Budget{}
	count := map[string]int{}
	for _, b := range bs {
		o := b.GetObjective()
		count[o]++
		w, ok := worst[o]
		if !ok {
			order = append(order, o)
		}
		if !ok || b.GetSpentSeconds() > w.GetSpentSeconds() {
			worst[o] = b
		}
	}
	out := make([]*slapipev1.Budget, len(order))
	for i, o := range order {
		out[i] = worst[o]
	}
	return out, count
}

func toBudgetJSON(r *slapipev1.GetBudgetResponse) budgetJSON {
	out := budgetJSON{Stale: r.GetStale(), AgeSeconds: num(r.GetAgeSeconds()), ComputedAt: timeJSON(r.GetComputedAt()),
		Objectives: []objectiveBudgetJSON{}}
	worst, count := worstBudgets(r.GetBudgets())
	for _, b := range worst {
		out.Objectives = append(out.Objectives, objectiveBudgetJSON{
			Objective: b.GetObjective(), Target: num(b.GetTarget()), WindowSeconds: b.GetWindowSeconds(),
			BudgetSeconds: num(b.GetBudgetSeconds()), SpentSeconds: num(b.GetSpentSeconds()),
			RemainingRatio: num(b.GetRemainingRatio()), BurnRate5m: num(b.GetBurnRate_5M()),
			BurnRate30m: num(b.GetBurnRate_30M()), BurnRate1h: num(b.GetBurnRate_1H()), BurnRate6h: num(b.GetBurnRate_6H()),
			Exhaustion: timeJSON(b.GetExhaustion()), Metric: b.GetMetric(), Labels: labelsJSON(b.GetLabels()),
			SeriesID: b.GetSeriesId(), Series: count[b.GetObjective()],
		})
	}
	return out
}

// Budget prints the error budget of every objective with a target.
func (c *Client) Budget(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	r, err := c.sla.GetBudget(ctx, &slapipev1.GetBudgetRequest{})
	if err != nil {
		return c.slaService().explain(err)
	}
	if c.json() {
		return writeJSON(c.opts.Stdout, toBudgetJSON(r))
	}
	_, err = io.WriteString(c.opts.Stdout, budgetTable(r))
	return err
}

func budgetTable(r *slapipev1.GetBudgetResponse) string {
	var b strings.Builder
	b.WriteString(staleNote(r.GetStale(), r.GetAgeSeconds()))
	worst, count := worstBudgets(r.GetBudgets())
	if len(worst) == 0 {
		b.WriteString("No error budget: give objectives a target (`slapipe ctl sla add --target 0.999`, or \"target\" in the SLA file)\n")
		return b.String()
	}
	t := newTable("OBJECTIVE", "TARGET", "WINDOW", "BUDGET", "SPENT", "REMAINING", "BURN 1H", "BURN 6H", "EXHAUSTION", "WORST SERIES")
	for _, x := range worst {
		series := cellLabels(x.GetLabels())
		if n := count[x.GetObjective()]; n > 1 {
			series += fmt.Sprintf(" (of %d)", n)
		}
		t.row(x.GetObjective(), fmtTarget(x.GetTarget()), fmtWindow(x.GetWindowSeconds()), fmtSeconds(x.GetBudgetSeconds()),
			fmtSeconds(x.GetSpentSeconds()), fmtPercent(x.GetRemainingRatio()), fmtNum(x.GetBurnRate_1H()),
			fmtNum(x.GetBurnRate_6H()), fmtExhaustion(x.GetExhaustion(), r), series)
	}
	b.WriteString(t.String())
	return b.String()
}

// fmtTarget renders a target as a percentage with the digits it needs
// (99.9%, 99.95%).
func fmtTarget(t float64) string {
	s := fmt.Sprintf("%.4f", 100*t)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// fmtWindow renders a budget window in days or hours.
func fmtWindow(sec int64) string {
	d := time.Duration(sec) * time.Second
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

// fmtExhaustion renders when the budget runs out: "-" when nothing burns,
// EXHAUSTED when already spent.
func fmtExhaustion(e *timestamppb.Timestamp, r *slapipev1.GetBudgetResponse) string {
	if e == nil {
		return "-"
	}
	if c := r.GetComputedAt(); c != nil && !e.AsTime().After(c.AsTime()) {
		return "EXHAUSTED"
	}
	return e.AsTime().Local().Format("2006-01-02 15:04")
}

// validateBudget checks target and budget window the way the SLA manager
// will; the error starts with the field.
func validateBudget(o Objective) error {
	if errs := toProto(o).BudgetProblems(""); len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// ParseBudget reads the --target ("0.999" or "99.9%") and --budget-window
// ("7d", "12h", Prometheus' duration syntax) flags; empty strings are
// absent. The error names the flag.
func ParseBudget(target, window string) (*float64, *int64, error) {
	var t *float64
	if target != "" {
		s, pct := strings.CutSuffix(strings.TrimSpace(target), "%")
		s = strings.TrimSpace(s)
		// Exact decimal arithmetic: 99.9% is the float nearest 0.999, not
		// 99.9/100 = 0.9990000000000001.
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return nil, nil, fmt.Errorf("invalid --target %q: give a share such as 0.999 or 99.9%%", target)
		}
		if pct {
			r.Quo(r, big.NewRat(100, 1))
		}
		v, _ := r.Float64()
		t = &v
	}
	var w *int64
	if window != "" {
		d, err := model.ParseDuration(window)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid --budget-window %q: give a duration such as 7d or 12h", window)
		}
		sec := int64(time.Duration(d) / time.Second)
		w = &sec
	}
	return t, w, nil
}
