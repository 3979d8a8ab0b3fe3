package etl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/pkg/analysis"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Run statuses recorded in slapipev1.Run.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	// StatusEmpty is a run whose selectors matched no series: nothing was
	// analysed or published, and readers keep the previous run.
	StatusEmpty = "empty"
)

// runRecordTimeout bounds publishing the run record of a run whose context
// has already ended, so a cancelled run is still recorded as failed.
const runRecordTimeout = 10 * time.Second

// Run performs one run and returns its record, which has also been
// published to slapipev1.RunsTopic(Config.Topic). Invalid selectors are refused before the run
// starts (error wrapping ErrInvalidSelector, no record), and so are a
// context that ends before the run starts and, at the ETL's first run,
// Kafka topics that cannot be created. Any other failure (Prometheus,
// Kafka, cancellation) ends the run: its record says "failed" with the
// error, and Run returns both. A series whose analysis fails is still
// published with its window statistics; the failure is logged and counted,
// not fatal. A run over a limit of Config fails with an error wrapping
// ErrLimit that names it: at once for too many selectors (no record),
// and before pulling for too many series. A run whose pull and analysis
// outlast RunTimeout fails with an error saying so. A run whose selectors match nothing publishes
// only its record, with status "empty".
func (e *ETL) Run(ctx context.Context, opts RunOptions) (*slapipev1.Run, error) {
	selectors := opts.Selectors
	if selectors == nil {
		selectors = e.cfg.Selectors
	}
	if len(selectors) == 0 {
		return nil, fmt.Errorf("%w: no selectors", ErrInvalidSelector)
	}
	if len(selectors) > e.cfg.MaxSelectors {
		return nil, fmt.Errorf("%w: %d selectors, at most %d per run (--max-selectors)", ErrLimit, len(selectors), e.cfg.MaxSelectors)
	}
	for _, s := range selectors {
		if _, _, err := promsource.ParseSelector(s); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("etl run not started: %w", err)
	}
	select {
	case e.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the previous run: %w", ctx.Err())
	}
	defer func() { <-e.slot }()
	select {
	case <-e.closed:
		return nil, ErrClosed
	default:
	}
	if !e.topicsReady {
		// Once per ETL, at its first run rather than in New: Kafka may be
		// down when the component starts, and comes back later.
		tctx, cancel := context.WithTimeout(ctx, topicTimeout)
		err := e.ensureTopics(tctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("etl run not started: %w", err)
		}
		e.topicsReady = true
	}

	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("run id: %w", err)
	}
	trigger := opts.Trigger
	if trigger == "" {
		trigger = "manual"
	}
	r := &runState{
		etl:       e,
		selectors: selectors,
		rep:       &reporter{fn: opts.Progress, runID: id.String(), started: time.Now()},
		run:       &slapipev1.Run{RunId: id.String(), Trigger: trigger},
	}
	end := opts.End
	if end.IsZero() {
		end = r.rep.started
	}
	return r.execute(ctx, end)
}

// topicTimeout bounds the creation of the topics before the first run.
const topicTimeout = 30 * time.Second

// runState is one run in progress.
type runState struct {
	etl            *ETL
	selectors      []string
	rep            *reporter
	run            *slapipev1.Run
	analysisErrors int64
}

func (r *runState) execute(ctx context.Context, end time.Time) (*slapipev1.Run, error) {
	e := r.etl
	started := r.rep.started
	r.run.StartedAt = ts(started)
	step := e.cfg.Step
	// The grid is made of multiples of step since the Unix epoch (not since
	// time.Time's zero, which Truncate would use).
	stepMs := step.Milliseconds()
	endMs := end.UnixMilli()
	end = time.UnixMilli(endMs - ((endMs%stepMs)+stepMs)%stepMs)
	start := end.Add(-e.cfg.Range + step)

	var err error
	var empty bool
	if e.cfg.Distributed {
		empty, err = r.distribute(ctx, start, end)
	} else {
		empty, err = r.local(ctx, start, end)
	}

	finished := time.Now()
	r.run.FinishedAt = ts(finished)
	r.run.TotalSeconds = finished.Sub(started).Seconds()
	r.run.Status = StatusSucceeded
	if empty {
		r.run.Status = StatusEmpty
	}
	if err != nil {
		r.run.Status = StatusFailed
		r.run.Error = err.Error()
	}
	if perr := r.publishRun(ctx); perr != nil {
		if err != nil {
			e.logger.Warn("run record of a failed run not published", "run_id", r.run.RunId, "err", perr)
		} else {
			err = perr
			r.run.Status = StatusFailed
			r.run.Error = err.Error()
		}
	}
	e.metrics.stageDuration.WithLabelValues("total").Observe(r.run.TotalSeconds)
	e.metrics.runs.WithLabelValues(r.run.Status).Inc()
	r.rep.report("done", int(r.run.Series), int(r.run.Series), true)
	attrs := []any{
		"run_id", r.run.RunId, "status", r.run.Status, "trigger", r.run.Trigger,
		"series", r.run.Series, "analysis_errors", r.analysisErrors,
		"pull_seconds", r.run.PullSeconds, "analyse_seconds", r.run.AnalyseSeconds,
		"publish_seconds", r.run.PublishSeconds, "total_seconds", r.run.TotalSeconds,
		"range_start", start, "range_end", end,
	}
	if err != nil {
		e.logger.Error("etl run failed", append(attrs, "err", err)...)
		return r.run, fmt.Errorf("etl run %s: %w", r.run.RunId, err)
	}
	e.logger.Info("etl run finished", attrs...)
	return r.run, nil
}

// local pulls, analyses and publishes every series of the run in this
// process. empty says the selectors matched nothing.
func (r *runState) local(ctx context.Context, start, end time.Time) (empty bool, err error) {
	e := r.etl
	// The deadline covers the pull and the analysis, the stages whose cost
	// grows with what the selectors match; publishing keeps ctx so a run
	// that made it that far is not lost to the deadline.
	work, cancel := context.WithTimeout(ctx, e.cfg.RunTimeout)
	defer cancel()
	series, err := timed(r, "pull", &r.run.PullSeconds, func() ([]promsource.Series, error) {
		return r.pull(work, start, end)
	})
	empty = err == nil && len(series) == 0
	var msgs []kafka.Message
	if err == nil && !empty {
		r.run.Series = int64(len(series))
		msgs, err = timed(r, "analyse", &r.run.AnalyseSeconds, func() ([]kafka.Message, error) {
			return r.analyse(work, series)
		})
		if err == nil {
			// The run is complete once the store holds every series it
			// published.
			r.run.Series = int64(len(msgs))
		}
		series = nil // let the GC have the grid while publishing
	}
	if err != nil && errors.Is(work.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		err = fmt.Errorf("the run's pull and analysis took longer than %s (--run-timeout): %w", e.cfg.RunTimeout, err)
	}
	if err == nil && !empty {
		_, err = timed(r, "publish", &r.run.PublishSeconds, func() (struct{}, error) {
			r.rep.report("publish", 0, len(msgs), true)
			return struct{}{}, publish(ctx, e.pub, msgs, func(sent, chunk int) {
				e.metrics.messages.Add(float64(chunk))
				r.rep.report("publish", sent, len(msgs), sent == len(msgs))
			})
		})
	}
	return empty, err
}

// timed runs one stage, recording its duration in *secs and in the stage
// histogram.
func timed[T any](r *runState, stage string, secs *float64, fn func() (T, error)) (T, error) {
	t0 := time.Now()
	out, err := fn()
	*secs = time.Since(t0).Seconds()
	r.etl.metrics.stageDuration.WithLabelValues(stage).Observe(*secs)
	if err != nil {
		return out, fmt.Errorf("%s: %w", stage, err)
	}
	return out, nil
}

// pull plans the queries, runs them bounded-parallel and returns every
// series once, sorted by id.
func (r *runState) pull(ctx context.Context, start, end time.Time) ([]promsource.Series, error) {
	e := r.etl
	r.rep.report("pull", 0, 0, true)
	queries, err := e.src.Plan(ctx, r.selectors, start, end)
	if err != nil {
		return nil, err
	}
	if c, ok := e.src.(seriesCounter); ok && len(queries) > 0 {
		n, err := c.CountSeries(ctx, queries, start, end, e.cfg.MaxSeries)
		if err != nil {
			return nil, err
		}
		if n > e.cfg.MaxSeries {
			return nil, fmt.Errorf("%w: the selectors match at least %d series, at most %d per run (--max-series)", ErrLimit, n, e.cfg.MaxSeries)
		}
	}
	r.rep.report("pull", 0, len(queries), true)
	results := make([][]promsource.Series, len(queries))
	var done atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.Parallelism)
	for i, q := range queries {
		g.Go(func() error {
			ss, err := e.src.Fetch(gctx, q, start, end, e.cfg.Step)
			if err != nil {
				return err
			}
			results[i] = ss
			n := int(done.Add(1))
			r.rep.report("pull", n, len(queries), n == len(queries))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var all []promsource.Series
	for _, ss := range results {
		all = append(all, ss...)
	}
	all = promsource.Dedup(all)
	// Series born between the count and the pull, or a source that cannot
	// count: the limit holds before the analysis, the costly part.
	if len(all) > e.cfg.MaxSeries {
		return nil, fmt.Errorf("%w: the selectors matched %d series, at most %d per run (--max-series)", ErrLimit, len(all), e.cfg.MaxSeries)
	}
	return all, nil
}

// analyse runs the engine on every series, bounded-parallel, and returns
// the encoded messages in series order.
func (r *runState) analyse(ctx context.Context, series []promsource.Series) ([]kafka.Message, error) {
	r.rep.report("analyse", 0, len(series), true)
	msgs, failed, err := r.etl.analyseSeries(ctx, r.run.RunId, time.Time{}, 0, series, func(done int) {
		r.rep.report("analyse", done, len(series), done == len(series))
	})
	r.analysisErrors = failed
	return msgs, err
}

// analyseSeries runs the engine on every series, bounded-parallel, and
// returns the encoded messages of run runID in series order, and how many
// analyses failed. computedAt stamps every message; zero means the time
// each series is analysed. horizon is the forecast's length in steps; 0
// means slapipev1.HorizonSteps of the series' step. done, when set, is called after each series
// with the count so far.
func (e *ETL) analyseSeries(ctx context.Context, runID string, computedAt time.Time, horizon int, series []promsource.Series, done func(int)) ([]kafka.Message, int64, error) {
	msgs := make([]kafka.Message, len(series))
	var count, failed, rejected atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.Parallelism)
	for i := range series {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			s := &series[i]
			now := computedAt
			if now.IsZero() {
				now = time.Now()
			}
			m := seriesMessage(runID, s, now)
			h := horizon
			if h == 0 {
				h = slapipev1.HorizonSteps(s.Step)
			}
			res, err := e.analyze(analysis.Input{StepSeconds: s.Step.Seconds(), Values: s.Values, Horizon: h})
			if err != nil {
				failed.Add(1)
				e.metrics.analysisErrors.Inc()
				level := slog.LevelWarn
				if errors.Is(err, analysis.ErrAllGaps) || errors.Is(err, analysis.ErrNoValues) {
					level = slog.LevelDebug // nothing to analyse is expected, e.g. a counter seen once
				}
				e.logger.Log(gctx, level, "series analysis failed, publishing its statistics only",
					"run_id", runID, "series_id", s.ID, "metric", s.Metric, "labels", s.Labels, "err", err)
			} else {
				addResult(m, s, res)
			}
			e.metrics.seriesAnalysed.Inc()
			// A message breaking the contract (a metric name longer than
			// the store's column, say) would be dead-lettered by
			// datastorage and keep the run from ever being complete: leave
			// it out here.
			if err := m.Validate(); err != nil {
				rejected.Add(1)
				e.metrics.seriesRejected.Inc()
				e.logger.WarnContext(gctx, "series left out of the run: the store cannot keep it",
					"run_id", runID, "series_id", s.ID, "metric", s.Metric, "err", err)
			} else {
				b, err := proto.Marshal(m)
				if err != nil {
					return fmt.Errorf("encoding series %s: %w", s.ID, err)
				}
				msgs[i] = kafka.Message{Topic: e.cfg.Topic, Key: []byte(s.ID), Value: b, Time: now}
			}
			n := int(count.Add(1))
			if done != nil {
				done(n)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, failed.Load(), err
	}
	if rejected.Load() > 0 {
		msgs = slices.DeleteFunc(msgs, func(m kafka.Message) bool { return m.Value == nil })
	}
	return msgs, failed.Load(), nil
}

// seriesCounter is a source that can count series before pulling them
// (promsource.Source).
type seriesCounter interface {
	CountSeries(ctx context.Context, queries []promsource.Query, start, end time.Time, limit int) (int, error)
}

// publishRun writes the run record, keyed by run id. A run whose context
// ended still gets its record, within runRecordTimeout.
func (r *runState) publishRun(ctx context.Context) error {
	b, err := proto.Marshal(r.run)
	if err != nil {
		return fmt.Errorf("encoding run record: %w", err)
	}
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), runRecordTimeout)
		defer cancel()
	}
	topic := slapipev1.RunsTopic(r.etl.cfg.Topic)
	msg := kafka.Message{Topic: topic, Key: []byte(r.run.RunId), Value: b, Time: time.Now()}
	if err := r.etl.pub.WriteMessages(ctx, msg); err != nil {
		return fmt.Errorf("publishing run record to %s: %w", topic, err)
	}
	r.etl.metrics.messages.Inc()
	return nil
}
