package etl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/etl/promsource"
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
	for wait := time.Second; ; wait = min(2*wait, retryMax) {
		tctx, cancel := context.WithTimeout(ctx, topicTimeout)
		err := e.ensureTopics(tctx)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		e.logger.Warn("etl worker: kafka topics not ready, retrying", "worker", name, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	rd := kafka.NewReader(kafka.ReaderConfig{
		Brokers: e.cfg.Brokers,
		Dialer:  e.cfg.Kafka.Dialer(),
		GroupID: e.cfg.GroupID,
		Topic:   slapipev1.TasksTopic(e.cfg.Topic),
		// One task is worked at a time; prefetching more would only hold
		// them here while another member could take them after a rebalance.
		QueueCapacity:  1,
		MinBytes:       1,
		MaxBytes:       16 << 20,
		MaxWait:        2 * time.Second, // see datastorage: kafka-go's margin below 1 s is too thin
		CommitInterval: 0,
		SessionTimeout: e.cfg.SessionTimeout,
		// Leaving the group on Close hands the partitions over at once
		// rather than after the session timeout.
		HeartbeatInterval:     max(e.cfg.SessionTimeout/10, 100*time.Millisecond),
		RebalanceTimeout:      e.cfg.SessionTimeout,
		JoinGroupBackoff:      time.Second,
		StartOffset:           kafka.FirstOffset,
		WatchPartitionChanges: true,
	})
	defer rd.Close()
	e.logger.Info("etl worker started", "worker", name, "group", e.cfg.GroupID, "topic", slapipev1.TasksTopic(e.cfg.Topic))
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
		if !e.workTask(ctx, name, m) {
			return nil // ctx done: the task is left uncommitted for another
		}
		if err := rd.CommitMessages(ctx, m); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// A rebalance took the partition: its new owner redoes the
			// task, which changes nothing (same messages, one report kept).
			e.logger.Warn("etl worker: committing a task failed", "worker", name, "partition", m.Partition, "offset", m.Offset, "err", err)
		}
	}
}

// workTask does the task in m and reports it, retrying with backoff while
// Kafka does not take the results. It returns false when ctx ended first.
func (e *ETL) workTask(ctx context.Context, name string, m kafka.Message) bool {
	var t slapipev1.ETLTask
	if err := proto.Unmarshal(m.Value, &t); err != nil {
		e.logger.Warn("etl worker: skipping a task that does not decode", "worker", name, "partition", m.Partition, "offset", m.Offset, "err", err)
		return true
	}
	log := e.logger.With("worker", name, "run_id", t.GetRunId(), "task", t.GetIndex(), "tasks", t.GetCount())
	if time.Now().After(t.GetDeadline().AsTime()) {
		log.Info("etl worker: skipping the task of a run past its deadline", "deadline", t.GetDeadline().AsTime())
		return true
	}
	wait := time.Second
	for {
		rep, err := e.doTask(ctx, &t)
		if err == nil {
			rep.Worker = name
			err = e.report(ctx, rep)
			if err == nil {
				log.Debug("etl task done", "series", rep.GetSeriesDone(), "published", rep.GetPublished())
				return true
			}
		}
		var fail taskError
		if errors.As(err, &fail) {
			// The task cannot be done (Prometheus refused it, a bad
			// task): the coordinator fails the run with the reason.
			log.Warn("etl task failed", "err", err)
			if err := e.report(ctx, &slapipev1.ETLTaskDone{RunId: t.GetRunId(), Index: t.GetIndex(), Worker: name, Error: err.Error()}); err == nil {
				return true
			}
		}
		if ctx.Err() != nil {
			return false
		}
		if time.Now().After(t.GetDeadline().AsTime()) {
			log.Warn("etl worker: giving the task up at its run's deadline", "err", err)
			return true
		}
		log.Warn("etl worker: retrying the task", "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
}

// taskError is a task that cannot be done, as opposed to results Kafka
// did not take (retried).
type taskError struct{ error }

func (t taskError) Unwrap() error { return t.error }

// doTask pulls, analyses and publishes the series of t and returns its
// report.
func (e *ETL) doTask(ctx context.Context, t *slapipev1.ETLTask) (*slapipev1.ETLTaskDone, error) {
	step := time.Duration(t.GetStepMs()) * time.Millisecond
	if t.GetRunId() == "" || step <= 0 || t.GetHorizonSteps() < 0 {
		return nil, taskError{fmt.Errorf("invalid task: run id %q, step %s, horizon %d", t.GetRunId(), step, t.GetHorizonSteps())}
	}
	refs := make([]promsource.SeriesRef, len(t.GetSeries()))
	for i, s := range t.GetSeries() {
		refs[i] = promsource.SeriesRef{ID: promsource.SeriesID(s.GetMetric(), s.GetLabels()), Metric: s.GetMetric(),
			Labels: s.GetLabels(), Type: s.GetMetricType(), Rate: s.GetRate()}
	}
	rep := &slapipev1.ETLTaskDone{RunId: t.GetRunId(), Index: t.GetIndex(), SeriesDone: int64(len(refs))}
	t0 := time.Now()
	series, err := e.src.FetchSeries(ctx, refs, t.GetStart().AsTime(), t.GetEnd().AsTime(), step, e.cfg.Parallelism)
	rep.PullSeconds = time.Since(t0).Seconds()
	e.metrics.stageDuration.WithLabelValues("pull").Observe(rep.PullSeconds)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, taskError{fmt.Errorf("pull: %w", err)}
	}
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
