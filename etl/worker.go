package etl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// retryMax is the longest wait between two attempts at a task whose
// results Kafka did not take.
const retryMax = 30 * time.Second

// ensureTopics creates the topics the ETL writes, once: the analyses and
// run records, and for a distributed ETL its tasks and its progress (one
// partition, read in order by the coordinator).
func (e *ETL) ensureTopics(ctx context.Context) error {
	if err := ensureTopics(ctx, e.cfg.Kafka, e.cfg.Brokers, e.cfg.Partitions, e.cfg.Topic, slapipev1.RunsTopic(e.cfg.Topic)); err != nil {
		return err
	}
	if !e.cfg.Distributed {
		return nil
	}
	if err := ensureTopics(ctx, e.cfg.Kafka, e.cfg.Brokers, e.cfg.Partitions, slapipev1.TasksTopic(e.cfg.Topic)); err != nil {
		return err
	}
	return ensureTopics(ctx, e.cfg.Kafka, e.cfg.Brokers, 1, slapipev1.ProgressTopic(e.cfg.Topic))
}

// Work is one worker of consumer group GroupID: it takes tasks from
// slapipev1.TasksTopic(Topic) one at a time, pulls their series from
// Prometheus, analyses them, publishes the analyses to Topic and a report
// to slapipev1.ProgressTopic(Topic), and
// only then commits the task, so a worker that dies mid-task leaves it to
// the member that takes its partitions over. name tells workers apart in
// reports and logs. Work returns nil when ctx is done; Kafka failures are
// logged and retried.
func (e *ETL) Work(ctx context.Context, name string) error {
	// Kafka may be down when the component starts: the worker waits for it,
	// as runs do, rather than take its component down.
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		tctx, cancel := context.WithTimeout(ctx, topicTimeout)
		defer cancel()
		return struct{}{}, e.ensureTopics(tctx)
	}, retryOptions(func(err error, next time.Duration) {
		e.logger.Warn("etl worker: kafka topics not ready, retrying", "worker", name, "in", next, "err", err)
	})...)
	if err != nil {
		return nil // only ctx ends the retries
	}
	rd := kafka.NewReader(kafka.ReaderConfig{
		Brokers: e.cfg.Brokers,
		Dialer:  e.cfg.Kafka.Dialer(),
		GroupID: e.cfg.GroupID,
		Topic:   slapipev1.TasksTopic(e.cfg.Topic),
		// One task is worked and the next pulled at a time; prefetching
		// more would only hold tasks here that another member could take
		// after a rebalance.
		QueueCapacity:  1,
		MinBytes:       1,
		MaxBytes:       16 << 20,
		MaxWait:        2 * time.Second, // see datastorage: kafka-go's margin below 1 s is too thin
		CommitInterval: 0,
		// A silent member's partitions go to the others after the session
		// timeout (Close leaves the group and hands them over at once); the
		// heartbeat keeps well inside it.
		SessionTimeout:        e.cfg.SessionTimeout,
		HeartbeatInterval:     max(e.cfg.SessionTimeout/10, 100*time.Millisecond),
		RebalanceTimeout:      e.cfg.SessionTimeout,
		JoinGroupBackoff:      time.Second,
		StartOffset:           kafka.FirstOffset,
		WatchPartitionChanges: true,
	})
	defer rd.Close()
	e.logger.Info("etl worker started", "worker", name, "group", e.cfg.GroupID, "topic", slapipev1.TasksTopic(e.cfg.Topic))

	// The next task is fetched and pulled while this one is analysed: the
	// pull mostly waits for Prometheus, the analysis uses the cores.
	pulls := make(chan pulledTask)
	var ferr error
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(pulls)
		ferr = e.prefetch(fctx, rd, name, pulls)
	}()
	defer func() { stop(); <-done }()
	for p := range pulls {
		if !e.workTask(ctx, name, p) {
			return nil // ctx done: the task is left uncommitted for another
		}
		if err := rd.CommitMessages(ctx, p.msg); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// A rebalance took the partition: its new owner redoes the
			// task, which changes nothing (same messages, one report kept).
			e.logger.Warn("etl worker: committing a task failed", "worker", name, "partition", p.msg.Partition, "offset", p.msg.Offset, "err", err)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return ferr
}

// pulledTask is a task fetched from Kafka and, unless it is to be skipped
// (task nil), pulled from Prometheus.
type pulledTask struct {
	msg    kafka.Message
	task   *slapipev1.ETLTask
	series []promsource.Series
	pull   time.Duration
	err    error
}

// prefetch fetches tasks and pulls their series into out, one ahead of
// the worker, until ctx is done or the reader fails.
func (e *ETL) prefetch(ctx context.Context, rd *kafka.Reader, name string, out chan<- pulledTask) error {
	for {
		m, err := rd.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// kafka-go retries the group and the fetches itself; an error
			// here is the reader's end.
			return fmt.Errorf("etl worker %s: fetching tasks: %w", name, err)
		}
		p := pulledTask{msg: m, task: &slapipev1.ETLTask{}}
		switch err := proto.Unmarshal(m.Value, p.task); {
		case err != nil:
			e.logger.Warn("etl worker: skipping a task that does not decode", "worker", name, "partition", m.Partition, "offset", m.Offset, "err", err)
			p.task = nil
		case time.Now().After(p.task.GetDeadline().AsTime()):
			e.logger.Info("etl worker: skipping the task of a run past its deadline", "worker", name,
				"run_id", p.task.GetRunId(), "task", p.task.GetIndex(), "deadline", p.task.GetDeadline().AsTime())
			p.task = nil
		default:
			p.series, p.pull, p.err = e.pullTask(ctx, p.task)
		}
		select {
		case out <- p:
		case <-ctx.Done():
			return nil
		}
	}
}

// workTask analyses, publishes and reports the task of p, pulling it again
// and retrying with backoff while Kafka does not take the results. It
// returns false when ctx ended first.
func (e *ETL) workTask(ctx context.Context, name string, p pulledTask) bool {
	t := p.task
	if t == nil {
		e.metrics.tasks.WithLabelValues(taskSkipped).Inc()
		return true
	}
	log := e.logger.With("worker", name, "run_id", t.GetRunId(), "task", t.GetIndex(), "tasks", t.GetCount())
	attempt := 0
	ok, err := backoff.Retry(ctx, func() (bool, error) {
		if attempt > 0 {
			p.series, p.pull, p.err = e.pullTask(ctx, t)
		}
		attempt++
		rep, err := e.doTask(ctx, t, p)
		if err == nil {
			rep.Worker = name
			err = e.report(ctx, rep)
			if err == nil {
				e.metrics.tasks.WithLabelValues(taskDone).Inc()
				log.Debug("etl task done", "series", rep.GetSeriesDone(), "published", rep.GetPublished())
				return true, nil
			}
		}
		var fail taskError
		if errors.As(err, &fail) {
			// The task cannot be done (Prometheus refused it, a bad
			// task): the coordinator fails the run with the reason.
			log.Warn("etl task failed", "err", err)
			if err := e.report(ctx, &slapipev1.ETLTaskDone{RunId: t.GetRunId(), Index: t.GetIndex(), Worker: name, Error: err.Error()}); err == nil {
				e.metrics.tasks.WithLabelValues(taskFailed).Inc()
				return true, nil
			}
		}
		if ctx.Err() != nil {
			return false, backoff.Permanent(ctx.Err())
		}
		if time.Now().After(t.GetDeadline().AsTime()) {
			log.Warn("etl worker: giving the task up at its run's deadline", "err", err)
			e.metrics.tasks.WithLabelValues(taskSkipped).Inc()
			return true, nil
		}
		return false, err
	}, retryOptions(func(err error, next time.Duration) {
		log.Warn("etl worker: retrying the task", "in", next, "err", err)
	})...)
	return err == nil && ok
}

// retryOptions are the worker's retries: 1 s doubling to retryMax,
// jittered ±20 % so workers do not retry in step, until ctx ends.
func retryOptions(notify backoff.Notify) []backoff.RetryOption {
	return []backoff.RetryOption{
		backoff.WithBackOff(&backoff.ExponentialBackOff{InitialInterval: time.Second, RandomizationFactor: 0.2,
			Multiplier: 2, MaxInterval: retryMax}),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(notify),
	}
}

// taskError is a task that cannot be done, as opposed to results Kafka
// did not take (retried).
type taskError struct{ error }

func (t taskError) Unwrap() error { return t.error }

// pullTask pulls the series of t.
func (e *ETL) pullTask(ctx context.Context, t *slapipev1.ETLTask) ([]promsource.Series, time.Duration, error) {
	step := time.Duration(t.GetStepMs()) * time.Millisecond
	if t.GetRunId() == "" || step <= 0 || t.GetHorizonSteps() < 0 {
		return nil, 0, taskError{fmt.Errorf("invalid task: run id %q, step %s, horizon %d", t.GetRunId(), step, t.GetHorizonSteps())}
	}
	refs := make([]promsource.SeriesRef, len(t.GetSeries()))
	for i, s := range t.GetSeries() {
		refs[i] = promsource.SeriesRef{ID: promsource.SeriesID(s.GetMetric(), s.GetLabels()), Metric: s.GetMetric(),
			Labels: s.GetLabels(), Type: s.GetMetricType(), Rate: s.GetRate()}
	}
	t0 := time.Now()
	series, err := e.src.FetchSeries(ctx, refs, t.GetStart().AsTime(), t.GetEnd().AsTime(), step, e.cfg.Parallelism)
	took := time.Since(t0)
	e.metrics.stageDuration.WithLabelValues("pull").Observe(took.Seconds())
	if err != nil && ctx.Err() == nil {
		err = taskError{fmt.Errorf("pull: %w", err)}
	}
	return series, took, err
}

// doTask analyses and publishes the series p pulled for t and returns its
// report.
func (e *ETL) doTask(ctx context.Context, t *slapipev1.ETLTask, p pulledTask) (*slapipev1.ETLTaskDone, error) {
	if p.err != nil {
		return nil, p.err
	}
	series := p.series
	rep := &slapipev1.ETLTaskDone{RunId: t.GetRunId(), Index: t.GetIndex(), SeriesDone: int64(len(t.GetSeries())), PullSeconds: p.pull.Seconds()}
	t1 := time.Now()
	msgs, failed, err := e.analyseSeries(ctx, t.GetRunId(), t.GetComputedAt().AsTime(), int(t.GetHorizonSteps()), series, nil)
	rep.AnalyseSeconds = time.Since(t1).Seconds()
	e.metrics.stageDuration.WithLabelValues("analyse").Observe(rep.AnalyseSeconds)
	if err != nil {
		return nil, err // only ctx ends an analysis
	}
	rep.AnalysisErrors, rep.Published = failed, int64(len(msgs))
	t2 := time.Now()
	err = publish(ctx, e.pub, msgs, func(_, chunk int) { e.metrics.messages.Add(float64(chunk)) })
	rep.PublishSeconds = time.Since(t2).Seconds()
	e.metrics.stageDuration.WithLabelValues("publish").Observe(rep.PublishSeconds)
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// report publishes rep on the progress topic, keyed by run id.
func (e *ETL) report(ctx context.Context, rep *slapipev1.ETLTaskDone) error {
	b, err := proto.Marshal(rep)
	if err != nil {
		return fmt.Errorf("encoding a task report: %w", err)
	}
	if err := e.pub.WriteMessages(ctx, kafka.Message{Topic: slapipev1.ProgressTopic(e.cfg.Topic), Key: []byte(rep.GetRunId()), Value: b}); err != nil {
		return fmt.Errorf("reporting task %d of run %s: %w", rep.GetIndex(), rep.GetRunId(), err)
	}
	return nil
}

// WorkerName is a default name for worker n of this process:
// host/pid/n.
func WorkerName(n int) string {
	host, _ := os.Hostname()
	return host + "/" + strconv.Itoa(os.Getpid()) + "/" + strconv.Itoa(n)
}
