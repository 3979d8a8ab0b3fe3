package datastorage

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestLagTrackerForgetsSilentPartitions(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at             time.Duration
		topic          string
		partition      int
		lag            int64
		wantA, wantRun float64 // gauge values after the step
	}
	a, runs := "prometheusdata", "prometheusdata.runs"
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"sum over partitions, replaced not added", []step{
			{0, a, 0, 10, 10, 0},
			{time.Second, a, 1, 5, 15, 0},
			{2 * time.Second, a, 0, 7, 12, 0},
			{3 * time.Second, runs, 0, 2, 12, 2},
		}},
		{"a partition taken away stops counting after lagForget", []step{
			{0, a, 0, 10, 10, 0},
			{0, a, 1, 5, 15, 0},
			// Partition 1 moved to another consumer: only 0 delivers.
			{30 * time.Second, a, 0, 9, 14, 0},
			{lagForget - time.Second, a, 0, 8, 13, 0},
			// Silent for lagForget, but the last sweep was 2 s ago.
			{lagForget + time.Second, a, 0, 7, 12, 0},
			{lagForget + lagForget/4, a, 0, 6, 6, 0},
		}},
		{"a partition coming back counts again", []step{
			{0, a, 1, 5, 5, 0},
			{0, runs, 0, 3, 5, 3},
			{2 * lagForget, a, 0, 1, 1, 0},
			{2*lagForget + time.Second, a, 1, 4, 5, 0},
		}},
		{"nothing is forgotten while nothing is fetched", []step{
			{0, a, 0, 10, 10, 0},
			{0, a, 1, 20, 30, 0},
			// A store outage: no fetch for ten minutes, then partition 1.
			{10 * time.Minute, a, 1, 25, 25, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lag"}, []string{"topic"})
			lt := newLagTracker(g)
			for i, s := range tc.steps {
				lt.observe(topicPartition{s.topic, s.partition}, s.lag, t0.Add(s.at))
				require.Equal(t, s.wantA, testutil.ToFloat64(g.WithLabelValues(a)), "step %d, %s", i, a)
				require.Equal(t, s.wantRun, testutil.ToFloat64(g.WithLabelValues(runs)), "step %d, %s", i, runs)
			}
		})
	}
}
