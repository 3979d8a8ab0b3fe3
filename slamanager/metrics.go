package slamanager

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the manager's own series, registered on Deps.Registerer only.
type metrics struct {
	reg                prometheus.Registerer
	etlRuns            *prometheus.CounterVec
	etlAttached        prometheus.Counter
	etlInFlight        prometheus.Gauge
	violationsComputed prometheus.Counter
	degraded           *prometheus.CounterVec
	promFailures       prometheus.Counter
	pullSeconds        prometheus.Histogram
	slaChanges         prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "slapipe", "slamanager"
	m := &metrics{
		reg: reg,
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
	}
	m.degraded.WithLabelValues("violations")
	m.degraded.WithLabelValues("predictions")
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.etlRuns, m.etlAttached, m.etlInFlight, m.violationsComputed, m.degraded, m.promFailures, m.pullSeconds, m.slaChanges} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
