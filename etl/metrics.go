package etl

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slapipe/slapipe/internal/promreg"
)

// metrics are the ETL's Prometheus instruments.
type metrics struct {
	runs           *prometheus.CounterVec
	stageDuration  *prometheus.HistogramVec
	seriesAnalysed prometheus.Counter
	messages       prometheus.Counter
	analysisErrors prometheus.Counter
	seriesRejected prometheus.Counter
	tasks          *prometheus.CounterVec
}

// Results of a worker's task (slapipe_etl_tasks_total).
const (
	taskDone    = "done"
	taskFailed  = "failed"
	taskSkipped = "skipped"
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slapipe_etl_runs_total",
			Help: "ETL runs by final status (succeeded, failed).",
		}, []string{"status"}),
		stageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "slapipe_etl_stage_duration_seconds",
			Help:    "Duration of ETL run stages (pull, analyse, publish, total).",
			Buckets: prometheus.ExponentialBucketsRange(0.01, 600, 16),
		}, []string{"stage"}),
		seriesAnalysed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_etl_series_analysed_total",
			Help: "Series analysed by the ETL, including those whose analysis failed.",
		}),
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_etl_messages_produced_total",
			Help: "Kafka messages the ETL produced (series analyses and run records).",
		}),
		analysisErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_etl_analysis_errors_total",
			Help: "Series whose analysis failed; they are published with their statistics only.",
		}),
		seriesRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_etl_series_rejected_total",
			Help: "Series left out of their run because the store could not keep them (e.g. a metric name over 255 bytes).",
		}),
		tasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slapipe_etl_tasks_total",
			Help: "Tasks of distributed runs this process's workers finished, by result: done, failed (reported to the run) or skipped (undecodable, or of a run past its deadline).",
		}, []string{"result"}),
	}
	for _, s := range []string{StatusSucceeded, StatusFailed, StatusEmpty} {
		m.runs.WithLabelValues(s)
	}
	for _, r := range []string{taskDone, taskFailed, taskSkipped} {
		m.tasks.WithLabelValues(r)
	}
	for _, s := range []string{"pull", "analyse", "publish", "total"} {
		m.stageDuration.WithLabelValues(s)
	}
	// Two ETLs in one process (tests, a restarted component) share their
	// series.
	set := promreg.NewSet(reg)
	m.runs = promreg.Add(set, m.runs)
	m.stageDuration = promreg.Add(set, m.stageDuration)
	m.seriesAnalysed = promreg.Add(set, m.seriesAnalysed)
	m.messages = promreg.Add(set, m.messages)
	m.analysisErrors = promreg.Add(set, m.analysisErrors)
	m.seriesRejected = promreg.Add(set, m.seriesRejected)
	m.tasks = promreg.Add(set, m.tasks)
	if err := set.Err(); err != nil {
		return nil, fmt.Errorf("registering etl metrics: %w", err)
	}
	return m, nil
}
