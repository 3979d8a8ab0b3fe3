package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestSaveViolationsKeepsAtMostOneAnswerAMinute saves answers a few seconds
// apart, as the SLA manager does when asked often: the snapshot follows
// every answer, sla_violations keeps one answer per HistoryInterval.
func TestSaveViolationsKeepsAtMostOneAnswerAMinute(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		answer := func(at time.Time) *slapipev1.GetViolationsResponse {
			return &slapipev1.GetViolationsResponse{ComputedAt: timestamppb.New(at), Windows: []*slapipev1.WindowViolations{
				{Window: "1h", Rows: []*slapipev1.Violation{{Objective: "memory-free", Metric: "node_memory_MemFree_bytes",
					SeriesId: "s1", Samples: 720, SamplesOut: 2, Compliance: 718.0 / 720}}},
			}}
		}
		cases := []struct {
			after time.Duration
			kept  bool
		}{
			{0, true},
			{5 * time.Second, false},
			{59*time.Second + 999*time.Millisecond, false},
			{time.Minute, true},
			{90 * time.Second, false},
			{30 * time.Second, false}, // older than the newest kept
			{2*time.Minute + 5*time.Second, true},
		}
		var want []time.Time
		for _, c := range cases {
			at := t0.Add(c.after)
			require.NoError(t, s.SaveViolations(ctx, answer(at)))
			snap, err := s.LatestViolations(ctx)
			require.NoError(t, err)
			require.Equal(t, at, snap.GetComputedAt().AsTime(), "the snapshot is always the latest answer")
			if c.kept {
				want = append(want, at.Truncate(time.Millisecond))
			}
		}
		rows, err := s.DB().QueryContext(ctx, "SELECT computed_at FROM sla_violations ORDER BY computed_at")
		require.NoError(t, err)
		defer rows.Close()
		var got []time.Time
		for rows.Next() {
			var at nullTime
			require.NoError(t, rows.Scan(&at))
			got = append(got, at.T)
		}
		require.NoError(t, rows.Err())
		require.Equal(t, want, got)
	})
}
