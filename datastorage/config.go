// Package datastorage is the Kafka consumer that stores what the ETL
// publishes. It reads SeriesAnalysis messages (topic prometheusdata) and Run
// messages (topic prometheusdata.runs; see slapipev1.RunsTopic) in one consumer group, writes them in
// batches through a Writer (the store: one transaction per batch, upserts
// keyed by run and series), and commits the batch's offsets only after the
// write succeeded. A message that cannot be decoded, is invalid or over the
// size limit goes to a dead-letter topic before its offset is committed. A
// failing Writer is retried with capped exponential backoff and nothing is
// committed meanwhile; when the failure is about content (store.Permanent,
// or a connection failure that repeats while the store answers pings) the
// batch is split in halves until the message responsible is alone, and
// after Config.PoisonTries tries that message is dead-lettered with the
// reason, so its partition moves on. Nothing is dropped: every message is
// either stored or in the dead-letter topic. Redeliveries are absorbed by the store's
// idempotent upserts: the effect is exactly once.
package datastorage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slapipe/slapipe/internal/kafkaconn"
	"github.com/slapipe/slapipe/internal/kafkatopic"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultGroupID       = "slapipe-datastorage"
	DefaultBatchSize     = 500
	DefaultBatchWait     = 250 * time.Millisecond
	DefaultPartitions    = kafkatopic.DefaultPartitions
	DefaultRetryMin      = 100 * time.Millisecond
	DefaultRetryMax      = 5 * time.Second
	DefaultShutdownGrace = 10 * time.Second
	DefaultWriters       = 2
	// DefaultMaxMessageBytes is Kafka's own default message limit: far
	// above an analysis (about 7 KB) and far below the 16 MiB
	// max_allowed_packet of MariaDB and MySQL 5.7 that one row must fit.
	DefaultMaxMessageBytes = 1 << 20
	DefaultPoisonTries     = 3
)

// Config configures a Consumer. Zero fields take the Default* values; only
// Brokers is required.
type Config struct {
	// Brokers are the Kafka bootstrap addresses (host:port).
	Brokers []string
	// Kafka is the TLS and SASL of every connection to the brokers; the
	// zero value is plaintext.
	Kafka kafkaconn.Security
	// Topic carries SeriesAnalysis messages; default slapipev1.DefaultTopic.
	// Run messages are read from slapipev1.RunsTopic(Topic), and messages
	// that cannot be decoded or are invalid go to
	// slapipev1.DeadLetterTopic(Topic) with headers "error", "topic",
	// "partition" and "offset".
	Topic string
	// GroupID is the consumer group; replicas with the same GroupID share
	// the partitions.
	GroupID string
	// BatchSize is the most messages written in one transaction.
	BatchSize int
	// BatchWait is how long a batch may wait for more messages after its
	// first one before it is written.
	BatchWait time.Duration
	// Writers is how many batches are written at once (each writer owns a
	// share of the partitions, so more writers than partitions are idle).
	Writers int
	// Partitions is the partition count used when Run has to create a
	// missing topic (existing topics are left as they are).
	Partitions int
	// RetryMin and RetryMax bound the exponential backoff between attempts
	// to write a batch (or reach the broker).
	RetryMin, RetryMax time.Duration
	// MaxMessageBytes is the largest message value stored; a larger one is
	// dead-lettered unread, with the limit as its reason.
	MaxMessageBytes int
	// PoisonTries is how many times one message is tried before a failure
	// that is about its content sends it to the dead-letter topic: the
	// store refusing it (too large, constraint or data errors), or a
	// connection failure repeated while the store answers pings. Failures
	// of the database itself (down, deadlocks, lock timeouts) are retried
	// without bound, as they say nothing about the message.
	PoisonTries int
	// ShutdownGrace is how long the in-flight batch may still take to be
	// written and committed after Run's context is done; past it the batch
	// is abandoned uncommitted (and redelivered to the next consumer).
	ShutdownGrace time.Duration
}

// Writer is what the consumer needs from the store. WriteAnalyses must write
// its batch in one transaction and be idempotent per (run_id, series_id);
// UpsertRun must be idempotent per run_id.
type Writer interface {
	WriteAnalyses(ctx context.Context, msgs []*slapipev1.SeriesAnalysis) error
	UpsertRun(ctx context.Context, run *slapipev1.Run) error
}

// Deps are the process-wide collaborators of a Consumer.
type Deps struct {
	// Logger receives the consumer's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the slapipe_datastorage_* metrics; nil registers
	// them nowhere.
	Registerer prometheus.Registerer
}

// withDefaults returns cfg with zero fields set to their defaults, or an
// error naming the first invalid field.
func (cfg Config) withDefaults() (Config, error) {
	setStr := func(p *string, d string) {
		if *p == "" {
			*p = d
		}
	}
	setDur := func(p *time.Duration, d time.Duration) {
		if *p == 0 {
			*p = d
		}
	}
	setStr(&cfg.Topic, slapipev1.DefaultTopic)
	setStr(&cfg.GroupID, DefaultGroupID)
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Writers == 0 {
		cfg.Writers = DefaultWriters
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.PoisonTries == 0 {
		cfg.PoisonTries = DefaultPoisonTries
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = DefaultPartitions
	}
	setDur(&cfg.BatchWait, DefaultBatchWait)
	setDur(&cfg.RetryMin, DefaultRetryMin)
	setDur(&cfg.RetryMax, DefaultRetryMax)
	setDur(&cfg.ShutdownGrace, DefaultShutdownGrace)

	switch {
	case len(cfg.Brokers) == 0:
		return cfg, errors.New("datastorage: brokers: at least one broker address is required")
	case cfg.BatchSize < 1 || cfg.BatchSize > 100000:
		return cfg, fmt.Errorf("datastorage: batch size: must be in 1..100000 (got %d)", cfg.BatchSize)
	case cfg.Writers < 1 || cfg.Writers > 64:
		return cfg, fmt.Errorf("datastorage: writers: must be in 1..64 (got %d)", cfg.Writers)
	case cfg.MaxMessageBytes < 1:
		return cfg, fmt.Errorf("datastorage: max message bytes: must be at least 1 (got %d)", cfg.MaxMessageBytes)
	case cfg.PoisonTries < 1 || cfg.PoisonTries > 100:
		return cfg, fmt.Errorf("datastorage: poison tries: must be in 1..100 (got %d)", cfg.PoisonTries)
	case cfg.Partitions < 1:
		return cfg, fmt.Errorf("datastorage: partitions: must be at least 1 (got %d)", cfg.Partitions)
	case cfg.BatchWait < 0 || cfg.RetryMin < 0 || cfg.ShutdownGrace < 0:
		return cfg, errors.New("datastorage: batch wait, retry min and shutdown grace must not be negative")
	case cfg.RetryMax < cfg.RetryMin:
		return cfg, fmt.Errorf("datastorage: retry max: must be at least retry min (got %s < %s)", cfg.RetryMax, cfg.RetryMin)
	}
	if err := slapipev1.CheckTopic(cfg.Topic); err != nil {
		return cfg, fmt.Errorf("datastorage: %w", err)
	}
	return cfg, nil
}

// runsTopic is where the Run messages beside Topic are read from.
func (cfg Config) runsTopic() string { return slapipev1.RunsTopic(cfg.Topic) }

// dlqTopic is where the messages of both topics that cannot be stored go.
func (cfg Config) dlqTopic() string { return slapipev1.DeadLetterTopic(cfg.Topic) }
