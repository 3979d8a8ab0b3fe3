package slamanager

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// violationsCache is the last fresh answer. Prometheus' data only moves on
// the step grid, so an answer is reused until the grid point or the SLA set
// changes; it is also the first fallback when Prometheus fails.
type violationsCache struct {
	key  string
	resp *slapipev1.GetViolationsResponse
	// minutes are the pull's time out of range per minute, for budgets.
	minutes []objectiveMinutes
	// saved is set by the one caller that stores the snapshot, so the
	// store's latency is not inside the shared, time-bounded computation.
	saved atomic.Bool
}

// GetViolations counts, per objective and series, how the last 1 h, 3 h and
// 12 h behaved (or only req.Window). When Prometheus fails or is slower than
// PromTimeout it answers from the latest snapshot with stale=true and its
// age; Unavailable only when there is no snapshot either.
func (m *Manager) GetViolations(ctx context.Context, req *slapipev1.GetViolationsRequest) (*slapipev1.GetViolationsResponse, error) {
	w := req.GetWindow()
	if w != "" && !slapipev1.ValidWindow(w) {
		return nil, status.Errorf(codes.InvalidArgument, "window: must be %s or empty for all (got %q)", slapipev1.WindowNames(true), w)
	}
	set, err := m.currentSet(ctx)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	resp, err := m.violations(ctx, set)
	if err != nil {
		return nil, err
	}
	return filterWindow(resp, w), nil
}

// violations returns the answer for every window of set; errors are gRPC
// statuses.
func (m *Manager) violations(ctx context.Context, set *slapipev1.SLASet) (*slapipev1.GetViolationsResponse, error) {
	now := m.now()
	end := alignDown(now, m.cfg.Step)
	key := fmt.Sprintf("%d/%d", end.UnixNano(), set.GetVersion())

	m.vmu.Lock()
	if c := m.vcache; c != nil && c.key == key {
		m.vmu.Unlock()
		return c.resp, nil
	}
	down := now.Before(m.vdownTo)
	m.vmu.Unlock()

	cause := errors.New("prometheus marked down after a recent failure")
	if !down {
		// Concurrent callers share one computation; it runs detached from
		// the first caller so that caller leaving does not fail the others,
		// and is bounded by PromTimeout.
		ch := m.vflight.DoChan(key, func() (any, error) {
			return m.computeViolations(context.WithoutCancel(ctx), set, end, key)
		})
		// The timer guards against a Source that ignores its context.
		timer := time.NewTimer(m.cfg.PromTimeout + 100*time.Millisecond)
		defer timer.Stop()
		select {
		case r := <-ch:
			if r.Err == nil {
				c := r.Val.(*violationsCache)
				if c.saved.CompareAndSwap(false, true) {
					m.saveSnapshot(ctx, c.resp)
					m.saveMinutes(ctx, c.minutes)
				}
				return c.resp, nil
			}
			cause = r.Err
		case <-timer.C:
			cause = fmt.Errorf("prometheus did not answer within %s", m.cfg.PromTimeout)
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	return m.staleViolations(ctx, cause)
}

// computeViolations pulls each objective once over the 12 h range ending at
// end and counts every window from that pull.
func (m *Manager) computeViolations(parent context.Context, set *slapipev1.SLASet, end time.Time, key string) (*violationsCache, error) {
	ctx, cancel := context.WithTimeout(parent, m.cfg.PromTimeout)
	defer cancel()
	objs := set.GetObjectives()
	pulls := make([]objectivePull, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	for i, o := range objs {
		metric, _, err := parseSelector(o.GetSelector())
		if err != nil {
			// Only validated sets are saved; keep the row out rather than fail all.
			m.log.Warn("objective with invalid selector skipped", "objective", o.GetName(), "err", err)
			pulls[i] = objectivePull{objective: o, metric: metric}
			continue
		}
		g.Go(func() error {
			start := time.Now()
			ss, err := m.source.Pull(gctx, o.GetSelector(), end.Add(-slapipev1.LongestWindow), end, m.cfg.Step)
			m.met.pullSeconds.Observe(time.Since(start).Seconds())
			if err != nil {
				return fmt.Errorf("pulling %s (%s): %w", o.GetName(), o.GetSelector(), err)
			}
			pulls[i] = objectivePull{objective: o, metric: metric, series: ss}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		m.vmu.Lock()
		// Skip Prometheus for one step so a hung server costs one timeout per
		// step, not one per call.
		m.vdownTo = m.now().Add(m.cfg.Step)
		m.vmu.Unlock()
		m.met.promFailures.Inc()
		return nil, err
	}
	c := &violationsCache{key: key, resp: countViolations(pulls, end, m.now()), minutes: countMinutes(pulls, end)}
	m.met.violationsComputed.Inc()
	m.vmu.Lock()
	m.vcache = c
	m.vmu.Unlock()
	m.exp.setViolations(c.resp)
	return c, nil
}

// saveSnapshot stores a fresh answer for degraded mode (and restarts); a
// failure only costs that fallback, so it is logged, not returned.
func (m *Manager) saveSnapshot(ctx context.Context, resp *slapipev1.GetViolationsResponse) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := m.store.SaveViolations(sctx, resp); err != nil {
		m.log.Warn("saving violations snapshot", "err", err)
	}
}

// staleViolations is the degraded answer, marked stale with its age: the
// in-memory last answer when there is one (it is at least as new as the
// snapshot this process stored), else the stored snapshot.
func (m *Manager) staleViolations(ctx context.Context, cause error) (*slapipev1.GetViolationsResponse, error) {
	m.met.degraded.WithLabelValues("violations").Inc()
	m.vmu.Lock()
	var snap *slapipev1.GetViolationsResponse
	if m.vcache != nil {
		snap = m.vcache.resp
	}
	m.vmu.Unlock()
	if snap == nil {
		sctx, cancel := context.WithTimeout(ctx, storeTimeout)
		defer cancel()
		var err error
		snap, err = m.store.LatestViolations(sctx)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, status.Errorf(codes.Unavailable, "violations: %v, and no stored snapshot to fall back on", cause)
		case err != nil:
			return nil, status.Errorf(codes.Unavailable, "violations: %v, and the stored snapshot is unreadable: %v", cause, err)
		}
	}
	m.log.Warn("serving stale violations", "cause", cause)
	out := proto.Clone(snap).(*slapipev1.GetViolationsResponse)
	out.Stale = true
	if ts := out.GetComputedAt(); ts != nil {
		out.AgeSeconds = max(0, m.now().Sub(ts.AsTime()).Seconds())
	}
	return out, nil
}

// alignDown puts t on the step grid (Unix multiples of step), so repeated
// calls within one step ask Prometheus for the same points.
func alignDown(t time.Time, step time.Duration) time.Time {
	ns := t.UnixNano()
	return time.Unix(0, ns-ns%int64(step)).In(t.Location())
}
