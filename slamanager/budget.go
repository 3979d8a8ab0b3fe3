package slamanager

import (
	"context"
	"fmt"
	"math"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Error budget bookkeeping.
const (
	// budgetBucket is the granularity of the stored time out of range:
	// budget windows and burn rates are whole minutes ending at the last
	// complete one.
	budgetBucket = time.Minute
	// pruneEvery spaces the deletions of minutes older than
	// slapipev1.MaxBudgetWindow.
	pruneEvery = time.Hour
)

// budgetStore keeps the time out of range per minute; the SQL store
// implements it. A store without it serves no budgets.
type budgetStore interface {
	ReplaceOutOfRange(ctx context.Context, objective string, from, to time.Time, minutes []store.OutOfRangeMinute) error
	OutOfRangeSums(ctx context.Context, objective string, until time.Time, since ...time.Time) (map[string][]float64, error)
	PruneOutOfRange(ctx context.Context, before time.Time) (int64, error)
}

var _ budgetStore = (*store.Store)(nil)

// objectiveMinutes is one objective's time out of range per minute over
// the complete minutes [from, to) of a pull.
type objectiveMinutes struct {
	objective *slapipev1.Objective
	from, to  time.Time
	minutes   []store.OutOfRangeMinute
}

// countMinutes turns each pull into its seconds out of range per complete
// minute; minutes with none are left out.
func countMinutes(pulls []objectivePull, end time.Time) []objectiveMinutes {
	var out []objectiveMinutes
	to := end.Truncate(budgetBucket)
	for _, p := range pulls {
		om := objectiveMinutes{objective: p.objective, from: to, to: to}
		b := boundsOf(p.objective)
		for _, s := range p.series {
			if s.Step <= 0 || len(s.Values) == 0 {
				continue
			}
			// The first whole minute the pull covers.
			from := s.Start.Add(budgetBucket - time.Nanosecond).Truncate(budgetBucket)
			om.from = minTime(om.from, from)
			var cur time.Time
			var secs float64
			flush := func() {
				if secs > 0 && !cur.Before(from) {
					om.minutes = append(om.minutes, store.OutOfRangeMinute{SeriesID: s.ID, Minute: cur, SecondsOut: secs})
				}
				secs = 0
			}
			for i, x := range s.Values {
				t := s.Start.Add(time.Duration(i) * s.Step)
				if !t.Before(to) {
					break
				}
				if mt := t.Truncate(budgetBucket); !mt.Equal(cur) {
					flush()
					cur = mt
				}
				if !math.IsNaN(x) && b.excess(x) > 0 {
					secs += s.Step.Seconds()
				}
			}
			flush()
		}
		out = append(out, om)
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// objectiveKey identifies what an objective counts: minutes written under
// another key (changed bounds or selector) are recounted over the whole
// pull.
// The bounds are keyed by value (the set is read from the store at every
// evaluation, so their pointers differ each time).
func objectiveKey(o *slapipev1.Objective) string {
	return fmt.Sprintf("%s\x00%s\x00%v:%g\x00%v:%g", o.GetName(), o.GetSelector(),
		o.Min != nil, o.GetMin(), o.Max != nil, o.GetMax())
}

// saveMinutes stores each objective's minutes. Minutes already stored for
// the same objective definition are rewritten from two minutes before the
// last stored end only; a new or changed definition (or a restart)
// rewrites the whole pull, so a changed bound recounts the last 12 h.
// Failures cost budget accuracy only: logged, not returned.
func (m *Manager) saveMinutes(ctx context.Context, oms []objectiveMinutes) {
	bs, ok := m.store.(budgetStore)
	if !ok {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	m.bmu.Lock()
	defer m.bmu.Unlock()
	current := make(map[string]bool, len(oms))
	for _, om := range oms {
		current[objectiveKey(om.objective)] = true
	}
	// Definitions no longer in the set are forgotten: the map stays as
	// small as the set.
	for key := range m.written {
		if !current[key] {
			delete(m.written, key)
		}
	}
	for _, om := range oms {
		if om.objective.Target == nil || !om.from.Before(om.to) {
			continue
		}
		key := objectiveKey(om.objective)
		from := om.from
		if last, ok := m.written[key]; ok && last.Add(-2*budgetBucket).After(from) {
			from = last.Add(-2 * budgetBucket)
		}
		var mins []store.OutOfRangeMinute
		for _, x := range om.minutes {
			if !x.Minute.Before(from) {
				mins = append(mins, x)
			}
		}
		if err := bs.ReplaceOutOfRange(sctx, om.objective.GetName(), from, om.to, mins); err != nil {
			m.log.Warn("saving out-of-range minutes", "objective", om.objective.GetName(), "err", err)
			delete(m.written, key)
			continue
		}
		m.written[key] = om.to
	}
	if now := m.now(); now.Sub(m.pruned) >= pruneEvery {
		m.pruned = now
		if _, err := bs.PruneOutOfRange(sctx, now.Add(-slapipev1.MaxBudgetWindow-pruneEvery)); err != nil {
			m.log.Warn("pruning out-of-range minutes", "err", err)
		}
	}
}

// GetBudget gives the error budget of every series of every objective with
// a target, from the time out of range stored per minute.
func (m *Manager) GetBudget(ctx context.Context, _ *slapipev1.GetBudgetRequest) (*slapipev1.GetBudgetResponse, error) {
	set, err := m.currentSet(ctx)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	v, err := m.violations(ctx, set)
	if err != nil {
		return nil, err
	}
	return m.budgets(ctx, set, v)
}

// budgets computes the budgets of set's objectives with a target for the
// series of viol, as of viol's computation; errors are gRPC statuses.
func (m *Manager) budgets(ctx context.Context, set *slapipev1.SLASet, viol *slapipev1.GetViolationsResponse) (*slapipev1.GetBudgetResponse, error) {
	bs, ok := m.store.(budgetStore)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "error budgets need the SQL store")
	}
	at := viol.GetComputedAt().AsTime()
	until := alignDown(at, m.cfg.Step).Truncate(budgetBucket)
	resp := &slapipev1.GetBudgetResponse{ComputedAt: viol.GetComputedAt(), Stale: viol.GetStale(), AgeSeconds: viol.GetAgeSeconds()}
	var rows []*slapipev1.Violation
	if ws := viol.GetWindows(); len(ws) > 0 {
		rows = ws[0].GetRows()
	}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	for _, o := range set.GetObjectives() {
		if o.Target == nil {
			continue
		}
		w := o.BudgetWindow()
		since := []time.Time{until.Add(-w)}
		for _, bw := range slapipev1.BurnWindows {
			since = append(since, until.Add(-bw.Duration))
		}
		sums, err := bs.OutOfRangeSums(sctx, o.GetName(), until, since...)
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "budget of %q: %v", o.GetName(), err)
		}
		for _, r := range rows {
			if r.GetObjective() != o.GetName() {
				continue
			}
			b := budgetOf(o, w, sums[r.GetSeriesId()], at)
			b.Metric, b.Labels, b.SeriesId = r.GetMetric(), r.GetLabels(), r.GetSeriesId()
			resp.Budgets = append(resp.Budgets, b)
		}
	}
	return resp, nil
}

// budgetOf is one series' budget from its sums (nil when it spent nothing):
// sums[0] over the budget window, then one per slapipev1.BurnWindows. at is when the
// figures hold; exhaustion is projected from it at the 1 h burn rate.
func budgetOf(o *slapipev1.Objective, w time.Duration, sums []float64, at time.Time) *slapipev1.Budget {
	if sums == nil {
		sums = make([]float64, 1+len(slapipev1.BurnWindows))
	}
	allowed := 1 - o.GetTarget()
	b := &slapipev1.Budget{Objective: o.GetName(), Target: o.GetTarget(), WindowSeconds: int64(w / time.Second),
		BudgetSeconds: allowed * w.Seconds(), SpentSeconds: sums[0]}
	b.RemainingRatio = 1 - b.SpentSeconds/b.BudgetSeconds
	burn := make([]float64, len(slapipev1.BurnWindows))
	for i, bw := range slapipev1.BurnWindows {
		burn[i] = sums[i+1] / bw.Duration.Seconds() / allowed
	}
	b.BurnRate_5M, b.BurnRate_30M, b.BurnRate_1H, b.BurnRate_6H = burn[0], burn[1], burn[2], burn[3]
	// Seconds out of range per second over the last hour.
	perSecond := sums[3] / time.Hour.Seconds()
	switch left := b.BudgetSeconds - b.SpentSeconds; {
	case left <= 0:
		b.Exhaustion = timestamppb.New(at)
	case perSecond > 0:
		b.Exhaustion = timestamppb.New(at.Add(time.Duration(left / perSecond * float64(time.Second))))
	}
	return b
}
