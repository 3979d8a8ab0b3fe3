package slamanager

import (
	"context"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// predictionRecorder is a store that keeps the history of predictions (the
// SQL store's sla_predictions, charted by Grafana). It is optional: a store
// without it only serves the latest answer.
type predictionRecorder interface {
	SavePredictions(ctx context.Context, p *slapipev1.GetPredictionsResponse) error
}

// recordPredictions keeps a freshly built predictions answer in the store's
// history. It runs once per answer built, that is once per new run (or new
// SLA set version), not per call. A failure costs one point of history, so
// it is logged, not returned.
func (m *Manager) recordPredictions(ctx context.Context, resp *slapipev1.GetPredictionsResponse) {
	rec, ok := m.store.(predictionRecorder)
	if !ok || resp.GetComputedAt() == nil || len(resp.GetPredictions()) == 0 {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := rec.SavePredictions(sctx, resp); err != nil {
		m.log.Warn("recording predictions history", "run_id", resp.GetRunId(), "err", err)
	}
}
