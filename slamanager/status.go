package slamanager

import (
	"context"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// GetStatus gives the set, the violations of every window, the predictions
// and the newest run at once. Parts that cannot be had are left empty (and
// logged) rather than failing the whole answer: the set is always known.
func (m *Manager) GetStatus(ctx context.Context, _ *slapipev1.GetStatusRequest) (*slapipev1.GetStatusResponse, error) {
	set, err := m.currentSet(ctx)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	resp := &slapipev1.GetStatusResponse{Set: set}
	var g errgroup.Group
	g.Go(func() error {
		v, err := m.violations(ctx, set)
		if err != nil {
			m.log.Warn("status without violations", "err", err)
			return nil
		}
		resp.Violations = v
		b, err := m.budgets(ctx, set, v)
		if err != nil {
			if status.Code(err) != codes.Unimplemented {
				m.log.Warn("status without budgets", "err", err)
			}
			return nil
		}
		resp.Budget = b
		return nil
	})
	g.Go(func() error {
		p, err := m.predictions(ctx, set)
		if err != nil {
			m.log.Warn("status without predictions", "err", err)
			return nil
		}
		resp.Predictions = p
		return nil
	})
	g.Go(func() error {
		runs, err := m.listRuns(ctx, 1)
		if err != nil {
			m.log.Warn("status without last run", "err", err)
			return nil
		}
		if len(runs) > 0 {
			resp.LastRun = runs[0]
		}
		return nil
	})
	_ = g.Wait()
	return resp, nil
}
