package datastorage

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
	"github.com/slapipe/slapipe/store"
)

// errAbandoned reports that the work context ended before the batch was
// stored: nothing of it is committed.
var errAbandoned = errors.New("batch abandoned")

// handle stores one batch and commits it. It gives up only when ctx (the
// work context) is done, in which case nothing is committed, the batch will
// be redelivered, and it reports false.
func (c *Consumer) handle(ctx context.Context, r *kafka.Reader, dlq *kafka.Writer, batch []kafka.Message) bool {
	d := decodeBatch(batch, c.cfg.Topic, c.cfg.RunsTopic)
	rejected, err := c.store(ctx, d)
	if err == nil && len(rejected) > 0 {
		err = c.deadLetter(ctx, dlq, rejected)
	}
	if err != nil {
		c.logger.Warn("batch abandoned uncommitted at shutdown; it will be redelivered",
			"messages", len(batch), "err", err)
		return false
	}

	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := r.CommitMessages(cctx, batch...); err != nil {
		// Stored but not committed: the next owner of these partitions gets
		// the messages again and the idempotent store absorbs them.
		c.m.commitErrors.Inc()
		c.logger.Warn("committing offsets", "err", err, "messages", len(batch))
		return true
	}
	c.m.batches.Inc()
	c.m.batchSize.Observe(float64(len(batch)))
	c.logger.Debug("batch stored", "messages", len(batch), "analyses", len(d.analyses),
		"runs", len(d.runs), "dead_lettered", len(rejected))
	return true
}

// store writes the batch's analyses in one transaction, then its runs. It
// returns the messages to dead-letter: those rejected by decoding and those
// the store refuses (found by writing one by one when the batch is refused).
func (c *Consumer) store(ctx context.Context, d decoded) ([]kafka.Message, error) {
	rejected := d.rejected
	if len(d.analyses) > 0 {
		err := c.retry(ctx, "analyses", c.m.writeErrors.WithLabelValues("analyses"), func(ctx context.Context) error {
			return c.writeAnalyses(ctx, d.analyses)
		})
		if errors.Is(err, store.ErrInvalidArgument) {
			c.logger.Warn("store refused a batch; writing its messages one by one", "messages", len(d.analyses), "err", err)
			for i, a := range d.analyses {
				err := c.retry(ctx, "analyses", c.m.writeErrors.WithLabelValues("analyses"), func(ctx context.Context) error {
					return c.writeAnalyses(ctx, []*slapipev1.SeriesAnalysis{a})
				})
				if errors.Is(err, store.ErrInvalidArgument) {
					rejected = append(rejected, deadLetter(d.analysisSrc[i], err))
				} else if err != nil {
					return nil, errors.Join(errAbandoned, err)
				}
			}
		} else if err != nil {
			return nil, errors.Join(errAbandoned, err)
		}
	}
	// Runs after this batch's analyses. Across lanes a run may still arrive
	// before some of its analyses: readers are protected by the store, whose
	// latest run is one with all of its series stored.
	for i, run := range d.runs {
		err := c.retry(ctx, "runs", c.m.writeErrors.WithLabelValues("runs"), func(ctx context.Context) error { return c.w.UpsertRun(ctx, run) })
		if errors.Is(err, store.ErrInvalidArgument) {
			rejected = append(rejected, deadLetter(d.runSrc[i], err))
		} else if err != nil {
			return nil, errors.Join(errAbandoned, err)
		}
	}
	return rejected, nil
}

func (c *Consumer) writeAnalyses(ctx context.Context, as []*slapipev1.SeriesAnalysis) error {
	start := time.Now()
	if err := c.w.WriteAnalyses(ctx, as); err != nil {
		return err
	}
	c.m.writeDuration.Observe(time.Since(start).Seconds())
	return nil
}

// deadLetter sends msgs to the DLQ topic, retrying until it succeeds or ctx
// is done.
func (c *Consumer) deadLetter(ctx context.Context, dlq *kafka.Writer, msgs []kafka.Message) error {
	for _, m := range msgs {
		c.logger.Warn("dead-lettering message", "err", headerValue(m, HeaderError), "topic", headerValue(m, HeaderTopic),
			"partition", headerValue(m, HeaderPartition), "offset", headerValue(m, HeaderOffset))
	}
	if err := c.retry(ctx, "dlq", c.m.writeErrors.WithLabelValues("dlq"), func(ctx context.Context) error { return dlq.WriteMessages(ctx, msgs...) }); err != nil {
		return errors.Join(errAbandoned, err)
	}
	c.m.dlq.Add(float64(len(msgs)))
	return nil
}
