package datastorage

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the consumer's Prometheus collectors.
type metrics struct {
	consumed      *prometheus.CounterVec
	batches       prometheus.Counter
	batchSize     prometheus.Histogram
	writeDuration prometheus.Histogram
	writeErrors   *prometheus.CounterVec
	dlq           prometheus.Counter
	commitErrors  prometheus.Counter
	lag           *prometheus.GaugeVec
}

// newMetrics builds the collectors and registers them on r (if not nil). A
// second consumer in the same process shares the first one's collectors.
func newMetrics(r prometheus.Registerer, topics ...string) (*metrics, error) {
	var err error
	reg := func(c prometheus.Collector) prometheus.Collector {
		if r == nil || err != nil {
			return c
		}
		if e := r.Register(c); e != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(e, &are) {
				return are.ExistingCollector
			}
			err = fmt.Errorf("registering datastorage metrics: %w", e)
		}
		return c
	}
	m := &metrics{
		consumed: reg(prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slapipe_datastorage_messages_consumed_total",
			Help: "Messages fetched from Kafka, by topic.",
		}, []string{"topic"})).(*prometheus.CounterVec),
		batches: reg(prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_datastorage_batches_total",
			Help: "Batches written and committed.",
		})).(prometheus.Counter),
		batchSize: reg(prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "slapipe_datastorage_batch_size",
			Help:    "Messages per batch.",
			Buckets: []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000},
		})).(prometheus.Histogram),
		writeDuration: reg(prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "slapipe_datastorage_write_duration_seconds",
			Help:    "Time of one successful batch write to the store (one transaction).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		})).(prometheus.Histogram),
		writeErrors: reg(prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slapipe_datastorage_write_errors_total",
			Help: "Failed write attempts (each retried), by target: analyses, runs (the store) or dlq.",
		}, []string{"target"})).(*prometheus.CounterVec),
		dlq: reg(prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_datastorage_dlq_messages_total",
			Help: "Messages sent to the dead-letter topic.",
		})).(prometheus.Counter),
		commitErrors: reg(prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_datastorage_commit_errors_total",
			Help: "Failed offset commits (their messages are redelivered and absorbed by the idempotent store).",
		})).(prometheus.Counter),
		lag: reg(prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "slapipe_datastorage_consumer_lag",
			Help: "Messages behind the high watermark, summed over the partitions this consumer fetched from in the last minute or so, by topic.",
		}, []string{"topic"})).(*prometheus.GaugeVec),
	}
	if err != nil {
		return nil, err
	}
	// Zero-valued series exist from the start, so dashboards and alerts see
	// 0 rather than no data.
	for _, t := range topics {
		m.consumed.WithLabelValues(t)
		m.lag.WithLabelValues(t)
	}
	for _, t := range []string{"analyses", "runs", "dlq"} {
		m.writeErrors.WithLabelValues(t)
	}
	return m, nil
}
