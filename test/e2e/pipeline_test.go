package e2e

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/slapipe/slapipe/dataretrieval"
	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// backfillInstance is the instance label of the history scripts/servers.sh
// backfills: 12 h at 5 s, alone on its labels (no live scrape joins it).
const backfillInstance = "backfill:9100"

// backfilled are the backfilled metrics and how the pipeline must
// transform them.
var backfilled = []struct {
	metric, transform string
}{
	{"node_memory_MemFree_bytes", "raw"},
	{"node_network_receive_packets_total", "rate"},
	{"node_cpu_seconds_total", "rate"},
}

const (
	step        = 5 * time.Second
	stepSeconds = 5.0
	span        = 12 * time.Hour
	gridPoints  = int(span / step) // the run's grid: (end-12h, end]
	horizon     = 120
	relTol      = 1e-9
)

var windowPoints = map[string]int{"1h": 720, "3h": 2160, "12h": 8640}

func backfillSelector(metric string) string {
	return fmt.Sprintf("%s{instance=%q}", metric, backfillInstance)
}

// expectedSeries is what the test computes itself from the raw samples.
type expectedSeries struct {
	metric, transform string
	labels            map[string]string
	windows           map[string]refStats
}

// backfillTruth reads the backfilled samples straight from Prometheus and
// computes the statistics every window must have. It returns them with the
// time of the last sample, where the run's range is made to end.
func backfillTruth(t *testing.T, promURL string) (map[string]*expectedSeries, time.Time) {
	t.Helper()
	// Long enough to find history backfilled any time in the last weeks.
	const lookback = 30 * 24 * time.Hour
	now := time.Now()
	raw := map[string][]rawSeries{}
	var endMs int64
	for _, b := range backfilled {
		ss := queryRaw(t, promURL, backfillSelector(b.metric), lookback, now)
		require.NotEmpty(t, ss, "no backfilled %s in %s: was the history backfilled (scripts/servers.sh)?", b.metric, promURL)
		raw[b.metric] = ss
		for _, s := range ss {
			endMs = max(endMs, s.T[len(s.T)-1])
		}
	}
	require.Zero(t, endMs%step.Milliseconds(), "backfill must sit on the 5 s grid")

	want := map[string]*expectedSeries{}
	for _, b := range backfilled {
		for _, s := range raw[b.metric] {
			// The run's grid (end-12h, end] plus, for counters, the sample at
			// end-12h that gives the first point its rate.
			n := gridPoints + 1
			require.GreaterOrEqual(t, len(s.V), n, "%s%v: fewer than 12 h of samples", b.metric, s.Labels)
			ts, vs := s.T[len(s.T)-n:], s.V[len(s.V)-n:]
			require.Equal(t, endMs, ts[n-1], "%s%v does not end with the others", b.metric, s.Labels)
			for i := 1; i < n; i++ {
				require.Equal(t, step.Milliseconds(), ts[i]-ts[i-1], "%s%v: samples not 5 s apart at %d", b.metric, s.Labels, ts[i])
			}
			values := vs[1:]
			if b.transform == "rate" {
				values = counterRates(vs, stepSeconds)
			}
			require.Len(t, values, gridPoints)
			e := &expectedSeries{metric: b.metric, transform: b.transform, labels: s.Labels, windows: map[string]refStats{}}
			for w, k := range windowPoints {
				e.windows[w] = twoPass(values[len(values)-k:])
			}
			want[b.metric+labelKey(s.Labels)] = e
		}
	}
	return want, time.UnixMilli(endMs)
}

// pipeline is the in-process pipeline of one test on a fresh database.
type pipeline struct {
	brokers []string
	group   string
	dsn     string
	st      *store.Store
	client  slapipev1.DataRetrievalClient
}

// startPipeline starts a broker, a fresh database, datastorage consuming
// into it and the retrieval service over it, all stopped when the test
// ends.
func startPipeline(t *testing.T, baseDSN string) *pipeline {
	t.Helper()
	p := &pipeline{brokers: testkit.Broker(t, 0), group: "e2e-" + randomSuffix(4)}
	p.dsn = testenv.NewMySQLDatabase(t, baseDSN, "e2e")
	p.st = testkit.OpenStore(t, p.dsn)

	ctx, cancel := context.WithCancel(context.Background())
	g, gctx := errgroup.WithContext(ctx)
	t.Cleanup(func() {
		cancel()
		if err := g.Wait(); err != nil {
			t.Errorf("pipeline component: %v", err)
		}
	})
	c, err := datastorage.New(datastorage.Config{Brokers: p.brokers, GroupID: p.group, BatchWait: 50 * time.Millisecond,
		RetryMin: 10 * time.Millisecond, RetryMax: time.Second}, p.st, datastorage.Deps{Logger: testenv.Logger(t)})
	require.NoError(t, err)
	g.Go(func() error { return c.Run(gctx) })

	p.client = startRetrieval(t, gctx, g, p.st)
	return p
}

// startRetrieval runs the retrieval service over st on a free loopback port
// in g and returns a client connected to it.
func startRetrieval(t *testing.T, ctx context.Context, g *errgroup.Group, st dataretrieval.Store) slapipev1.DataRetrievalClient {
	t.Helper()
	addr := make(chan string, 1)
	srv, err := dataretrieval.New(dataretrieval.Config{Listen: "127.0.0.1:0"}, st,
		dataretrieval.Deps{Logger: testenv.Logger(t), OnListen: func(a net.Addr) { addr <- a.String() }})
	require.NoError(t, err)
	g.Go(func() error { return srv.Run(ctx) })
	var target string
	select {
	case target = <-addr:
	case <-time.After(waitLong):
		t.Fatal("retrieval service did not listen")
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return slapipev1.NewDataRetrievalClient(conn)
}

// TestPipelineEndToEnd runs backfilled Prometheus -> etl -> Kafka ->
// datastorage -> MariaDB -> retrieval gRPC and checks the served statistics
// against those computed here from the raw samples, then publishes the
// run's messages again and checks that no table changed.
func TestPipelineEndToEnd(t *testing.T) {
	promURL := testenv.PrometheusURL(t)
	baseDSN := testenv.MySQLDSN(t)
	want, end := backfillTruth(t, promURL)
	p := startPipeline(t, baseDSN)

	selectors := make([]string, len(backfilled))
	for i, b := range backfilled {
		selectors[i] = backfillSelector(b.metric)
	}
	e, err := etl.New(etl.Config{PrometheusURL: promURL, Brokers: p.brokers, Selectors: selectors}, etl.Deps{Logger: testenv.Logger(t)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	run, err := e.Run(ctx, etl.RunOptions{Trigger: "cli", End: end})
	require.NoError(t, err)
	require.Equal(t, etl.StatusSucceeded, run.GetStatus())
	require.EqualValues(t, len(want), run.GetSeries(), "series in the run")
	waitCommitted(t, p.brokers, p.group, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))

	t.Run("statistics", func(t *testing.T) { checkStats(t, p.client, run.GetRunId(), want) })
	t.Run("analysis", func(t *testing.T) { checkAnalysis(t, p.client, run.GetRunId(), end, len(want)) })
	t.Run("stored messages", func(t *testing.T) {
		_, msgs, err := p.st.Analyses(ctx, store.Query{RunID: run.GetRunId()})
		require.NoError(t, err)
		require.Len(t, msgs, len(want))
		for _, m := range msgs {
			e := want[m.GetMetric()+labelKey(m.GetLabels())]
			require.NotNil(t, e, "stored series %s%v is not in the backfill", m.GetMetric(), m.GetLabels())
			assert.EqualValues(t, gridPoints, m.GetSamples(), "%s samples", m.GetMetric())
			assert.Zero(t, m.GetGaps(), "%s gaps: the backfill has none", m.GetMetric())
			assert.Equal(t, stepSeconds, m.GetStepSeconds())
			assert.True(t, m.GetRangeEnd().AsTime().Equal(end), "%s range end %s, want %s", m.GetMetric(), m.GetRangeEnd().AsTime(), end)
			// The types come from the metadata API, which knows these metrics
			// from the live node_exporter scrape scripts/servers.sh sets up.
			assert.Equal(t, map[string]string{"raw": "gauge", "rate": "counter"}[e.transform], m.GetMetricType(), "%s type", m.GetMetric())
		}
	})
	t.Run("run history", func(t *testing.T) {
		res, err := p.client.ListRuns(ctx, &slapipev1.ListRunsRequest{})
		require.NoError(t, err)
		require.Len(t, res.GetRuns(), 1)
		got := res.GetRuns()[0]
		assert.Equal(t, run.GetRunId(), got.GetRunId())
		assert.Equal(t, "succeeded", got.GetStatus())
		assert.Equal(t, "cli", got.GetTrigger())
		assert.EqualValues(t, len(want), got.GetSeries())
		assert.Positive(t, got.GetPullSeconds())
		assert.Positive(t, got.GetAnalyseSeconds())
		assert.Positive(t, got.GetPublishSeconds())
	})
	t.Run("redelivery changes nothing", func(t *testing.T) {
		before := contentSums(t, p.st.DB())
		require.Equal(t, len(want), before["analyses"].Rows)
		msgs := append(readAll(t, p.brokers, slapipev1.DefaultTopic), readAll(t, p.brokers, slapipev1.RunsTopic(slapipev1.DefaultTopic))...)
		require.Len(t, msgs, len(want)+1, "the run's messages: one per series and the run record")
		republish(t, p.brokers, msgs)
		waitCommitted(t, p.brokers, p.group, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))
		require.Len(t, readAll(t, p.brokers, slapipev1.DefaultTopic), 2*len(want), "the messages were published twice")
		after := contentSums(t, p.st.DB())
		assert.Equal(t, before, after)
	})
}

// checkStats compares the served window statistics with the reference.
func checkStats(t *testing.T, c slapipev1.DataRetrievalClient, runID string, want map[string]*expectedSeries) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seen := 0
	for _, b := range backfilled {
		res, err := c.GetStats(ctx, &slapipev1.SeriesQuery{Metric: b.metric, RunId: runID})
		require.NoError(t, err, "GetStats %s", b.metric)
		require.Equal(t, runID, res.GetRunId())
		for _, s := range res.GetSeries() {
			ref := s.GetSeries()
			e := want[ref.GetMetric()+labelKey(ref.GetLabels())]
			require.NotNil(t, e, "served series %s%v is not in the backfill", ref.GetMetric(), ref.GetLabels())
			seen++
			assert.Equal(t, e.transform, ref.GetTransform(), "%s transform", ref.GetMetric())
			require.Len(t, s.GetWindows(), 3, "%s windows", ref.GetMetric())
			for _, w := range s.GetWindows() {
				r, ok := e.windows[w.GetWindow()]
				require.True(t, ok, "unexpected window %q", w.GetWindow())
				name := fmt.Sprintf("%s%v window %s", ref.GetMetric(), ref.GetLabels(), w.GetWindow())
				assert.EqualValues(t, r.N, w.GetSamples(), "%s samples", name)
				for _, f := range []struct {
					what      string
					got, want float64
				}{{"min", w.GetMin(), r.Min}, {"max", w.GetMax(), r.Max}, {"mean", w.GetMean(), r.Mean}, {"stddev", w.GetStddev(), r.Std}} {
					assert.Truef(t, relClose(f.got, f.want, relTol), "%s %s: served %.17g, computed from the samples %.17g (rel diff %.3g)",
						name, f.what, f.got, f.want, (f.got-f.want)/f.want)
				}
			}
		}
	}
	assert.Equal(t, len(want), seen, "every backfilled series is served")
}

// checkAnalysis checks that every series has its ADF test, ACF and a
// 120-point forecast on the grid after the range end.
func checkAnalysis(t *testing.T, c slapipev1.DataRetrievalClient, runID string, end time.Time, series int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nMeta, nFc := 0, 0
	for _, b := range backfilled {
		md, err := c.GetMetadata(ctx, &slapipev1.SeriesQuery{Metric: b.metric, RunId: runID})
		require.NoError(t, err)
		for _, s := range md.GetSeries() {
			nMeta++
			name := s.GetSeries().GetMetric()
			if assert.NotNil(t, s.GetAdf(), "%s ADF", name) {
				assert.Positive(t, s.GetAdf().GetNobs(), "%s ADF nobs", name)
				assert.InDelta(t, 0.5, s.GetAdf().GetPvalue(), 0.5, "%s ADF p-value in [0,1]", name)
			}
			if b.metric == "node_cpu_seconds_total" {
				// The backfilled idle counter grows by step*U(0.7, 0.99): its
				// rate is white noise, stationary by construction.
				assert.True(t, s.GetAdf().GetStationary(), "%s rate is white noise: ADF must say stationary (%+v)", name, s.GetAdf())
				assert.Less(t, s.GetAdf().GetPvalue(), 0.01, "%s ADF p-value", name)
			}
			if assert.Greater(t, len(s.GetAcf()), 1, "%s ACF lags", name) {
				assert.InDelta(t, 1, s.GetAcf()[0], 1e-12, "%s ACF lag 0", name)
			}
		}
		fc, err := c.GetForecast(ctx, &slapipev1.SeriesQuery{Metric: b.metric, RunId: runID})
		require.NoError(t, err)
		for _, s := range fc.GetSeries() {
			nFc++
			name := s.GetSeries().GetMetric()
			f := s.GetForecast()
			require.NotNil(t, f, "%s forecast", name)
			assert.EqualValues(t, horizon, f.GetHorizon(), "%s horizon", name)
			assert.True(t, s.GetRangeEnd().AsTime().Equal(end), "%s range end %s, want %s", name, s.GetRangeEnd().AsTime(), end)
			if !assert.Len(t, f.GetPoints(), horizon, "%s forecast points", name) {
				continue
			}
			for k, pt := range f.GetPoints() {
				at := end.Add(time.Duration(k+1) * step)
				assert.Truef(t, pt.GetTime().AsTime().Equal(at), "%s point %d at %s, want %s", name, k, pt.GetTime().AsTime(), at)
				assert.Truef(t, pt.GetLower() <= pt.GetMean() && pt.GetMean() <= pt.GetUpper(),
					"%s point %d: mean %g outside [%g, %g]", name, k, pt.GetMean(), pt.GetLower(), pt.GetUpper())
			}
			assert.LessOrEqual(t, f.GetPredictedMin(), f.GetPredictedMean(), name)
			assert.LessOrEqual(t, f.GetPredictedMean(), f.GetPredictedMax(), name)
		}
	}
	assert.Equal(t, series, nMeta, "series with metadata")
	assert.Equal(t, series, nFc, "series with forecasts")
}
