package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestOutOfRangeMinutes writes minutes known by construction and reads
// their sums over several spans; a replaced range drops what it no longer
// holds and keeps what lies outside it; pruning deletes the old minutes.
func TestOutOfRangeMinutes(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
		minAgo := func(k int) time.Time { return now.Add(-time.Duration(k) * time.Minute) }
		// Series a: 5 s in each of the last 10 minutes (50 s), 60 s 3 h
		// ago, 30 s 8 days ago. Series b: 15 s 2 days ago.
		var mins []OutOfRangeMinute
		for k := 1; k <= 10; k++ {
			mins = append(mins, OutOfRangeMinute{SeriesID: "a", Minute: minAgo(k), SecondsOut: 5})
		}
		mins = append(mins, OutOfRangeMinute{SeriesID: "a", Minute: minAgo(180), SecondsOut: 60},
			OutOfRangeMinute{SeriesID: "a", Minute: minAgo(8 * 1440), SecondsOut: 30},
			OutOfRangeMinute{SeriesID: "b", Minute: minAgo(2 * 1440), SecondsOut: 15})
		require.NoError(t, s.ReplaceOutOfRange(ctx, "obj", minAgo(9*1440), now, mins))
		require.NoError(t, s.ReplaceOutOfRange(ctx, "other", minAgo(10), now,
			[]OutOfRangeMinute{{SeriesID: "a", Minute: minAgo(1), SecondsOut: 60}}))

		sums, err := s.OutOfRangeSums(ctx, "obj", now, minAgo(7*1440), minAgo(5), minAgo(60), minAgo(6*60))
		require.NoError(t, err)
		require.Equal(t, map[string][]float64{"a": {110, 25, 50, 110}, "b": {15, 0, 0, 0}}, sums)

		// The last 60 minutes replaced: a is now out 20 s 2 minutes ago
		// only; b's and a's older minutes stay, other's are untouched.
		require.NoError(t, s.ReplaceOutOfRange(ctx, "obj", minAgo(60), now,
			[]OutOfRangeMinute{{SeriesID: "a", Minute: minAgo(2), SecondsOut: 20}}))
		sums, err = s.OutOfRangeSums(ctx, "obj", now, minAgo(7*1440), minAgo(60))
		require.NoError(t, err)
		require.Equal(t, map[string][]float64{"a": {80, 20}, "b": {15, 0}}, sums)
		// until excludes the minute starting at it.
		sums, err = s.OutOfRangeSums(ctx, "other", minAgo(1), minAgo(10))
		require.NoError(t, err)
		require.Empty(t, sums)

		n, err := s.PruneOutOfRange(ctx, minAgo(7*1440))
		require.NoError(t, err)
		require.Equal(t, int64(1), n, "the minute 8 days ago")

		for _, bad := range []struct {
			name string
			m    OutOfRangeMinute
		}{
			{"not a whole minute", OutOfRangeMinute{SeriesID: "a", Minute: minAgo(1).Add(time.Second)}},
			{"outside the range", OutOfRangeMinute{SeriesID: "a", Minute: now}},
			{"no series", OutOfRangeMinute{Minute: minAgo(1)}},
		} {
			err := s.ReplaceOutOfRange(ctx, "obj", minAgo(60), now, []OutOfRangeMinute{bad.m})
			require.ErrorIs(t, err, ErrInvalidArgument, bad.name)
		}
		require.ErrorIs(t, s.ReplaceOutOfRange(ctx, "obj", now, now, nil), ErrInvalidArgument, "empty range")
	})
}
