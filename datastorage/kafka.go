package datastorage

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/slapipe/slapipe/internal/kafkatopic"
)

// ensureTopics creates the topics that do not exist yet (kafkatopic.EnsureVia).
var ensureTopics = kafkatopic.EnsureVia

// newReader is the group reader on both consumed topics. Offsets are only
// committed explicitly (CommitInterval 0 makes CommitMessages synchronous).
func newReader(cfg Config, logger *slog.Logger) *kafka.Reader {
	return kafka.NewReader(kafka.ReaderConfig{
		Brokers:     cfg.Brokers,
		Dialer:      cfg.Kafka.Dialer(),
		GroupID:     cfg.GroupID,
		GroupTopics: []string{cfg.Topic, cfg.runsTopic()},
		// The next batch is prefetched while the current one is written.
		QueueCapacity: cfg.BatchSize,
		MinBytes:      1,
		MaxBytes:      16 << 20,
		// kafka-go asks the broker to answer 1 s before MaxWait (its RTT
		// margin) when MaxWait >= 1 s, but only MaxWait/4 before it below;
		// a busy broker then misses the deadline and the fetch fails.
		MaxWait:        2 * time.Second,
		CommitInterval: 0,
		// A crashed member holds its partitions until its session times out:
		// 10 s instead of kafka-go's 30 s lets a restarted or surviving
		// replica take over sooner, still far above the 3 s heartbeat.
		SessionTimeout:        10 * time.Second,
		StartOffset:           kafka.FirstOffset,
		WatchPartitionChanges: true,
		Logger:                kafkaLogger(logger, slog.LevelDebug),
		ErrorLogger:           kafkaLogger(logger, slog.LevelWarn),
	})
}

// newDLQWriter writes dead letters synchronously with acks from all
// replicas, keyed like the originals, one per request: the broker, not the
// writer, decides what is too large, so the writer takes anything the
// dead-letter topic takes (max.message.bytes bounds a whole record batch).
func newDLQWriter(cfg Config, logger *slog.Logger) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Transport:    cfg.Kafka.Transport(),
		Topic:        cfg.dlqTopic(),
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    1,
		BatchBytes:   math.MaxInt32,
		BatchTimeout: 10 * time.Millisecond,
		Logger:       kafkaLogger(logger, slog.LevelDebug),
		ErrorLogger:  kafkaLogger(logger, slog.LevelWarn),
	}
}

func kafkaLogger(l *slog.Logger, lvl slog.Level) kafka.Logger {
	return kafka.LoggerFunc(func(msg string, args ...any) {
		if l.Enabled(context.Background(), lvl) {
			l.Log(context.Background(), lvl, "kafka: "+fmt.Sprintf(msg, args...))
		}
	})
}
