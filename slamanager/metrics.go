package slamanager

import (
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
	set := promreg.NewSet(reg)
	m.etlRuns = promreg.Add(set, m.etlRuns)
	m.etlAttached = promreg.Add(set, m.etlAttached)
	m.etlInFlight = promreg.Add(set, m.etlInFlight)
	m.violationsComputed = promreg.Add(set, m.violationsComputed)
	m.degraded = promreg.Add(set, m.degraded)
	m.promFailures = promreg.Add(set, m.promFailures)
	m.pullSeconds = promreg.Add(set, m.pullSeconds)
	m.slaChanges = promreg.Add(set, m.slaChanges)
	m.alertPosts = promreg.Add(set, m.alertPosts)
	if err := set.Err(); err != nil {
		return nil, fmt.Errorf("registering slamanager metrics: %w", err)
	}
	m.degraded.WithLabelValues("violations")
	m.degraded.WithLabelValues("predictions")
	return m, nil
}
