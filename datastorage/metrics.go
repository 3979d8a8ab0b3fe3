package datastorage

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slapipe/slapipe/internal/promreg"
)

// metrics are the consumer's Prometheus collectors.
type metrics struct {
	consumed      *prometheus.CounterVec
	batches       prometheus.Counter
	batchSize     prometheus.Histogram
	writeDuration prometheus.Histogram
	writeErrors   *prometheus.CounterVec
	dlq           prometheus.Counter
	dlqReferences prometheus.Counter
	splits        prometheus.Counter
	commitErrors  prometheus.Counter
	lag           *prometheus.GaugeVec
}

// newMetrics builds the collectors and registers them on r (if not nil). A
// second consumer in the same process shares the first one's collectors.
func newMetrics(r prometheus.Registerer, topics ...string) (*metrics, error) {
	m := &metrics{
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slapipe_datastorage_messages_consumed_total",
			Help: "Messages fetched from Kafka, by topic.",
		}, []string{"topic"}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_datastorage_batches_total",
			Help: "Batches written and committed.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "slapipe_datastorage_batch_size",
			Help:    "Messages per batch.",
			Buckets: []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000},
		}),
		writeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "slapipe_datastorage_write_duration_seconds",
			Help:    "Time of one successful batch write to the store (one transaction).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
		writeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slapipe_datastorage_write_errors_total",
			Help: "Failed write attempts (each retried), by target: analyses, runs (the store) or dlq.",
		}, []string{"target"}),
		dlq: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_datastorage_dlq_messages_total",
			Help: "Messages sent to the dead-letter topic.",
		}),
		dlqReferences: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_datastorage_dlq_references_total",
			Help: "Dead letters too large for the dead-letter topic, sent as a reference (origin, size, reason) without their value.",
		}),
		splits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_datastorage_batch_splits_total",
			Help: "Batches the store refused for their content, split in halves to isolate the message responsible.",
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slapipe_datastorage_commit_errors_total",
			Help: "Failed offset commits (their messages are redelivered and absorbed by the idempotent store).",
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "slapipe_datastorage_consumer_lag",
			Help: "Messages behind the high watermark, summed over the partitions this consumer fetched from in the last minute or so, by topic.",
		}, []string{"topic"}),
	}
	set := promreg.NewSet(r)
	m.consumed = promreg.Add(set, m.consumed)
	m.batches = promreg.Add(set, m.batches)
	m.batchSize = promreg.Add(set, m.batchSize)
	m.writeDuration = promreg.Add(set, m.writeDuration)
	m.writeErrors = promreg.Add(set, m.writeErrors)
	m.dlq = promreg.Add(set, m.dlq)
	m.commitErrors = promreg.Add(set, m.commitErrors)
	m.lag = promreg.Add(set, m.lag)
	m.dlqReferences = promreg.Add(set, m.dlqReferences)
	m.splits = promreg.Add(set, m.splits)
	if err := set.Err(); err != nil {
		return nil, fmt.Errorf("registering datastorage metrics: %w", err)
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
