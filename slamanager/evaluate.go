package slamanager

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// evalLoop evaluates the current set every EvaluationInterval, and at once
// when kicked (a saved set, a finished run), so the slapipe_sla_* metrics
// follow without a client asking. It returns when ctx is done.
func (m *Manager) evalLoop(ctx context.Context) error {
	ticker := time.NewTicker(m.cfg.EvaluationInterval)
	defer ticker.Stop()
	m.evaluate(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-m.kick:
		}
		m.evaluate(ctx)
	}
}

// requestEvaluation asks evalLoop for an evaluation without waiting; one
// pending request stands for any number.
func (m *Manager) requestEvaluation() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// evaluate computes the violations, budgets and predictions of the current
// set, exports them, and posts the predicted violations to Alertmanager
// when there is one. Failures are
// logged: the metrics keep the last answers, and their age says so.
func (m *Manager) evaluate(ctx context.Context) {
	set, err := m.currentSet(ctx)
	if err != nil {
		m.log.Warn("evaluation skipped", "err", err)
		return
	}
	v, err := m.violations(ctx, set)
	if err != nil {
		m.log.Warn("evaluation without violations", "err", err)
	} else if b, err := m.budgets(ctx, set, v); err == nil {
		m.exp.setBudget(b)
	} else if status.Code(err) != codes.Unimplemented {
		m.log.Warn("evaluation without budgets", "err", err)
	}
	p, err := m.predictions(ctx, set)
	if err != nil {
		m.log.Warn("evaluation without predictions", "err", err)
		return
	}
	if m.notify != nil {
		result := "succeeded"
		if err := m.notify.notify(ctx, p, m.now()); err != nil {
			result = "failed"
			m.log.Warn("alertmanager", "err", err)
		}
		m.met.alertPosts.WithLabelValues(result).Inc()
	}
}
