package datastorage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// errAbandoned reports that the work context ended before the batch was
// stored: nothing of it is committed.
var errAbandoned = errors.New("batch abandoned")

// handle stores one batch and commits it. It gives up only when ctx (the
// work context) is done, in which case nothing is committed, the batch will
// be redelivered, and it reports false.
func (c *Consumer) handle(ctx context.Context, r *kafka.Reader, dlq *kafka.Writer, batch []kafka.Message) bool {
	d := decodeBatch(batch, c.cfg.Topic, c.cfg.runsTopic(), c.cfg.MaxMessageBytes)
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

// store writes the batch's analyses, then its runs. It returns the
// messages to dead-letter: those rejected by decoding and those the store
// refuses (isolateAnalyses finds them by splitting the batch).
func (c *Consumer) store(ctx context.Context, d decoded) ([]kafka.Message, error) {
	rejected := d.rejected
	if len(d.analyses) > 0 {
		bad, err := c.isolateAnalyses(ctx, d.analyses, d.analysisSrc, false)
		if err != nil {
			return nil, errors.Join(errAbandoned, err)
		}
		rejected = append(rejected, bad...)
	}
	// Runs after this batch's analyses. Across lanes a run may still arrive
	// before some of its analyses: readers are protected by the store, whose
	// latest run is one with all of its series stored.
	for i, run := range d.runs {
		err := c.retryWrite(ctx, "runs", c.cfg.PoisonTries, false, func(ctx context.Context) error { return c.w.UpsertRun(ctx, run) })
		var r *refusal
		if errors.As(err, &r) {
			rejected = append(rejected, deadLetter(d.runSrc[i], r))
		} else if err != nil {
			return nil, errors.Join(errAbandoned, err)
		}
	}
	return rejected, nil
}

// isolateAnalyses writes as (carried by src) and returns the messages the
// store refuses for their content. A refused batch is split in halves,
// each written on its own, down to the single message responsible, so one
// poison message costs about 2*log2(batch) writes plus its own tries, and
// never the rest of its batch. suspect says as is half of a refused batch:
// one failure that may be about the content is then enough to split it
// again, while a whole batch and a single message get PoisonTries.
func (c *Consumer) isolateAnalyses(ctx context.Context, as []*slapipev1.SeriesAnalysis, src []kafka.Message, suspect bool) ([]kafka.Message, error) {
	tries := c.cfg.PoisonTries
	if suspect && len(as) > 1 {
		tries = 1
	}
	err := c.retryWrite(ctx, "analyses", tries, len(as) > 1, func(ctx context.Context) error { return c.writeAnalyses(ctx, as) })
	var r *refusal
	if !errors.As(err, &r) {
		return nil, err
	}
	if len(as) == 1 {
		return []kafka.Message{deadLetter(src[0], r)}, nil
	}
	c.m.splits.Inc()
	c.logger.Warn("store refused a batch; splitting it to isolate the message", "messages", len(as), "err", r.err)
	mid := len(as) / 2
	bad, err := c.isolateAnalyses(ctx, as[:mid], src[:mid], true)
	if err != nil {
		return nil, err
	}
	more, err := c.isolateAnalyses(ctx, as[mid:], src[mid:], true)
	if err != nil {
		return nil, err
	}
	return append(bad, more...), nil
}

// refusal is a write failure about the content written, not the moment:
// retrying the same input will not succeed.
type refusal struct {
	err      error
	attempts int
}

func (r *refusal) Error() string {
	return fmt.Sprintf("refused by the store after %d attempts: %v", r.attempts, r.err)
}

func (r *refusal) Unwrap() error { return r.err }

// retryWrite calls f until it succeeds, ctx is done, or tries failures in
// a row show they are about the content: it then returns a *refusal. A
// failure is about the content when store.Permanent says so (splittable:
// f writes a batch that can be split, so one is enough), or when it is
// neither a lock conflict nor a store down (the store answers a ping right
// after it): a connection reset by a packet the server will not take looks
// like a lost connection. Every other failure is retried without bound, as
// the store being down must lose nothing.
func (c *Consumer) retryWrite(ctx context.Context, target string, tries int, splittable bool, f func(context.Context) error) error {
	strikes := 0
	return c.retryUntil(ctx, target, c.m.writeErrors.WithLabelValues(target), f, func(err error, attempt int) error {
		switch {
		case store.Permanent(err):
			if splittable {
				return &refusal{err: err, attempts: attempt}
			}
			strikes++
		case store.Contended(err) || !c.storeAnswers(ctx):
			strikes = 0
		default:
			strikes++
		}
		if strikes >= tries {
			return &refusal{err: err, attempts: attempt}
		}
		return nil
	})
}

// pingTimeout bounds the health check after a failed write.
const pingTimeout = 2 * time.Second

// storeAnswers reports whether the store answers a ping. A Writer that
// cannot be pinged is taken to be down: its ambiguous failures are then
// retried without bound rather than blamed on a message.
func (c *Consumer) storeAnswers(ctx context.Context) bool {
	p, ok := c.w.(interface{ Ping(context.Context) error })
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	return p.Ping(ctx) == nil
}

func (c *Consumer) writeAnalyses(ctx context.Context, as []*slapipev1.SeriesAnalysis) error {
	start := time.Now()
	if err := c.w.WriteAnalyses(ctx, as); err != nil {
		return err
	}
	c.m.writeDuration.Observe(time.Since(start).Seconds())
	return nil
}

// deadLetter sends msgs to the DLQ topic one by one, retrying until it
// succeeds or ctx is done. A message the topic refuses as too large is
// replaced by a reference to it (dlqReference).
func (c *Consumer) deadLetter(ctx context.Context, dlq *kafka.Writer, msgs []kafka.Message) error {
	for _, m := range msgs {
		c.logger.Warn("dead-lettering message", "err", headerValue(m, HeaderError), "topic", headerValue(m, HeaderTopic),
			"partition", headerValue(m, HeaderPartition), "offset", headerValue(m, HeaderOffset), "bytes", len(m.Value))
		err := c.retry(ctx, "dlq", c.m.writeErrors.WithLabelValues("dlq"), func(ctx context.Context) error {
			err := dlq.WriteMessages(ctx, m)
			if tooLarge(err) {
				c.logger.Warn("dead letter too large for its topic; sending a reference instead", "bytes", len(m.Value))
				m = dlqReference(m)
				c.m.dlqReferences.Inc()
				err = dlq.WriteMessages(ctx, m)
			}
			return err
		})
		if err != nil {
			return errors.Join(errAbandoned, err)
		}
		c.m.dlq.Inc()
	}
	return nil
}

// tooLarge reports a refusal of a message for its size, by the writer or
// the broker.
func tooLarge(err error) bool {
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if errors.Is(e, kafka.MessageSizeTooLarge) {
				return true
			}
		}
	}
	return errors.Is(err, kafka.MessageSizeTooLarge)
}
