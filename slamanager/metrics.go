package slamanager

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slapipe/slapipe/internal/promreg"
)

// metrics are the manager's own series, registered on Deps.Registerer only.
type metrics struct {
	etlRuns            *prometheus.CounterVec
	etlAttached        prometheus.Counter
	etlInFlight        prometheus.Gauge
	violationsComputed prometheus.Counter
	degraded           *prometheus.CounterVec
	promFailures       prometheus.Counter
	pullSeconds        prometheus.Histogram
	slaChanges         prometheus.Counter
	alertPosts         *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "slapipe", "slamanager"
	m := &metrics{
		etlRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "etl_runs_total",
			Help: "ETL runs executed by the SLA manager, by trigger (manual, schedule) and status (succeeded, failed)."}, []string{"trigger", "status"}),
		etlAttached: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "etl_attached_total",
			Help: "RunETL calls that attached to the run already in flight instead of starting one."}),
		etlInFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "etl_in_flight",
			Help: "1 while an ETL run is in flight, else 0."}),
		violationsComputed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "violations_computed_total",
			Help: "Violation answers computed from Prometheus (cached answers are not counted)."}),
		degraded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "degraded_answers_total",
			Help: "Answers served from stored results because the live source failed, by kind (violations, predictions)."}, []string{"kind"}),
		promFailures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "prometheus_failures_total",
			Help: "Violation computations that failed or timed out on Prometheus."}),
		pullSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "prometheus_pull_seconds",
			Help: "Duration of one objective's 12 h range pull from Prometheus.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 10)}),
		slaChanges: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "sla_changes_total",
			Help: "New versions of the SLA set saved."}),
		alertPosts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "alertmanager_posts_total",
			Help: "Evaluations that posted predicted violations to Alertmanager, by result (succeeded, failed)."}, []string{"result"}),
	}
	// A second manager in the same process shares the first one's series,
	// as the other components do.
	var errs [9]error
	m.etlRuns, errs[0] = promreg.RegisterOrReuse(reg, m.etlRuns)
	m.etlAttached, errs[1] = promreg.RegisterOrReuse(reg, m.etlAttached)
	m.etlInFlight, errs[2] = promreg.RegisterOrReuse(reg, m.etlInFlight)
	m.violationsComputed, errs[3] = promreg.RegisterOrReuse(reg, m.violationsComputed)
	m.degraded, errs[4] = promreg.RegisterOrReuse(reg, m.degraded)
	m.promFailures, errs[5] = promreg.RegisterOrReuse(reg, m.promFailures)
	m.pullSeconds, errs[6] = promreg.RegisterOrReuse(reg, m.pullSeconds)
	m.slaChanges, errs[7] = promreg.RegisterOrReuse(reg, m.slaChanges)
	m.alertPosts, errs[8] = promreg.RegisterOrReuse(reg, m.alertPosts)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("registering slamanager metrics: %w", err)
	}
	m.degraded.WithLabelValues("violations")
	m.degraded.WithLabelValues("predictions")
	return m, nil
}
