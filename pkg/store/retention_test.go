package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testing/fixtures"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestPrune stores five runs of 7 series, four of them older than the
// retention, a violations history on both sides of the cutoff and five SLA
// set versions, then prunes with batches of 3:
// the old runs go with every child row, the recent run and everything
// newer stay unchanged, and the newest two SLA versions remain.
func TestPrune(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
		cutoff := now.Add(-7 * 24 * time.Hour)
		var keep []*slapipev1.SeriesAnalysis
		for i, age := range []time.Duration{10 * 24 * time.Hour, 9 * 24 * time.Hour, 8 * 24 * time.Hour, 7*24*time.Hour + time.Minute, time.Hour} {
			run := fmt.Sprintf("run-%d", i)
			as := fixtures.Analyses(run, 7)
			for _, a := range as {
				a.ComputedAt = timestamppb.New(now.Add(-age))
			}
			require.NoError(t, s.WriteAnalyses(ctx, as))
			require.NoError(t, s.UpsertRun(ctx, &slapipev1.Run{RunId: run, Status: "succeeded", Series: 7,
				StartedAt: timestamppb.New(now.Add(-age)), FinishedAt: timestamppb.New(now.Add(-age + time.Minute)), Trigger: "schedule"}))
			if i == 4 {
				keep = as
			}
		}
		for _, at := range []time.Time{cutoff.Add(-2 * time.Hour), cutoff.Add(-time.Hour), cutoff.Add(time.Hour)} {
			require.NoError(t, s.SaveViolations(ctx, &slapipev1.GetViolationsResponse{ComputedAt: timestamppb.New(at),
				Windows: []*slapipev1.WindowViolations{{Window: "1h", Rows: []*slapipev1.Violation{
					{Objective: "o", Metric: "m", SeriesId: "s1", Samples: 720}, {Objective: "o", Metric: "m", SeriesId: "s2", Samples: 720}}}}}))
		}
		for i := range 5 {
			_, err := s.SaveSLA(ctx, defaultSet()[:1+i%3], "v")
			require.NoError(t, err)
		}
		before := tableCounts(t, s)

		pruned, err := s.Prune(ctx, cutoff, 2, 3, 0)
		require.NoError(t, err)
		require.Equal(t, int64(4*7), pruned["analyses"])
		require.Equal(t, int64(4), pruned["runs"])
		require.Equal(t, int64(4), pruned["sla_violations"], "two answers of two rows before the cutoff")
		require.Equal(t, int64(3), pruned["sla_sets"])

		after := tableCounts(t, s)
		require.Equal(t, 7, after["analyses"])
		require.Equal(t, before["window_stats"]/5, after["window_stats"], "children cascade")
		require.Equal(t, before["forecasts"]/5, after["forecasts"])
		require.Equal(t, 1, after["runs"])
		require.Equal(t, 2, after["sla_violations"])
		require.Equal(t, 2, after["sla_sets"])
		run, got, err := s.Analyses(ctx, Query{RunID: "run-4"})
		require.NoError(t, err)
		require.Equal(t, "run-4", run)
		require.Len(t, got, len(keep))
		set, err := s.LoadSLA(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(5), set.GetVersion(), "the current set stays")

		again, err := s.Prune(ctx, cutoff, 2, 3, 0)
		require.NoError(t, err)
		require.Empty(t, nonZero(again), "a second pass finds nothing")

		// Everything old: the latest complete run is kept whatever its age.
		all, err := s.Prune(ctx, now.Add(time.Hour), 2, 3, 0)
		require.NoError(t, err)
		require.Zero(t, all["runs"])
		latest, err := s.LatestRunID(ctx)
		require.NoError(t, err)
		require.Equal(t, "run-4", latest)
	})
}

func nonZero(p Pruned) map[string]int64 {
	out := map[string]int64{}
	for k, v := range p {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// tableCounts counts the rows of the tables retention touches.
func tableCounts(t *testing.T, s *Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"analyses", "window_stats", "stationarity", "autocorrelation", "seasonality", "forecasts",
		"runs", "sla_violations", "sla_predictions", "sla_sets"} {
		var n int
		require.NoError(t, s.DB().QueryRow("SELECT COUNT(*) FROM "+table).Scan(&n), table)
		out[table] = n
	}
	return out
}
