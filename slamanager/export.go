package slamanager

import (
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Labels of the slapipe_sla_* series besides the series' own labels.
const (
	labelObjective = "objective"
	labelMetric    = "metric"
	labelWindow    = "window"
	labelKind      = "kind"
	// exportedPrefix renames a series label that collides with one of ours,
	// as Prometheus renames a target's colliding labels.
	exportedPrefix = "exported_"
)

// MaxExportedSeries bounds the series (objective and series pairs) each
// slapipe_sla_* family carries, so one broad selector cannot flood the
// scrape; the ones left out are counted in slapipe_sla_series_omitted.
const MaxExportedSeries = 1000

// family is one slapipe_sla_* metric family: one fact, documented in
// docs/cli.md.
type family struct {
	name, help string
	// desc has no variable labels: the registry identifies a descriptor by
	// name and constant labels only, so the collector stays checked (and a
	// second manager in the process reuses the first one's) while each
	// metric carries its series' own label names.
	desc *prometheus.Desc
}

func newFamily(name, help string) *family {
	return &family{name: name, help: help, desc: prometheus.NewDesc(name, help, nil, nil)}
}

// with is the family's descriptor for the given variable label names.
func (f *family) with(names []string) *prometheus.Desc {
	return prometheus.NewDesc(f.name, f.help, names, nil)
}

var (
	famCompliance = newFamily("slapipe_sla_compliance_ratio",
		"Share of the window's samples inside the objective's bounds, per objective, series and window ("+slapipev1.WindowNames(false)+").")
	famSecondsOut = newFamily("slapipe_sla_out_of_range_seconds",
		"Seconds out of the objective's bounds within the window (samples out times the step), per objective, series and window.")
	famOutNow = newFamily("slapipe_sla_out_of_range",
		"1 when the series' latest sample is outside the objective's bounds, else 0.")
	famProbability = newFamily("slapipe_sla_violation_probability",
		"Probability that the series leaves the objective's bounds within the prediction horizon ("+strconv.Itoa(int(slapipev1.ForecastHorizon.Seconds()))+" s), from the latest stored forecast.")
	famCrossing = newFamily("slapipe_sla_first_crossing_seconds",
		"Seconds from now to the first forecast point outside the bounds (0 when already past); absent when the forecast stays inside.")
	famAge = newFamily("slapipe_sla_evaluation_age_seconds",
		"Age of what the slapipe_sla_* series show, by kind: violations (counted from Prometheus), predictions (the forecast they come from).")
	famBudget = newFamily("slapipe_sla_budget_seconds",
		"Error budget: the time out of range the objective's target allows over its budget window.")
	famSpent = newFamily("slapipe_sla_budget_spent_seconds",
		"Time out of range within the budget window.")
	famRemaining = newFamily("slapipe_sla_budget_remaining_ratio",
		"1 - spent/budget: 1 untouched, 0 spent, negative overspent.")
	famBurn = newFamily("slapipe_sla_budget_burn_rate",
		"Share of time out of range over the trailing window (5m, 30m, 1h, 6h) divided by the share the target allows.")
	famExhaustion = newFamily("slapipe_sla_budget_exhaustion_timestamp_seconds",
		"When the remaining budget is spent at the 1 h burn rate (Unix seconds); absent when nothing burns.")
	famOmitted = newFamily("slapipe_sla_series_omitted",
		"Objective and series pairs left out of the slapipe_sla_* families by the export limit.")
)

var families = []*family{famCompliance, famSecondsOut, famOutNow, famProbability, famCrossing, famAge,
	famBudget, famSpent, famRemaining, famBurn, famExhaustion, famOmitted}

// slaCollector exports the latest evaluation. Its series are rebuilt from
// the latest answers at every scrape, so series that left an answer (a
// removed objective, a vanished series) disappear with it.
type slaCollector struct {
	step time.Duration
	now  func() time.Time

	mu     sync.Mutex
	viol   *slapipev1.GetViolationsResponse
	pred   *slapipev1.GetPredictionsResponse
	budget *slapipev1.GetBudgetResponse
}

func (c *slaCollector) setBudget(b *slapipev1.GetBudgetResponse) {
	c.mu.Lock()
	c.budget = b
	c.mu.Unlock()
}

func (c *slaCollector) setViolations(v *slapipev1.GetViolationsResponse) {
	c.mu.Lock()
	c.viol = v
	c.mu.Unlock()
}

func (c *slaCollector) setPredictions(p *slapipev1.GetPredictionsResponse) {
	c.mu.Lock()
	c.pred = p
	c.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *slaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
}

// Collect implements prometheus.Collector.
func (c *slaCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	viol, pred, budget := c.viol, c.pred, c.budget
	c.mu.Unlock()
	now := c.now()
	lim := &seriesLimit{seen: map[string]bool{}, omitted: map[string]bool{}}
	emit := func(f *family, v float64, names, values []string) {
		m, err := prometheus.NewConstMetric(f.with(names), prometheus.GaugeValue, v, values...)
		if err != nil {
			// A label name the client library refuses: that metric is
			// reported as invalid, the others still go out.
			ch <- prometheus.NewInvalidMetric(f.desc, err)
			return
		}
		ch <- m
	}
	if viol != nil {
		end := alignDown(viol.GetComputedAt().AsTime(), c.step)
		for _, w := range viol.GetWindows() {
			for _, r := range w.GetRows() {
				names, values, ok := lim.labels(r.GetObjective(), r.GetMetric(), r.GetLabels())
				if !ok {
					continue
				}
				wn, wv := append(slices.Clip(names), labelWindow), append(slices.Clip(values), w.GetWindow())
				emit(famCompliance, r.GetCompliance(), wn, wv)
				emit(famSecondsOut, r.GetSecondsOut(), wn, wv)
				if w.GetWindow() == slapipev1.Windows[0].Name {
					out := 0.0
					if lv := r.GetLastViolation(); lv != nil && !lv.AsTime().Before(end) {
						out = 1
					}
					emit(famOutNow, out, names, values)
				}
			}
		}
		emit(famAge, max(0, now.Sub(viol.GetComputedAt().AsTime()).Seconds()), []string{labelKind}, []string{"violations"})
	}
	if pred != nil {
		for _, p := range pred.GetPredictions() {
			names, values, ok := lim.labels(p.GetObjective(), p.GetMetric(), p.GetLabels())
			if !ok {
				continue
			}
			emit(famProbability, p.GetProbability(), names, values)
			if fc := p.GetFirstCrossing(); fc != nil {
				emit(famCrossing, max(0, fc.AsTime().Sub(now).Seconds()), names, values)
			}
		}
		if ts := pred.GetComputedAt(); ts != nil {
			emit(famAge, max(0, now.Sub(ts.AsTime()).Seconds()), []string{labelKind}, []string{"predictions"})
		}
	}
	for _, b := range budget.GetBudgets() {
		names, values, ok := lim.labels(b.GetObjective(), b.GetMetric(), b.GetLabels())
		if !ok {
			continue
		}
		emit(famBudget, b.GetBudgetSeconds(), names, values)
		emit(famSpent, b.GetSpentSeconds(), names, values)
		emit(famRemaining, b.GetRemainingRatio(), names, values)
		for i, v := range []float64{b.GetBurnRate_5M(), b.GetBurnRate_30M(), b.GetBurnRate_1H(), b.GetBurnRate_6H()} {
			emit(famBurn, v, append(slices.Clip(names), labelWindow), append(slices.Clip(values), slapipev1.BurnWindows[i].Name))
		}
		if e := b.GetExhaustion(); e != nil {
			emit(famExhaustion, float64(e.AsTime().UnixMilli())/1e3, names, values)
		}
	}
	emit(famOmitted, float64(len(lim.omitted)), nil, nil)
}

// seriesLimit admits at most MaxExportedSeries distinct objective and series
// pairs per scrape and counts the others.
type seriesLimit struct {
	seen, omitted map[string]bool
}

// labels returns the label names and values of one objective's series:
// objective, metric, then the series' labels sorted by name (a series label
// named like one of ours gets the exported_ prefix). ok is false when the
// pair is over the limit.
func (l *seriesLimit) labels(objective, metric string, ls map[string]string) (names, values []string, ok bool) {
	key := objective + "\x00" + labelKey(ls)
	if !l.seen[key] {
		if len(l.seen) >= MaxExportedSeries {
			l.omitted[key] = true
			return nil, nil, false
		}
		l.seen[key] = true
	}
	names = append(make([]string, 0, len(ls)+3), labelObjective, labelMetric)
	values = append(make([]string, 0, len(ls)+3), objective, metric)
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := k
		switch k {
		case labelObjective, labelMetric, labelWindow, labelKind:
			n = exportedPrefix + k
		}
		names, values = append(names, n), append(values, ls[k])
	}
	return names, values, true
}
