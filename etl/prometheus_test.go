package etl

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// backfilled is the selector of the history scripts/servers.sh backfills.
const backfilled = `{instance="backfill:9100"}`

// rawHistory returns, per metric, the raw samples of the backfilled series
// (straight from a range-vector query: no grid, no lookback) and the time of
// the newest one.
func rawHistory(t *testing.T, url string) (map[string]map[int64]float64, time.Time) {
	t.Helper()
	src, err := promsource.New(promsource.Config{URL: url})
	require.NoError(t, err)
	val, _, _, err := src.API().Query(context.Background(), backfilled+"[7d]", time.Now())
	require.NoError(t, err)
	m, ok := val.(model.Matrix)
	require.True(t, ok, "got %T", val)
	out := map[string]map[int64]float64{}
	var end model.Time
	for _, ss := range m {
		name := string(ss.Metric[model.MetricNameLabel])
		require.NotContains(t, out, name, "more than one backfilled series of %s", name)
		out[name] = map[int64]float64{}
		for _, p := range ss.Values {
			out[name][int64(p.Timestamp)] = float64(p.Value)
			end = max(end, p.Timestamp)
		}
	}
	require.Len(t, out, 3, "backfill should hold 3 series")
	return out, end.Time()
}

// windowStats computes count, min, max, mean and sample stddev of the
// non-NaN values, two-pass, independently of package analysis.
func windowStats(v []float64) (n int, lo, hi, mean, sd float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	sum := 0.0
	for _, x := range v {
		if !math.IsNaN(x) {
			n, sum, lo, hi = n+1, sum+x, min(lo, x), max(hi, x)
		}
	}
	mean = sum / float64(n)
	ss := 0.0
	for _, x := range v {
		if !math.IsNaN(x) {
			ss += (x - mean) * (x - mean)
		}
	}
	return n, lo, hi, mean, math.Sqrt(ss / float64(n-1))
}

// TestRunAgainstRealPrometheus runs the whole ETL on the backfilled history
// with the real engine and an in-process broker, and checks the published
// window statistics against the raw samples.
func TestRunAgainstRealPrometheus(t *testing.T) {
	url := testenv.PrometheusURL(t)
	raw, end := rawHistory(t, url)
	brokers := testkit.Broker(t, 0)
	e, err := New(Config{PrometheusURL: url, Brokers: brokers, Selectors: []string{backfilled}},
		Deps{Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	defer func() { require.NoError(t, e.Close()) }()

	run, err := e.Run(context.Background(), RunOptions{Trigger: "cli", End: end.Add(4 * time.Second)})
	require.NoError(t, err)
	require.Equal(t, StatusSucceeded, run.Status)
	require.EqualValues(t, 3, run.Series)
	t.Logf("run %s: pull %.3fs analyse %.3fs publish %.3fs total %.3fs",
		run.RunId, run.PullSeconds, run.AnalyseSeconds, run.PublishSeconds, run.TotalSeconds)

	got := map[string]*slapipev1.SeriesAnalysis{}
	for _, msgs := range readTopic(t, brokers, slapipev1.DefaultTopic) {
		for _, m := range msgs {
			var sa slapipev1.SeriesAnalysis
			require.NoError(t, proto.Unmarshal(m.Value, &sa))
			got[sa.Metric] = &sa
		}
	}
	require.Len(t, got, 3)
	stepMs := DefaultStep.Milliseconds()
	for metric, samples := range raw {
		t.Run(metric, func(t *testing.T) {
			sa := got[metric]
			require.NotNil(t, sa, "no message for %s", metric)
			require.True(t, sa.RangeEnd.AsTime().Equal(end), "range end %s, want %s", sa.RangeEnd.AsTime(), end)
			require.EqualValues(t, 8640, sa.Samples)
			require.Zero(t, sa.Gaps)
			require.Equal(t, promsource.SeriesID(metric, sa.Labels), sa.SeriesId)
			// The expected transformed series, from the raw samples alone.
			want := make([]float64, 8640)
			for i := range want {
				ts := end.UnixMilli() - int64(8639-i)*stepMs
				want[i] = samples[ts]
				if sa.Transform == "rate" {
					want[i] = (samples[ts] - samples[ts-stepMs]) / DefaultStep.Seconds()
				}
			}
			wantTransform := map[string]string{"node_memory_MemFree_bytes": "raw"}[metric]
			if wantTransform == "" {
				wantTransform = "rate"
			}
			require.Equal(t, wantTransform, sa.Transform)
			lens := map[string]int{"1h": 720, "3h": 2160, "12h": 8640}
			require.Len(t, sa.Windows, 3)
			for _, w := range sa.Windows {
				n, lo, hi, mean, sd := windowStats(want[8640-lens[w.Window]:])
				require.EqualValues(t, n, w.Samples, w.Window)
				require.Equal(t, lo, w.Min, w.Window)
				require.Equal(t, hi, w.Max, w.Window)
				require.InDelta(t, mean, w.Mean, 1e-9*math.Abs(mean), w.Window)
				require.InDelta(t, sd, w.Stddev, 1e-7*sd, w.Window)
			}
			require.NotNil(t, sa.Adf)
			require.NotEmpty(t, sa.Acf)
			require.NotEmpty(t, sa.GetSeasonCheck().GetReason(), "the season check says why")
			require.Equal(t, sa.GetSeasonality().GetPeriod(), sa.GetSeasonCheck().GetPeriod(), "season check and season agree")
			f := sa.Forecast
			require.NotNil(t, f, "no forecast")
			require.Contains(t, []string{"empirical", "analytic"}, f.Interval)
			require.Len(t, f.Points, 120)
			require.True(t, f.Points[0].Time.AsTime().Equal(end.Add(DefaultStep)))
			require.Equal(t, want[8640-120:], f.History)
			require.LessOrEqual(t, f.PredictedMin, f.PredictedMean)
			require.LessOrEqual(t, f.PredictedMean, f.PredictedMax)
		})
	}
}
