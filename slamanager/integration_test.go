package slamanager

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/analysis"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// ownPrometheus backfills the OpenMetrics text into a fresh data directory
// and starts /usr/bin/prometheus on it, on a free loopback port, until the
// test ends. It returns the base URL and a function that stops it early.
func ownPrometheus(t *testing.T, openMetrics string) (url string, stop func()) {
	t.Helper()
	const prom, promtool = "/usr/bin/prometheus", "/usr/bin/promtool"
	for _, bin := range []string{prom, promtool} {
		if _, err := os.Stat(bin); err != nil {
			testenv.Unavailable(t, bin+" not installed: cannot start a Prometheus for the test")
		}
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	om := filepath.Join(dir, "backfill.om")
	require.NoError(t, os.WriteFile(om, []byte(openMetrics), 0o600))
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", om, data).CombinedOutput()
	require.NoError(t, err, "promtool: %s", out)
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o600))

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())

	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	require.NoError(t, err)
	cmd := exec.Command(prom, "--config.file="+cfg, "--storage.tsdb.path="+data,
		"--web.listen-address="+addr, "--storage.tsdb.retention.time=30d")
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop = func() {
		select {
		case <-exited:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(func() { stop(); logf.Close() })

	url = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, stop
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("prometheus exited before ready:\n%s", log)
		default:
		}
		require.True(t, time.Now().Before(deadline), "prometheus not ready within 30 s")
		time.Sleep(100 * time.Millisecond)
	}
}

// analyse runs the real engine on a pulled series and shapes the result as
// the ETL publishes it (forecast points at range end + k*step).
func analyse(t *testing.T, s promSeries, runID string, at time.Time) *slapipev1.SeriesAnalysis {
	t.Helper()
	res, err := analysis.Analyze(analysis.Input{StepSeconds: s.Step.Seconds(), Values: s.Values})
	require.NoError(t, err)
	require.NotNil(t, res.Forecast, "analysis gave no forecast for %s", s.Metric)
	end := s.End()
	fc := &slapipev1.Forecast{Model: res.Forecast.Model, Horizon: int32(res.Forecast.Horizon), Sigma: res.Forecast.Sigma}
	for k := range res.Forecast.Mean {
		fc.Points = append(fc.Points, &slapipev1.ForecastPoint{
			Time: timestamppb.New(end.Add(time.Duration(k+1) * s.Step)),
			Mean: res.Forecast.Mean[k], Lower: res.Forecast.Lower[k], Upper: res.Forecast.Upper[k],
		})
	}
	return &slapipev1.SeriesAnalysis{RunId: runID, SeriesId: s.ID, Metric: s.Metric, Labels: s.Labels,
		Transform: s.Transform, MetricType: s.Type, ComputedAt: timestamppb.New(at),
		RangeStart: timestamppb.New(s.Start), RangeEnd: timestamppb.New(end), StepSeconds: s.Step.Seconds(),
		Samples: int64(len(s.Values)), Forecast: fc}
}

// row finds the row of an objective in a window.
func row(t *testing.T, resp *slapipev1.GetViolationsResponse, window, objective string) *slapipev1.Violation {
	t.Helper()
	for _, w := range resp.Windows {
		if w.Window != window {
			continue
		}
		for _, r := range w.Rows {
			if r.Objective == objective {
				return r
			}
		}
	}
	t.Fatalf("no row for %s in %s", objective, window)
	return nil
}

func TestRealPrometheusKnownAnswers(t *testing.T) {
	end := alignDown(time.Now().Add(-time.Second), 5*time.Second)
	var om strings.Builder
	require.NoError(t, writeOpenMetrics(&om, end, gaugeKE(), counterRate(), trendUp(), flat()))
	url, stopProm := ownPrometheus(t, om.String())

	ctx := context.Background()
	st := testkit.OpenStore(t, "sqlite:"+filepath.Join(t.TempDir(), "slapipe.db"))
	defer st.Close()
	src, err := promsource.New(promsource.Config{URL: url})
	require.NoError(t, err)
	m, err := New(Config{PrometheusURL: url}, Deps{Store: st, Source: src})
	require.NoError(t, err)
	// The clock is pinned to the last backfilled point so that the windows
	// hold exactly the constructed samples.
	m.now = func() time.Time { return end }

	set, err := m.SetSLA(ctx, &slapipev1.SetSLARequest{Objectives: []*slapipev1.Objective{
		obj("gauge-ke", `slapipe_test_gauge{case="k_e"}`, nil, f64(100)),
		obj("bytes-rate", `slapipe_test_bytes_total{case="rate"}`, nil, f64(1000)),
		obj("trend", "slapipe_test_trend", nil, f64(1000)),
		obj("flat", `slapipe_test_flat{job="slapipe-test"}`, nil, f64(1000)),
	}})
	require.NoError(t, err)
	require.Empty(t, set.Warnings, "every metric is known to Prometheus")

	t.Run("list metrics", func(t *testing.T) {
		resp, err := m.ListMetrics(ctx, &slapipev1.ListPromMetricsRequest{NameFilter: "slapipe_test_.*"})
		require.NoError(t, err)
		var got []string
		for _, pm := range resp.Metrics {
			got = append(got, fmt.Sprintf("%s:%d", pm.Name, pm.Series))
		}
		require.Equal(t, []string{"slapipe_test_bytes_total:1", "slapipe_test_flat:1", "slapipe_test_gauge:1", "slapipe_test_trend:1"}, got)
	})

	resp, err := m.GetViolations(ctx, &slapipev1.GetViolationsRequest{})
	require.NoError(t, err)
	require.False(t, resp.Stale)
	at := func(ago int) time.Time { return end.Add(-time.Duration(ago) * 5 * time.Second) }
	cases := []struct {
		objective, window           string
		samples, out, episodes      int64
		worst                       float64
		worstAgo, firstAgo, lastAgo int
	}{
		{"gauge-ke", "1h", 719, 12, 5, 130, 101, 400, 10},
		{"gauge-ke", "3h", 2159, 24, 7, 150, 1005, 1501, 10},
		{"gauge-ke", "12h", 8639, 46, 10, 170, 3010, 8639, 10},
		{"bytes-rate", "1h", 720, 5, 1, 2000, 24, 24, 20},
		{"bytes-rate", "3h", 2160, 6, 2, 3000, 900, 900, 20},
		{"bytes-rate", "12h", 8640, 8, 3, 3000, 900, 6001, 20},
	}
	for _, c := range cases {
		t.Run(c.objective+" "+c.window, func(t *testing.T) {
			r := row(t, resp, c.window, c.objective)
			require.Equal(t, c.samples, r.Samples, "samples")
			require.Equal(t, c.out, r.SamplesOut, "samples_out")
			require.Equal(t, c.episodes, r.Episodes, "episodes")
			require.Equal(t, float64(c.out*5), r.SecondsOut, "seconds_out")
			require.InDelta(t, 1-float64(c.out)/float64(c.samples), r.Compliance, 1e-12)
			require.InDelta(t, c.worst, r.Worst, 1e-9, "worst")
			requireTime(t, at(c.worstAgo), r.WorstAt, "worst_at")
			requireTime(t, at(c.firstAgo), r.FirstViolation, "first_violation")
			requireTime(t, at(c.lastAgo), r.LastViolation, "last_violation")
		})
	}
	for _, o := range []string{"trend", "flat"} {
		require.Equal(t, int64(0), row(t, resp, "12h", o).SamplesOut, "%s never leaves its bound", o)
	}

	t.Run("predictions from the real engine", func(t *testing.T) {
		var msgs []*slapipev1.SeriesAnalysis
		for _, sel := range []string{"slapipe_test_trend", "slapipe_test_flat"} {
			ss, err := src.Pull(ctx, sel, end.Add(-12*time.Hour), end, 5*time.Second)
			require.NoError(t, err)
			require.Len(t, ss, 1)
			msgs = append(msgs, analyse(t, ss[0], "run-it", end))
		}
		require.NoError(t, st.WriteAnalyses(ctx, msgs))
		require.NoError(t, st.UpsertRun(ctx, &slapipev1.Run{RunId: "run-it", Status: "succeeded",
			StartedAt: timestamppb.New(end), FinishedAt: timestamppb.New(end), Series: 2, Trigger: "manual"}))
		pred, err := m.GetPredictions(ctx, &slapipev1.GetPredictionsRequest{})
		require.NoError(t, err)
		require.Equal(t, "run-it", pred.RunId)
		require.False(t, pred.Stale)
		byObj := map[string]*slapipev1.Prediction{}
		for _, p := range pred.Predictions {
			byObj[p.Objective] = p
		}
		trend, fl := byObj["trend"], byObj["flat"]
		require.NotNil(t, trend)
		require.NotNil(t, fl)
		t.Logf("trend: model %s p=%.4f crossing %v after end, max %.1f; flat: model %s p=%.3g max %.1f",
			trend.Model, trend.Probability, trend.GetFirstCrossing().AsTime().Sub(end), trend.Max, fl.Model, fl.Probability, fl.Max)
		require.NotNil(t, trend.FirstCrossing, "the rising trend crosses 1000 within 10 minutes (model %s, max %g)", trend.Model, trend.Max)
		// By construction 1000 is 5 steps ahead of a level of 950 ± 2: the
		// first point strictly above is the 5th or the 6th.
		cross := trend.FirstCrossing.AsTime().Sub(end)
		require.True(t, cross == 25*time.Second || cross == 30*time.Second, "crossing %s after end", cross)
		require.Greater(t, trend.Probability, 0.9)
		require.Greater(t, trend.Max, 1000.0)
		require.Nil(t, fl.FirstCrossing, "the flat series does not cross")
		require.Less(t, fl.Probability, 1e-6)
		require.InDelta(t, 500, fl.Mean, 5)
	})

	t.Run("etl on demand: two callers, one real run", func(t *testing.T) {
		realETLSingleFlight(t, url, st)
	})

	t.Run("prometheus stopped: stale answers within 3 s", func(t *testing.T) {
		stopProm()
		m.now = func() time.Time { return end.Add(time.Minute) }
		start := time.Now()
		v, err := m.GetViolations(ctx, &slapipev1.GetViolationsRequest{Window: "1h"})
		require.NoError(t, err)
		require.Less(t, time.Since(start), 3*time.Second)
		require.True(t, v.Stale)
		require.Greater(t, v.AgeSeconds, 0.0)
		require.Equal(t, int64(12), row(t, v, "1h", "gauge-ke").SamplesOut, "the snapshot's counts")

		// A restarted manager has only the stored snapshot.
		m2, err := New(Config{PrometheusURL: url}, Deps{Store: st, Source: src})
		require.NoError(t, err)
		m2.now = m.now
		start = time.Now()
		status, err := m2.GetStatus(ctx, &slapipev1.GetStatusRequest{})
		require.NoError(t, err)
		require.Less(t, time.Since(start), 3*time.Second)
		require.True(t, status.Violations.Stale)
		require.InDelta(t, 60, status.Violations.AgeSeconds, 1)
		require.Equal(t, int64(46), row(t, status.Violations, "12h", "gauge-ke").SamplesOut)
		require.Len(t, status.Set.Objectives, 4)
	})
}
