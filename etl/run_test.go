package etl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/pkg/analysis"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// fakeSource answers Plan with one query per metric of its data and Fetch
// with the series of that metric, recording the range it was asked for.
type fakeSource struct {
	series   map[string][]promsource.Series // by metric
	fetchErr error
	onPlan   func()
	mu       sync.Mutex
	plans    int
	starts   []time.Time
	ends     []time.Time
}

func (f *fakeSource) Plan(_ context.Context, selectors []string, _, _ time.Time) ([]promsource.Query, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plans++
	if f.onPlan != nil {
		f.onPlan()
	}
	var qs []promsource.Query
	for _, s := range selectors {
		if _, ok := f.series[s]; ok {
			qs = append(qs, promsource.Query{Metric: s, Selector: s})
		}
	}
	return qs, nil
}

func (f *fakeSource) Fetch(ctx context.Context, q promsource.Query, start, end time.Time, _ time.Duration) ([]promsource.Series, error) {
	f.mu.Lock()
	f.starts = append(f.starts, start)
	f.ends = append(f.ends, end)
	f.mu.Unlock()
	if f.fetchErr != nil {
		return nil, f.fetchErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return f.series[q.Metric], nil
}

// fakePublisher keeps what it is given; failTopic makes writes to that
// topic fail.
type fakePublisher struct {
	mu        sync.Mutex
	msgs      []kafka.Message
	ctxErrs   []error
	failTopic string
	closed    bool
}

func (p *fakePublisher) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs {
		if m.Topic == p.failTopic {
			return errors.New("broker unavailable")
		}
	}
	p.ctxErrs = append(p.ctxErrs, ctx.Err())
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *fakePublisher) Close() error { p.closed = true; return nil }

func (p *fakePublisher) topic(name string) []kafka.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []kafka.Message
	for _, m := range p.msgs {
		if m.Topic == name {
			out = append(out, m)
		}
	}
	return out
}

const step = 5 * time.Second

var runEnd = time.Unix(1_700_000_000, 0).UTC() // a multiple of 5 s

// ramp is a 12 h series whose value at index i is i (NaN where gap says).
func ramp(metric string, labels map[string]string, gap func(i int) bool) promsource.Series {
	v := make([]float64, 8640)
	for i := range v {
		v[i] = float64(i)
		if gap != nil && gap(i) {
			v[i] = math.NaN()
		}
	}
	return promsource.Series{
		ID: promsource.SeriesID(metric, labels), Metric: metric, Labels: labels, Type: "gauge",
		Transform: promsource.TransformRaw, Start: runEnd.Add(-12*time.Hour + step), Step: step, Values: v,
	}
}

// fakeResult is a complete engine answer whose numbers are recognisable.
func fakeResult(in analysis.Input) (*analysis.Result, error) {
	if !math.IsNaN(in.Values[0]) && in.Values[0] != 0 {
		return nil, errors.New("too few samples")
	}
	h := in.Horizon
	f := &analysis.Forecast{Horizon: h, Model: "damped", Sigma: 1.5, AICc: -12, Params: map[string]float64{"alpha": 0.5}}
	for k := range h {
		f.Mean = append(f.Mean, 100+float64(k))
		f.Lower = append(f.Lower, 90+float64(k))
		f.Upper = append(f.Upper, 110+float64(k))
	}
	return &analysis.Result{
		N: len(in.Values),
		ADF: &analysis.ADF{Statistic: -3.5, PValue: 0.01, UsedLag: 4, NObs: 8000,
			CriticalValues: map[string]float64{"1%": -3.43, "5%": -2.86, "10%": -2.57}, ICBest: 42, Stationary: true},
		ACF:         []float64{1, 0.5, 0.25},
		Seasonality: &analysis.Seasonality{Period: 720, Detected: true, Seasonal: []float64{1, -1}, Strength: 0.8},
		Forecast:    f,
	}, nil
}

func newFakeETL(t *testing.T, src source, pub publisher, reg prometheus.Registerer, logs *bytes.Buffer) *ETL {
	t.Helper()
	cfg, err := Config{PrometheusURL: "http://127.0.0.1:1", Brokers: []string{"x:9092"}, Parallelism: 3}.withDefaults()
	require.NoError(t, err)
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	e, err := newETL(cfg, Deps{Logger: logger, Registerer: reg}, src, pub)
	require.NoError(t, err)
	e.analyze = fakeResult
	e.topicsReady = true // the fake publisher has no topics to create
	return e
}

func TestRunPublishesEverySeries(t *testing.T) {
	good := ramp("node_load1", map[string]string{"instance": "a"}, nil)
	gappy := ramp("node_load1", map[string]string{"instance": "b"}, func(i int) bool { return i%2 == 1 || i >= 8640-600 })
	bad := ramp("node_load5", map[string]string{"instance": "a"}, nil)
	bad.Values[0] = 7 // fakeResult fails on it
	src := &fakeSource{series: map[string][]promsource.Series{"node_load1": {good, gappy}, "node_load5": {bad}}}
	pub := &fakePublisher{}
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	e := newFakeETL(t, src, pub, reg, &logs)

	var progress []Progress
	run, err := e.Run(context.Background(), RunOptions{
		Selectors: []string{"node_load1", "node_load5"}, Trigger: "cli", End: runEnd.Add(3 * time.Second),
		Progress: func(p Progress) { progress = append(progress, p) },
	})
	require.NoError(t, err)
	require.Equal(t, StatusSucceeded, run.Status)
	require.Equal(t, "cli", run.Trigger)
	require.EqualValues(t, 3, run.Series)
	require.Empty(t, run.Error)
	require.Positive(t, run.TotalSeconds)
	require.GreaterOrEqual(t, run.TotalSeconds, run.PullSeconds+run.AnalyseSeconds+run.PublishSeconds)

	// The run's range ends at End rounded down to the step and spans 12 h.
	// One fetch per planned query: node_load1 and node_load5.
	require.Len(t, src.ends, 2)
	require.Len(t, src.starts, 2)
	for i := range src.ends {
		require.True(t, src.ends[i].Equal(runEnd), "end %s", src.ends[i])
		require.True(t, src.starts[i].Equal(runEnd.Add(-12*time.Hour+step)), "start %s", src.starts[i])
	}

	msgs := pub.topic(slapipev1.DefaultTopic)
	require.Len(t, msgs, 3)
	byID := map[string]*slapipev1.SeriesAnalysis{}
	for _, m := range msgs {
		var sa slapipev1.SeriesAnalysis
		require.NoError(t, proto.Unmarshal(m.Value, &sa))
		require.Equal(t, sa.SeriesId, string(m.Key))
		require.Equal(t, run.RunId, sa.RunId)
		byID[sa.SeriesId] = &sa
	}

	g := byID[good.ID]
	require.NotNil(t, g)
	require.Equal(t, "node_load1", g.Metric)
	require.Equal(t, map[string]string{"instance": "a"}, g.Labels)
	require.Equal(t, "raw", g.Transform)
	require.Equal(t, "gauge", g.MetricType)
	require.EqualValues(t, 8640, g.Samples)
	require.Zero(t, g.Gaps)
	require.Equal(t, 5.0, g.StepSeconds)
	require.True(t, g.RangeEnd.AsTime().Equal(runEnd))
	require.True(t, g.RangeStart.AsTime().Equal(runEnd.Add(-12*time.Hour+step)))
	// Windows of the ramp 0..8639, known by construction: the last 720,
	// 2160 and 8640 values.
	wantWin := map[string][3]float64{"1h": {720, 7920, 8639}, "3h": {2160, 6480, 8639}, "12h": {8640, 0, 8639}}
	require.Len(t, g.Windows, 3)
	for _, w := range g.Windows {
		want := wantWin[w.Window]
		require.EqualValues(t, want[0], w.Samples, w.Window)
		require.Equal(t, want[1], w.Min, w.Window)
		require.Equal(t, want[2], w.Max, w.Window)
		require.InDelta(t, (want[1]+want[2])/2, w.Mean, 1e-9, w.Window)
		// Sample stddev of n consecutive integers: sqrt(n(n+1)/12).
		require.InDelta(t, math.Sqrt(want[0]*(want[0]+1)/12), w.Stddev, 1e-9, w.Window)
	}
	require.Equal(t, &slapipev1.ADF{Statistic: -3.5, Pvalue: 0.01, UsedLag: 4, Nobs: 8000,
		Critical_1: -3.43, Critical_5: -2.86, Critical_10: -2.57, IcBest: 42, Stationary: true}, stripADF(g.Adf))
	require.Equal(t, []float64{1, 0.5, 0.25}, g.Acf)
	require.EqualValues(t, 720, g.Seasonality.Period)
	require.True(t, g.Seasonality.Detected)
	require.Equal(t, 0.8, g.Seasonality.Strength)
	f := g.Forecast
	require.Equal(t, "damped", f.Model)
	require.EqualValues(t, 120, f.Horizon)
	require.Len(t, f.Points, 120)
	for k, p := range f.Points {
		require.True(t, p.Time.AsTime().Equal(runEnd.Add(time.Duration(k+1)*step)), "point %d at %s", k, p.Time.AsTime())
		require.Equal(t, 100+float64(k), p.Mean)
		require.Equal(t, 90+float64(k), p.Lower)
		require.Equal(t, 110+float64(k), p.Upper)
	}
	require.Equal(t, 100.0, f.PredictedMin)
	require.Equal(t, 219.0, f.PredictedMax)
	require.Equal(t, 159.5, f.PredictedMean)
	require.Equal(t, 1.5, f.Sigma)
	require.Equal(t, -12.0, f.Aicc)
	require.Equal(t, map[string]float64{"alpha": 0.5}, f.Params)
	require.Len(t, f.History, 120)
	require.Equal(t, 8520.0, f.History[0])
	require.Equal(t, 8639.0, f.History[119])

	gp := byID[gappy.ID]
	require.EqualValues(t, 8640, gp.Samples)
	require.EqualValues(t, (8640-600)/2+600, gp.Gaps)
	require.Len(t, gp.Windows, 3)
	var hour *slapipev1.WindowStats
	for _, w := range gp.Windows {
		if w.Window == "1h" {
			hour = w
		}
	}
	require.NotNil(t, hour, "no 1h window")
	// 120 of the last 720 are before the trailing gap; half are gaps.
	require.EqualValues(t, 60, hour.Samples)
	require.Equal(t, 7920.0, hour.Min)
	require.Equal(t, 8038.0, hour.Max)

	// A failed analysis still publishes identity and windows.
	b := byID[bad.ID]
	require.NotNil(t, b)
	require.Len(t, b.Windows, 3)
	require.Nil(t, b.Forecast)
	require.Nil(t, b.Adf)
	require.Contains(t, logs.String(), `"series analysis failed`)
	require.Contains(t, logs.String(), bad.ID)

	runs := pub.topic(slapipev1.RunsTopic(slapipev1.DefaultTopic))
	require.Len(t, runs, 1)
	require.Equal(t, run.RunId, string(runs[0].Key))
	var rec slapipev1.Run
	require.NoError(t, proto.Unmarshal(runs[0].Value, &rec))
	require.True(t, proto.Equal(run, &rec), "published %v, returned %v", &rec, run)

	require.Equal(t, 1.0, testutil.ToFloat64(e.metrics.runs.WithLabelValues("succeeded")))
	require.Equal(t, 3.0, testutil.ToFloat64(e.metrics.seriesAnalysed))
	require.Equal(t, 1.0, testutil.ToFloat64(e.metrics.analysisErrors))
	require.Equal(t, 4.0, testutil.ToFloat64(e.metrics.messages))
	n, err := testutil.GatherAndCount(reg, "slapipe_etl_stage_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.Contains(t, logs.String(), `"msg":"etl run finished"`)
	require.Contains(t, logs.String(), `"run_id":"`+run.RunId+`"`)
	require.Contains(t, logs.String(), `"pull_seconds":`)

	requireProgress(t, run.RunId, progress, map[string]int{"pull": 2, "analyse": 3, "publish": 3, "done": 3})
}

// stripADF drops protobuf internals so require.Equal compares fields.
func stripADF(a *slapipev1.ADF) *slapipev1.ADF {
	if a == nil {
		return nil
	}
	return &slapipev1.ADF{Statistic: a.Statistic, Pvalue: a.Pvalue, UsedLag: a.UsedLag, Nobs: a.Nobs,
		Critical_1: a.Critical_1, Critical_5: a.Critical_5, Critical_10: a.Critical_10, IcBest: a.IcBest, Stationary: a.Stationary}
}

// requireProgress checks stages come in order, Done never decreases within
// a stage and each stage ends at its total.
func requireProgress(t *testing.T, runID string, ps []Progress, totals map[string]int) {
	t.Helper()
	order := map[string]int{"pull": 0, "analyse": 1, "publish": 2, "done": 3}
	last := map[string]Progress{}
	prevStage := -1
	for _, p := range ps {
		require.Equal(t, runID, p.RunID)
		o, ok := order[p.Stage]
		require.True(t, ok, "unknown stage %q", p.Stage)
		require.GreaterOrEqual(t, o, prevStage, "stage %s after a later one", p.Stage)
		prevStage = o
		if l, ok := last[p.Stage]; ok {
			require.GreaterOrEqual(t, p.Done, l.Done, "stage %s went back", p.Stage)
		}
		last[p.Stage] = p
	}
	for stage, total := range totals {
		l, ok := last[stage]
		require.True(t, ok, "no progress for stage %s", stage)
		require.Equal(t, total, l.Total, stage)
		require.Equal(t, total, l.Done, stage)
	}
}

func TestRunFailures(t *testing.T) {
	series := map[string][]promsource.Series{"node_load1": {ramp("node_load1", map[string]string{"instance": "a"}, nil)}}
	cases := []struct {
		name        string
		src         *fakeSource
		pub         *fakePublisher
		cancel      bool
		wantErr     string
		wantRecord  bool
		wantSeriesN int
	}{
		{"prometheus down", &fakeSource{series: series, fetchErr: errors.New("connection refused")}, &fakePublisher{},
			false, "pull: connection refused", true, 0},
		{"kafka refuses series", &fakeSource{series: series}, &fakePublisher{failTopic: slapipev1.DefaultTopic},
			false, "publish: writing messages 0-0 of 1: broker unavailable", true, 0},
		{"kafka refuses run record", &fakeSource{series: series}, &fakePublisher{failTopic: slapipev1.RunsTopic(slapipev1.DefaultTopic)},
			false, "broker unavailable", false, 1},
		{"cancelled", &fakeSource{series: series}, &fakePublisher{},
			true, "context canceled", true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newFakeETL(t, c.src, c.pub, prometheus.NewRegistry(), nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancel {
				c.src.onPlan = cancel
			}
			run, err := e.Run(ctx, RunOptions{Selectors: []string{"node_load1"}, End: runEnd})
			require.Error(t, err)
			require.Contains(t, err.Error(), c.wantErr)
			require.NotNil(t, run)
			require.Equal(t, StatusFailed, run.Status)
			require.Contains(t, run.Error, c.wantErr)
			require.Len(t, c.pub.topic(slapipev1.DefaultTopic), c.wantSeriesN)
			records := c.pub.topic(slapipev1.RunsTopic(slapipev1.DefaultTopic))
			if !c.wantRecord {
				require.Empty(t, records)
			} else {
				require.Len(t, records, 1)
				var rec slapipev1.Run
				require.NoError(t, proto.Unmarshal(records[0].Value, &rec))
				require.Equal(t, StatusFailed, rec.Status)
				require.Contains(t, rec.Error, c.wantErr)
				for _, ce := range c.pub.ctxErrs {
					require.NoError(t, ce, "run record written with a dead context")
				}
			}
			require.Equal(t, 1.0, testutil.ToFloat64(e.metrics.runs.WithLabelValues("failed")))
		})
	}
}

func TestRunRefusedBeforeStart(t *testing.T) {
	src := &fakeSource{series: map[string][]promsource.Series{}}
	pub := &fakePublisher{}
	e := newFakeETL(t, src, pub, nil, nil)
	for _, sel := range []string{"up or vector(1)", `foo{a="b"}[5m]`, "sum(up)", ""} {
		run, err := e.Run(context.Background(), RunOptions{Selectors: []string{"node_load1", sel}})
		require.ErrorIs(t, err, ErrInvalidSelector, "selector %q", sel)
		require.Nil(t, run)
	}
	_, err := e.Run(context.Background(), RunOptions{Selectors: []string{}})
	require.ErrorIs(t, err, ErrInvalidSelector)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	run, err := e.Run(ctx, RunOptions{Selectors: []string{"node_load1"}})
	require.ErrorIs(t, err, context.Canceled)
	require.Nil(t, run)
	require.Zero(t, src.plans, "an invalid run reached Prometheus")
	require.Empty(t, pub.msgs)
}

func TestAddResultFlatForecast(t *testing.T) {
	s := ramp("m", nil, nil)
	m := seriesMessage("r", &s, runEnd)
	f := &analysis.Forecast{Horizon: 120, Model: "ses"}
	for range 120 {
		f.Mean = append(f.Mean, 0.1)
	}
	addResult(m, &s, &analysis.Result{Forecast: f})
	require.Equal(t, 0.1, m.Forecast.PredictedMin)
	require.Equal(t, 0.1, m.Forecast.PredictedMax)
	require.Equal(t, 0.1, m.Forecast.PredictedMean, "mean of a flat forecast left its range")
	require.Len(t, m.Forecast.Points, 120)
	require.Zero(t, m.Forecast.Points[0].Lower, "missing interval should stay zero")
	require.Nil(t, m.Adf)
	require.Nil(t, m.Seasonality)
}

func TestRunLeavesOutSeriesTheStoreRefuses(t *testing.T) {
	long := "node_" + strings.Repeat("x", 300) // over the store's 255 bytes
	good := ramp("node_load1", map[string]string{"instance": "a"}, nil)
	src := &fakeSource{series: map[string][]promsource.Series{
		"node_load1": {good}, long: {ramp(long, map[string]string{"instance": "a"}, nil)},
	}}
	pub := &fakePublisher{}
	var logs bytes.Buffer
	e := newFakeETL(t, src, pub, prometheus.NewRegistry(), &logs)

	run, err := e.Run(context.Background(), RunOptions{Selectors: []string{"node_load1", long}, End: runEnd})
	require.NoError(t, err)
	require.Equal(t, StatusSucceeded, run.Status)
	require.EqualValues(t, 1, run.Series, "the run counts what it published")
	msgs := pub.topic(slapipev1.DefaultTopic)
	require.Len(t, msgs, 1)
	require.Equal(t, good.ID, string(msgs[0].Key))
	records := pub.topic(slapipev1.RunsTopic(slapipev1.DefaultTopic))
	require.Len(t, records, 1)
	var rec slapipev1.Run
	require.NoError(t, proto.Unmarshal(records[0].Value, &rec))
	require.EqualValues(t, 1, rec.Series, "the run record agrees, so the run can complete")
	require.Equal(t, 1.0, testutil.ToFloat64(e.metrics.seriesRejected))
	require.Contains(t, logs.String(), "series left out of the run")
	require.Contains(t, logs.String(), "metric: invalid argument: 305 bytes, at most 255")
}

// countingSource is a fakeSource that can count series before pulling, as
// promsource.Source does, claiming count series whatever it is asked.
type countingSource struct {
	*fakeSource
	count int
}

func (c *countingSource) CountSeries(context.Context, []promsource.Query, time.Time, time.Time, int) (int, error) {
	return c.count, nil
}

// TestRunLimits checks each bound of a run: too many selectors is refused
// before Prometheus is asked, too many series before pulling (when the
// source counts) or before analysing (when it does not), and a run that
// outlasts its deadline fails saying so; each names its flag.
func TestRunLimits(t *testing.T) {
	three := map[string][]promsource.Series{"node_load1": {
		ramp("node_load1", map[string]string{"instance": "a"}, nil),
		ramp("node_load1", map[string]string{"instance": "b"}, nil),
		ramp("node_load1", map[string]string{"instance": "c"}, nil),
	}}
	t.Run("selectors", func(t *testing.T) {
		src := &fakeSource{series: three}
		pub := &fakePublisher{}
		e := newFakeETL(t, src, pub, nil, nil)
		sels := make([]string, DefaultMaxSelectors+1)
		for i := range sels {
			sels[i] = fmt.Sprintf("node_load1{instance=\"%d\"}", i)
		}
		run, err := e.Run(context.Background(), RunOptions{Selectors: sels})
		require.ErrorIs(t, err, ErrLimit)
		require.ErrorContains(t, err, "201 selectors, at most 200 per run (--max-selectors)")
		require.Nil(t, run)
		require.Zero(t, src.plans)
		require.Empty(t, pub.msgs)
	})
	t.Run("series counted before the pull", func(t *testing.T) {
		src := &countingSource{fakeSource: &fakeSource{series: three}, count: 3}
		pub := &fakePublisher{}
		e := newFakeETL(t, src, pub, nil, nil)
		e.cfg.MaxSeries = 2
		run, err := e.Run(context.Background(), RunOptions{Selectors: []string{"node_load1"}})
		require.ErrorIs(t, err, ErrLimit)
		require.ErrorContains(t, err, "at most 2 per run (--max-series)")
		require.Equal(t, StatusFailed, run.GetStatus())
		require.Empty(t, src.starts, "nothing pulled")
		require.Empty(t, pub.topic(slapipev1.DefaultTopic))
		require.Len(t, pub.topic(slapipev1.RunsTopic(slapipev1.DefaultTopic)), 1, "the failed run is recorded")
	})
	t.Run("series pulled", func(t *testing.T) {
		src := &fakeSource{series: three}
		pub := &fakePublisher{}
		e := newFakeETL(t, src, pub, nil, nil)
		e.cfg.MaxSeries = 2
		run, err := e.Run(context.Background(), RunOptions{Selectors: []string{"node_load1"}})
		require.ErrorIs(t, err, ErrLimit)
		require.ErrorContains(t, err, "matched 3 series, at most 2 per run (--max-series)")
		require.Equal(t, StatusFailed, run.GetStatus())
		require.Empty(t, pub.topic(slapipev1.DefaultTopic), "nothing analysed or published")
	})
	t.Run("deadline", func(t *testing.T) {
		src := &blockingSource{fakeSource: &fakeSource{series: three}}
		pub := &fakePublisher{}
		e := newFakeETL(t, src, pub, nil, nil)
		e.cfg.RunTimeout = 50 * time.Millisecond
		run, err := e.Run(context.Background(), RunOptions{Selectors: []string{"node_load1"}})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorContains(t, err, "took longer than 50ms (--run-timeout)")
		require.Equal(t, StatusFailed, run.GetStatus())
		require.Contains(t, run.GetError(), "--run-timeout")
		require.Len(t, pub.topic(slapipev1.RunsTopic(slapipev1.DefaultTopic)), 1, "the failed run is recorded")
	})
}

// blockingSource's Fetch waits for its context to end.
type blockingSource struct{ *fakeSource }

func (b *blockingSource) Fetch(ctx context.Context, _ promsource.Query, _, _ time.Time, _ time.Duration) ([]promsource.Series, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestRunMatchingNothingIsEmpty runs selectors that match no series: the
// run ends "empty", not "succeeded", and publishes its record only.
func TestRunMatchingNothingIsEmpty(t *testing.T) {
	src := &fakeSource{series: map[string][]promsource.Series{}}
	pub := &fakePublisher{}
	reg := prometheus.NewRegistry()
	e := newFakeETL(t, src, pub, reg, nil)
	run, err := e.Run(context.Background(), RunOptions{Selectors: []string{"node_nothing_here"}})
	require.NoError(t, err)
	require.Equal(t, StatusEmpty, run.GetStatus())
	require.Zero(t, run.GetSeries())
	require.Empty(t, pub.topic(slapipev1.DefaultTopic))
	recs := pub.topic(slapipev1.RunsTopic(slapipev1.DefaultTopic))
	require.Len(t, recs, 1)
	var got slapipev1.Run
	require.NoError(t, proto.Unmarshal(recs[0].Value, &got))
	require.Equal(t, StatusEmpty, got.GetStatus())
	require.Equal(t, 1.0, testutil.ToFloat64(e.metrics.runs.WithLabelValues(StatusEmpty)))
}
