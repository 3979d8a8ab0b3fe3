package etl

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/internal/kafkatopic"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// List and FetchSeries make fakeSource serve distributed runs: the series
// of the planned queries, as refs, then by ID.
func (f *fakeSource) List(_ context.Context, queries []promsource.Query, _, _ time.Time, _ time.Duration, _ int) ([]promsource.SeriesRef, error) {
	var refs []promsource.SeriesRef
	for _, q := range queries {
		for _, s := range f.series[q.Metric] {
			refs = append(refs, promsource.SeriesRef{ID: s.ID, Metric: s.Metric, Labels: s.Labels, Type: s.Type, Rate: s.Transform == promsource.TransformRate})
		}
	}
	return refs, nil
}

func (f *fakeSource) FetchSeries(ctx context.Context, refs []promsource.SeriesRef, start, end time.Time, _ time.Duration, _ int) ([]promsource.Series, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.fetchErr != nil {
		return nil, f.fetchErr
	}
	var out []promsource.Series
	for _, r := range refs {
		for _, s := range f.series[r.Metric] {
			if s.ID == r.ID {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// distributedETL is an ETL on brokers with fake Prometheus data and the
// fake engine; distributed says whether it hands the work to workers.
func distributedETL(t *testing.T, brokers []string, src *fakeSource, distributed bool, tweak func(*Config)) *ETL {
	t.Helper()
	cfg := Config{PrometheusURL: "http://127.0.0.1:1", Brokers: brokers, Topic: "pd", Partitions: 3,
		Distributed: distributed, TaskSeries: 4, SessionTimeout: 6 * time.Second, TaskTimeout: 20 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	e, err := New(cfg, Deps{Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	e.src = src
	e.analyze = fakeResult
	return e
}

// analysesOf reads the analyses of run id from topic pd, by series id,
// with the fields that differ between runs cleared.
func analysesOf(t *testing.T, brokers []string, id string) map[string]*slapipev1.SeriesAnalysis {
	t.Helper()
	out := map[string]*slapipev1.SeriesAnalysis{}
	for _, msgs := range readTopic(t, brokers, "pd") {
		for _, m := range msgs {
			var sa slapipev1.SeriesAnalysis
			require.NoError(t, proto.Unmarshal(m.Value, &sa))
			if sa.RunId != id {
				continue
			}
			sa.RunId, sa.ComputedAt = "", nil
			if prev, ok := out[sa.SeriesId]; ok {
				require.Empty(t, cmpAnalyses(prev, &sa), "a redelivered series changed")
			}
			out[sa.SeriesId] = &sa
		}
	}
	return out
}

func cmpAnalyses(a, b *slapipev1.SeriesAnalysis) string {
	if proto.Equal(a, b) {
		return ""
	}
	return fmt.Sprintf("%v\n!=\n%v", a, b)
}

func TestDistributedRunEqualsLocalRun(t *testing.T) {
	brokers := testkit.Broker(t, 0)
	var series []promsource.Series
	for i := range 30 {
		series = append(series, ramp("node_load1", map[string]string{"instance": fmt.Sprint(i)}, nil))
	}
	bad := ramp("node_load5", map[string]string{"instance": "x"}, nil)
	bad.Values[0] = 7 // fakeResult fails on it: published with its statistics only
	src := &fakeSource{series: map[string][]promsource.Series{"node_load1": series, "node_load5": {bad}}}
	sel := []string{"node_load1", "node_load5"}

	local := distributedETL(t, brokers, src, false, nil)
	lrun, err := local.Run(context.Background(), RunOptions{Selectors: sel, End: runEnd})
	require.NoError(t, err)
	require.EqualValues(t, 31, lrun.Series)

	coord := distributedETL(t, brokers, src, true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var workers []*ETL
	for i := range 2 {
		w := distributedETL(t, brokers, src, true, nil)
		workers = append(workers, w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Work(ctx, fmt.Sprint("w", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }()

	var mu sync.Mutex
	var stages []string
	last := map[string]Progress{}
	drun, err := coord.Run(context.Background(), RunOptions{Selectors: sel, End: runEnd, Progress: func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
		last[p.Stage] = p
	}})
	require.NoError(t, err)
	require.Equal(t, StatusSucceeded, drun.Status)
	require.EqualValues(t, 31, drun.Series)
	require.Equal(t, []string{"analyse", "done"}, stages)
	require.Equal(t, 31, last["analyse"].Done)
	require.Equal(t, 31, last["analyse"].Total)

	// 31 series in tasks of 4: 8 tasks, each done at least once (twice
	// when a rebalance moved it mid-task).
	// A worker counts a task once its report is out, so just after the
	// coordinator read it.
	require.Eventually(t, func() bool {
		done := 0.0
		for _, w := range workers {
			done += testutil.ToFloat64(w.metrics.tasks.WithLabelValues(taskDone))
		}
		return done >= 8
	}, 5*time.Second, 10*time.Millisecond)
	for _, w := range workers {
		require.Zero(t, testutil.ToFloat64(w.metrics.tasks.WithLabelValues(taskFailed)))
	}

	want, got := analysesOf(t, brokers, lrun.RunId), analysesOf(t, brokers, drun.RunId)
	require.Len(t, got, 31)
	for id, w := range want {
		require.Empty(t, cmpAnalyses(w, got[id]), "series %s", id)
	}
}

func TestDistributedRunWithoutWorkersFails(t *testing.T) {
	brokers := testkit.Broker(t, 0)
	src := &fakeSource{series: map[string][]promsource.Series{"node_load1": {ramp("node_load1", nil, nil)}}}
	coord := distributedETL(t, brokers, src, true, func(c *Config) { c.TaskTimeout = time.Second })
	t0 := time.Now()
	run, err := coord.Run(context.Background(), RunOptions{Selectors: []string{"node_load1"}, End: runEnd})
	require.ErrorIs(t, err, ErrNoWorkers)
	require.Contains(t, err.Error(), "consumer group slapipe-etl has no members")
	require.Equal(t, StatusFailed, run.GetStatus())
	require.Contains(t, run.GetError(), "no members")
	require.Less(t, time.Since(t0), 15*time.Second, "the run did not fail at its task timeout")
}

func TestDistributedTaskFailureFailsTheRun(t *testing.T) {
	brokers := testkit.Broker(t, 0)
	src := &fakeSource{series: map[string][]promsource.Series{"node_load1": {ramp("node_load1", nil, nil)}},
		fetchErr: errors.New("prometheus says no")}
	coord := distributedETL(t, brokers, src, true, nil)
	w := distributedETL(t, brokers, src, true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Work(ctx, "w") }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	run, err := coord.Run(context.Background(), RunOptions{Selectors: []string{"node_load1"}, End: runEnd})
	require.Error(t, err)
	require.Contains(t, run.GetError(), "task 0 on worker w: pull: prometheus says no")
	require.Eventually(t, func() bool { return testutil.ToFloat64(w.metrics.tasks.WithLabelValues(taskFailed)) == 1 },
		5*time.Second, 10*time.Millisecond, "the failed task is counted once")
}

// TestRedeliveredTaskPublishesTheSameMessages: a task worked twice (as
// after a crash before its commit) publishes byte-identical analyses.
func TestRedeliveredTaskPublishesTheSameMessages(t *testing.T) {
	brokers := testkit.Broker(t, 0)
	var series []promsource.Series
	for i := range 6 {
		series = append(series, ramp("node_load1", map[string]string{"instance": fmt.Sprint(i)}, nil))
	}
	src := &fakeSource{series: map[string][]promsource.Series{"node_load1": series}}
	coord := distributedETL(t, brokers, src, true, nil)
	w := distributedETL(t, brokers, src, true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Work(ctx, "w") }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	run, err := coord.Run(context.Background(), RunOptions{Selectors: []string{"node_load1"}, End: runEnd})
	require.NoError(t, err)

	// Hand the run's tasks out again and wait for their second reports.
	var again []kafka.Message
	for _, msgs := range readTopic(t, brokers, slapipev1.TasksTopic("pd")) {
		for _, m := range msgs {
			again = append(again, kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value})
		}
	}
	require.Len(t, again, 2, "6 series in tasks of 4")
	require.NoError(t, coord.tasks.WriteMessages(context.Background(), again...))
	require.Eventually(t, func() bool {
		return len(readTopic(t, brokers, slapipev1.ProgressTopic("pd"))[0]) == 4
	}, 20*time.Second, 50*time.Millisecond)

	byKey := map[string][][]byte{}
	for _, msgs := range readTopic(t, brokers, "pd") {
		for _, m := range msgs {
			byKey[string(m.Key)] = append(byKey[string(m.Key)], m.Value)
		}
	}
	require.Len(t, byKey, 6)
	for k, vs := range byKey {
		require.Len(t, vs, 2, "series %s", k)
		require.Equal(t, vs[0], vs[1], "series %s: the redelivered task published other bytes", k)
		var sa slapipev1.SeriesAnalysis
		require.NoError(t, proto.Unmarshal(vs[0], &sa))
		require.Equal(t, run.RunId, sa.RunId)
		require.True(t, sa.ComputedAt.AsTime().Equal(run.StartedAt.AsTime()), "computed_at is the run's start")
	}
}

// TestProgressTopicOfManyPartitionsIsRefused: reports on other partitions
// would never be read; the run says so instead of waiting for them.
func TestProgressTopicOfManyPartitionsIsRefused(t *testing.T) {
	brokers := testkit.Broker(t, 0)
	require.NoError(t, kafkatopic.Ensure(context.Background(), brokers, 3, slapipev1.ProgressTopic("pd")))
	src := &fakeSource{series: map[string][]promsource.Series{"node_load1": {ramp("node_load1", nil, nil)}}}
	coord := distributedETL(t, brokers, src, true, nil)
	run, err := coord.Run(context.Background(), RunOptions{Selectors: []string{"node_load1"}, End: runEnd})
	require.Error(t, err)
	require.Contains(t, run.GetError(), "topic pd.progress has 3 partitions")
}

// TestDistributedRunOverMaxSeriesFails: the limit holds before any task is
// handed out.
func TestDistributedRunOverMaxSeriesFails(t *testing.T) {
	brokers := testkit.Broker(t, 0)
	var series []promsource.Series
	for i := range 5 {
		series = append(series, ramp("node_load1", map[string]string{"instance": fmt.Sprint(i)}, nil))
	}
	src := &fakeSource{series: map[string][]promsource.Series{"node_load1": series}}
	coord := distributedETL(t, brokers, src, true, func(c *Config) { c.MaxSeries = 3 })
	run, err := coord.Run(context.Background(), RunOptions{Selectors: []string{"node_load1"}, End: runEnd})
	require.ErrorIs(t, err, ErrLimit)
	require.Contains(t, run.GetError(), "at most 3 per run (--max-series)")
	parts := readTopic(t, brokers, slapipev1.TasksTopic("pd"))
	for p, msgs := range parts {
		require.Empty(t, msgs, "a task went out on partition %d", p)
	}
}
