package slamanager

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

func TestOutsideProb(t *testing.T) {
	// Reference values of the standard normal: Φ(-1.959964) = 0.025,
	// Φ(-1) = 0.158655, Φ(-3) = 0.0013499.
	cases := []struct {
		name        string
		mean, sigma float64
		b           bounds
		want        float64
	}{
		{"max at +1.96 sigma", 0, 1, bounds{max: proto.Float64(z975)}, 0.025},
		{"both at ±1.96 sigma", 0, 1, bounds{min: proto.Float64(-z975), max: proto.Float64(z975)}, 0.05},
		{"min at -1 sigma, sigma 2", 10, 2, bounds{min: proto.Float64(8)}, 0.158655254},
		{"mean on the max bound", 5, 3, bounds{max: proto.Float64(5)}, 0.5},
		{"far above min", 100, 1, bounds{min: proto.Float64(97)}, 0.001349898},
		{"sigma 0, inside", 5, 0, bounds{max: proto.Float64(6)}, 0},
		{"sigma 0, outside", 7, 0, bounds{max: proto.Float64(6)}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.InDelta(t, c.want, outsideProb(c.mean, c.sigma, c.b), 1e-8)
		})
	}
}

// forecastMsg is a stored analysis whose forecast has n points at 5 s from
// rangeEnd, point k (1-based) at mean(k) ± z975·sigma.
func forecastMsg(metric string, ls map[string]string, n int, sigma float64, mean func(k int) float64) *slapipev1.SeriesAnalysis {
	fc := &slapipev1.Forecast{Model: "damped", Horizon: int32(n)}
	for k := 1; k <= n; k++ {
		m := mean(k)
		fc.Points = append(fc.Points, &slapipev1.ForecastPoint{
			Time: timestamppb.New(testEnd.Add(time.Duration(k) * testStep)),
			Mean: m, Lower: m - z975*sigma, Upper: m + z975*sigma,
		})
	}
	return &slapipev1.SeriesAnalysis{SeriesId: metric + "-id", Metric: metric, Labels: ls, StepSeconds: 5,
		RangeEnd: timestamppb.New(testEnd), ComputedAt: timestamppb.New(testEnd), Forecast: fc}
}

func TestPredict(t *testing.T) {
	maxObj := &slapipev1.Objective{Name: "o", Max: proto.Float64(100)}
	cases := []struct {
		name     string
		msg      *slapipev1.SeriesAnalysis
		o        *slapipev1.Objective
		prob     float64
		crossing time.Time
		min, max float64
		mean     float64
	}{
		{
			// 50 + k: crosses 100 at k = 51 (mean 101); at k = 120 it is 170,
			// 70 sigma away, so the probability is 1.
			name: "trend crosses within the horizon",
			msg:  forecastMsg("m", nil, 120, 1, func(k int) float64 { return 50 + float64(k) }),
			o:    maxObj, prob: 1, crossing: ago(-51), min: 51, max: 170, mean: 50 + 60.5,
		},
		{
			// Every step sits 2.0537 sigma under the bound: P(out) = 0.02 at
			// each step. max_h gives 0.02, where 1-∏(1-P) would claim 0.91.
			name: "flat near the bound: per-step probability, not compounded",
			msg:  forecastMsg("m", nil, 120, 1, func(int) float64 { return 100 - 2.053748911 }),
			o:    maxObj, prob: 0.02, min: 97.946251089, max: 97.946251089, mean: 97.946251089,
		},
		{
			// Crossing at k = 150 lies beyond 120 steps (600 s): ignored.
			name: "points beyond 10 minutes are ignored",
			msg:  forecastMsg("m", nil, 200, 0.001, func(k int) float64 { return float64(k) - 50 + 0.5 }),
			o:    maxObj, prob: 0, min: -48.5, max: 70.5, mean: 11,
		},
		{
			name: "falling below min",
			msg:  forecastMsg("m", nil, 120, 0.1, func(k int) float64 { return 20 - 0.1*float64(k) }),
			o:    &slapipev1.Objective{Name: "o", Min: proto.Float64(10)},
			prob: 1, crossing: ago(-101), min: 8, max: 19.9, mean: 20 - 0.1*60.5,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ok := predict(c.o, c.msg)
			require.True(t, ok)
			require.InDelta(t, c.prob, p.Probability, 1e-6, "probability")
			requireTime(t, c.crossing, p.FirstCrossing, "first_crossing")
			require.InDelta(t, c.min, p.Min, 1e-9, "min")
			require.InDelta(t, c.max, p.Max, 1e-9, "max")
			require.InDelta(t, c.mean, p.Mean, 1e-9, "mean")
			require.Equal(t, "damped", p.Model)
			require.Equal(t, "o", p.Objective)
		})
	}
	_, ok := predict(maxObj, &slapipev1.SeriesAnalysis{Metric: "m"})
	require.False(t, ok, "no forecast, no prediction")
}

func TestGetPredictionsFiltersBySelectorAndMarksStale(t *testing.T) {
	flat := func(int) float64 { return 5e9 }
	st := &memStore{runID: "run-1", analyses: []*slapipev1.SeriesAnalysis{
		forecastMsg("node_filesystem_avail_bytes", map[string]string{"mountpoint": "/"}, 120, 1e6, flat),
		forecastMsg("node_filesystem_avail_bytes", map[string]string{"mountpoint": "/boot"}, 120, 1e6, flat),
	}}
	st.analyses[1].SeriesId = "boot"
	cases := []struct {
		name     string
		interval time.Duration
		age      time.Duration
		stale    bool
	}{
		{"fresh without schedule", 0, 10 * time.Minute, false},
		{"old without schedule", 0, 16 * time.Minute, true},
		{"two intervals missed", time.Minute, 150 * time.Second, true},
		{"within two intervals", time.Minute, 90 * time.Second, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newTestManager(t, Config{ETLInterval: c.interval}, st, &fakeSource{}, testEnd.Add(c.age))
			resp, err := m.GetPredictions(context.Background(), &slapipev1.GetPredictionsRequest{})
			require.NoError(t, err)
			require.Equal(t, float64(600), resp.HorizonSeconds)
			require.Equal(t, "run-1", resp.RunId)
			require.Len(t, resp.Predictions, 1, "only mountpoint=/ matches the default selector")
			require.Equal(t, "filesystem-avail", resp.Predictions[0].Objective)
			require.Equal(t, map[string]string{"mountpoint": "/"}, resp.Predictions[0].Labels)
			require.Equal(t, c.stale, resp.Stale)
			require.InDelta(t, c.age.Seconds(), resp.AgeSeconds, 1e-9)
		})
	}
	t.Run("store down: last answer, stale", func(t *testing.T) {
		m := newTestManager(t, Config{}, st, &fakeSource{}, testEnd.Add(time.Minute))
		_, err := m.GetPredictions(context.Background(), &slapipev1.GetPredictionsRequest{})
		require.NoError(t, err)
		down := &memStore{fail: errBoom}
		m.store = down
		resp, err := m.predictions(context.Background(), &slapipev1.SLASet{Objectives: DefaultObjectives()})
		require.NoError(t, err)
		require.True(t, resp.Stale)
		require.InDelta(t, 60, resp.AgeSeconds, 1e-9)
		require.Len(t, resp.Predictions, 1)
	})
}
