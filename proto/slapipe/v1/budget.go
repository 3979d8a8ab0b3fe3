package slapipev1

// This file is hand-written, as contract.go: the error budget's facts that
// the SLA manager, ctl and the generated alerting rules share.

import (
	"fmt"
	"time"
)

// Budget windows: the default of an objective with a target, and the range
// budget_window_seconds may take (the SLA manager keeps the time out of
// range for the longest).
const (
	DefaultBudgetWindow = 7 * 24 * time.Hour
	MinBudgetWindow     = time.Hour
	MaxBudgetWindow     = 30 * 24 * time.Hour
)

// BurnWindows are the trailing windows burn rates are given over, shortest
// first: the short and long windows of the slow (30m, 6h) and fast (5m, 1h)
// alerts of the SRE workbook's multi-window, multi-burn-rate alerting.
// Budget.burn_rate_5m ... burn_rate_6h follow this order.
var BurnWindows = []Window{{"5m", 5 * time.Minute}, {"30m", 30 * time.Minute}, {"1h", time.Hour}, {"6h", 6 * time.Hour}}

// BudgetWindow is o's budget window: budget_window_seconds, or
// DefaultBudgetWindow when it is 0.
func (o *Objective) BudgetWindow() time.Duration {
	if s := o.GetBudgetWindowSeconds(); s > 0 {
		return time.Duration(s) * time.Second
	}
	return DefaultBudgetWindow
}

// BudgetProblems lists what is wrong with o's target and budget window,
// each message starting with the field ("target", or field+".target" when
// field is not empty) and naming the bad value.
func (o *Objective) BudgetProblems(field string) []string {
	name := func(f string) string {
		if field == "" {
			return f
		}
		return field + "." + f
	}
	var errs []string
	if o.Target != nil {
		if t := o.GetTarget(); !(t > 0 && t < 1) {
			errs = append(errs, fmt.Sprintf("%s: must be between 0 and 1, both excluded, e.g. 0.999 (got %g)", name("target"), t))
		}
	}
	if w := o.GetBudgetWindowSeconds(); w != 0 {
		lo, hi := int64(MinBudgetWindow/time.Second), int64(MaxBudgetWindow/time.Second)
		switch {
		case o.Target == nil:
			errs = append(errs, fmt.Sprintf("%s: needs a target (got a window of %d s and no target)", name("budget_window_seconds"), w))
		case w < lo || w > hi:
			errs = append(errs, fmt.Sprintf("%s: must be between %d (1h) and %d (30d) (got %d)", name("budget_window_seconds"), lo, hi, w))
		}
	}
	return errs
}
