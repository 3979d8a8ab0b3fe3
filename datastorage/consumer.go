package datastorage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"
)

// commitTimeout bounds an offset commit; it gets a fresh context so that a
// batch written just before shutdown is still committed.
const commitTimeout = 5 * time.Second

// Consumer moves messages from Kafka to a Writer. Create it with New.
type Consumer struct {
	cfg    Config
	w      Writer
	logger *slog.Logger
	m      *metrics
}

type topicPartition struct {
	topic     string
	partition int
}

// New validates cfg (applying defaults) and returns a Consumer writing to w.
// It does not contact Kafka; Run does.
func New(cfg Config, w Writer, deps Deps) (*Consumer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if w == nil {
		return nil, errors.New("datastorage: writer is nil")
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(deps.Registerer, cfg.Topic, cfg.runsTopic())
	if err != nil {
		return nil, err
	}
	return &Consumer{cfg: cfg, w: w, logger: logger.With("component", "datastorage"), m: m}, nil
}

// Run consumes until ctx is done, then returns nil; an unreachable broker
// or store does not end it (it retries with backoff, logging each failure,
// including a broker that refuses to create the topics). A batch's
// offsets are committed only after its analyses and runs were written and
// its rejected messages were dead-lettered. When ctx is done, the batches in
// flight are finished within Config.ShutdownGrace (written, then committed)
// or abandoned uncommitted; Run then leaves the group and returns nil.
//
// One goroutine fetches; Config.Writers goroutines write, each owning the
// partitions p with p % Writers == its index, so a partition's batches are
// written and committed in order and a key (always on one partition) is
// never written by two transactions at once.
func (c *Consumer) Run(ctx context.Context) error {
	if err := c.retry(ctx, "create-topics", nil, func(ctx context.Context) error {
		return ensureTopics(ctx, c.cfg.Kafka, c.cfg.Brokers, c.cfg.Partitions, c.cfg.Topic, c.cfg.runsTopic(), c.cfg.dlqTopic())
	}); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	// work outlives ctx by the shutdown grace, so the batches in flight can
	// finish; the reader itself stops fetching as soon as ctx is done.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var graceMu sync.Mutex
	var grace *time.Timer
	stopGrace := context.AfterFunc(ctx, func() {
		graceMu.Lock()
		grace = time.AfterFunc(c.cfg.ShutdownGrace, cancelWork)
		graceMu.Unlock()
	})
	defer func() {
		stopGrace()
		graceMu.Lock()
		if grace != nil {
			grace.Stop()
		}
		graceMu.Unlock()
	}()

	r := newReader(c.cfg, c.logger)
	dlq := newDLQWriter(c.cfg, c.logger)
	defer func() {
		if err := dlq.Close(); err != nil {
			c.logger.Warn("closing dlq writer", "err", err)
		}
		if err := r.Close(); err != nil {
			c.logger.Warn("closing kafka reader", "err", err)
		}
	}()
	c.logger.Info("consuming", "brokers", c.cfg.Brokers, "group", c.cfg.GroupID,
		"topics", []string{c.cfg.Topic, c.cfg.runsTopic()}, "dlq", c.cfg.dlqTopic(),
		"batch_size", c.cfg.BatchSize, "writers", c.cfg.Writers)

	var g errgroup.Group
	lanes := make([]chan kafka.Message, c.cfg.Writers)
	for i := range lanes {
		lanes[i] = make(chan kafka.Message, c.cfg.BatchSize)
		g.Go(func() error {
			c.write(ctx, work, r, dlq, lanes[i])
			return nil
		})
	}
	g.Go(func() error {
		defer func() {
			for _, l := range lanes {
				close(l)
			}
		}()
		c.fetch(ctx, r, lanes)
		return nil
	})
	err := g.Wait()
	c.logger.Info("consumer stopped")
	return err
}

// fetch reads messages and hands each to the lane of its partition until
// ctx is done.
func (c *Consumer) fetch(ctx context.Context, r *kafka.Reader, lanes []chan kafka.Message) {
	lag := newLagTracker(c.m.lag)
	for {
		var m kafka.Message
		// kafka-go retries connections itself; an error here is rare (e.g.
		// the group coordinator lost), so wait and fetch again.
		err := c.retry(ctx, "fetch", nil, func(ctx context.Context) error {
			var err error
			m, err = r.FetchMessage(ctx)
			return err
		})
		if err != nil { // ctx is done: FetchMessage's errors are not final
			return
		}
		c.m.consumed.WithLabelValues(m.Topic).Inc()
		lag.observe(topicPartition{m.Topic, m.Partition}, max(0, m.HighWaterMark-m.Offset-1), time.Now())
		select {
		case lanes[m.Partition%len(lanes)] <- m:
		case <-ctx.Done():
			return // not stored, not committed: redelivered
		}
	}
}

// write stores and commits the batches of one lane until the lane is
// closed or ctx is done (after finishing the batch in hand).
func (c *Consumer) write(ctx, work context.Context, r *kafka.Reader, dlq *kafka.Writer, lane <-chan kafka.Message) {
	batch := make([]kafka.Message, 0, c.cfg.BatchSize)
	for {
		m, ok := <-lane
		if !ok {
			return
		}
		batch = append(batch[:0], m)
		open := c.collect(ctx, lane, &batch)
		if !c.handle(work, r, dlq, batch) || !open || ctx.Err() != nil {
			return
		}
	}
}

// collect adds to batch what the lane brings within BatchWait, up to
// BatchSize messages. It reports false when the lane is closed.
func (c *Consumer) collect(ctx context.Context, lane <-chan kafka.Message, batch *[]kafka.Message) bool {
	t := time.NewTimer(c.cfg.BatchWait)
	defer t.Stop()
	for len(*batch) < c.cfg.BatchSize {
		select {
		case m, ok := <-lane:
			if !ok {
				return false
			}
			*batch = append(*batch, m)
		case <-t.C:
			return true
		case <-ctx.Done():
			return true
		}
	}
	return true
}

// retry calls f until it succeeds or ctx is done, sleeping between
// attempts with capped exponential backoff (RetryMin doubling to RetryMax,
// jittered ±20 % so replicas do not retry in step): the broker's failures,
// unlike the store's (retryWrite), are never about one message. target
// names what is tried, for the logs; failures, if not nil, counts the
// failed attempts.
func (c *Consumer) retry(ctx context.Context, target string, failures prometheus.Counter, f func(context.Context) error) error {
	return c.retryUntil(ctx, target, failures, f, nil)
}

// retryUntil is retry that also ends when final, called after each failure
// with the failure and its attempt number, returns an error: that error is
// returned as it is.
func (c *Consumer) retryUntil(ctx context.Context, target string, failures prometheus.Counter,
	f func(context.Context) error, final func(err error, attempt int) error) error {
	attempt := 0
	var last error
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		attempt++
		err := f(ctx)
		if err == nil {
			if attempt > 1 {
				c.logger.Info("recovered", "target", target, "attempts", attempt)
			}
			return struct{}{}, nil
		}
		if failures != nil {
			failures.Inc()
		}
		last = fmt.Errorf("attempt %d: %w", attempt, err)
		if ctx.Err() != nil {
			return struct{}{}, backoff.Permanent(last)
		}
		if final != nil {
			if ferr := final(err, attempt); ferr != nil {
				return struct{}{}, backoff.Permanent(ferr)
			}
		}
		return struct{}{}, last
	},
		backoff.WithBackOff(&backoff.ExponentialBackOff{InitialInterval: c.cfg.RetryMin, RandomizationFactor: 0.2,
			Multiplier: 2, MaxInterval: c.cfg.RetryMax}),
		backoff.WithMaxElapsedTime(0), // only ctx ends the retries: the store being down must lose nothing
		backoff.WithNotify(func(err error, next time.Duration) {
			c.logger.Warn("attempt failed, retrying", "target", target, "retry_in", next, "err", err)
		}))
	if err != nil && ctx.Err() != nil && last != nil {
		// Cancelled while waiting: report the failure, not only the context's end.
		return last
	}
	return err
}

func headerValue(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
