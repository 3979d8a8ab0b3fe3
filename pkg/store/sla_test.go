package store

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// defaultSet is the SLA set of the architecture notes.
func defaultSet() []*slapipev1.Objective {
	return []*slapipev1.Objective{
		{Name: "disk-write", Selector: "node_disk_written_bytes_total", Max: proto.Float64(100e6)},
		{Name: "memory-free", Selector: "node_memory_MemFree_bytes", Min: proto.Float64(268435456)},
		{Name: "filesystem-avail", Selector: `node_filesystem_avail_bytes{mountpoint="/"}`, Min: proto.Float64(1073741824)},
		{Name: "memory-active", Selector: "node_memory_Active_bytes", Max: proto.Float64(17179869184)},
		{Name: "net-rx-packets", Selector: "node_network_receive_packets_total", Max: proto.Float64(50000)},
	}
}

func TestSLAHistory(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, err := s.LoadSLA(ctx)
		require.ErrorIs(t, err, ErrNotFound)

		versions := [][]*slapipev1.Objective{
			defaultSet(),
			defaultSet()[:2],
			// Both bounds, a zero bound (present, not absent) and odd text.
			{{Name: "band", Selector: `node_load1{instance=~"a'b|c\"d"}`, Min: proto.Float64(0), Max: proto.Float64(math.Pi)}},
			nil,
		}
		before := time.Now().Add(-time.Second)
		var saved []*slapipev1.SLASet
		for i, objs := range versions {
			set, err := s.SaveSLA(ctx, objs, "user-"+string(rune('a'+i)))
			require.NoError(t, err)
			require.Equal(t, int64(i+1), set.Version)
			require.WithinDuration(t, time.Now(), set.UpdatedAt.AsTime(), time.Minute)
			require.True(t, set.UpdatedAt.AsTime().After(before))
			saved = append(saved, set)

			cur, err := s.LoadSLA(ctx)
			require.NoError(t, err)
			requireProtoEqual(t, set, cur, "version %d", i+1)
		}
		hist, err := s.SLAHistory(ctx, 0)
		require.NoError(t, err)
		require.Len(t, hist, len(versions))
		for i, h := range hist {
			want := saved[len(saved)-1-i]
			requireProtoEqual(t, want, h.Set)
			require.Equal(t, "user-"+string(rune('a'+len(saved)-1-i)), h.Actor)
		}
		third := hist[1].Set.Objectives[0]
		require.NotNil(t, third.Min, "a zero bound stays present")
		require.Equal(t, 0.0, third.GetMin())
		require.Nil(t, hist[2].Set.Objectives[1].Max, "an unset bound stays absent")

		_, err = s.SaveSLA(ctx, []*slapipev1.Objective{nil}, "x")
		require.ErrorIs(t, err, ErrInvalidArgument)
		_, err = s.SaveSLA(ctx, defaultSet(), strings.Repeat("a", 256))
		require.ErrorIs(t, err, ErrInvalidArgument)
	})
}

func TestSLAConcurrentSaves(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const savers = 8
		var g errgroup.Group
		versions := make([]int64, savers)
		for i := range savers {
			g.Go(func() error {
				set, err := s.SaveSLA(ctx, defaultSet()[:1+i%5], "concurrent")
				if err == nil {
					versions[i] = set.Version
				}
				return err
			})
		}
		require.NoError(t, g.Wait())
		seen := map[int64]bool{}
		for _, v := range versions {
			require.False(t, seen[v], "version %d given twice", v)
			seen[v] = true
			require.True(t, v >= 1 && v <= savers)
		}
		hist, err := s.SLAHistory(ctx, 3)
		require.NoError(t, err)
		require.Len(t, hist, 3)
		require.Equal(t, int64(savers), hist[0].Set.Version)
	})
}

func TestViolationSnapshots(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, err := s.LatestViolations(ctx)
		require.ErrorIs(t, err, ErrNotFound)

		at := timestamppb.New(t0.Add(123456789 * time.Nanosecond))
		v := &slapipev1.GetViolationsResponse{ComputedAt: at, Windows: []*slapipev1.WindowViolations{
			{Window: "1h", Rows: []*slapipev1.Violation{{Objective: "disk-write", Metric: "node_disk_written_bytes_total",
				Labels: map[string]string{"device": "sda", "q": `'"; --`}, Window: "1h", Samples: 721, SamplesOut: 3,
				Episodes: 1, SecondsOut: 15, Compliance: 0.99584, Worst: math.Inf(1), WorstAt: at,
				FirstViolation: at, LastViolation: at, SeriesId: "abc"}}},
			{Window: "3h"},
		}}
		require.NoError(t, s.SaveViolations(ctx, v))
		got, err := s.LatestViolations(ctx)
		require.NoError(t, err)
		requireProtoEqual(t, v, got, "the snapshot keeps nanoseconds and infinities")

		v2 := proto.Clone(v).(*slapipev1.GetViolationsResponse)
		v2.Windows = v2.Windows[1:]
		v2.Stale, v2.AgeSeconds = true, 12.5
		require.NoError(t, s.SaveViolations(ctx, v2))
		got, err = s.LatestViolations(ctx)
		require.NoError(t, err)
		requireProtoEqual(t, v2, got)
		var n int
		require.NoError(t, s.DB().QueryRow("SELECT COUNT(*) FROM violation_snapshots").Scan(&n))
		require.Equal(t, 1, n, "only the latest snapshot is kept")

		require.ErrorIs(t, s.SaveViolations(ctx, nil), ErrInvalidArgument)
	})
}

func TestViolationHistoryRows(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		row := func(obj, id, window string, out int64, compliance float64) *slapipev1.Violation {
			return &slapipev1.Violation{Objective: obj, Metric: "node_memory_MemFree_bytes", SeriesId: id, Window: window,
				Labels: map[string]string{"instance": "a:9100"}, Samples: 720, SamplesOut: out, Compliance: compliance,
				Worst: math.Inf(-1), SecondsOut: float64(out) * 5}
		}
		v := &slapipev1.GetViolationsResponse{ComputedAt: timestamppb.New(t0), Windows: []*slapipev1.WindowViolations{
			{Window: "1h", Rows: []*slapipev1.Violation{row("memory-free", "s1", "1h", 3, 0.99), row("memory-free", "", "", 0, 1)}},
			{Window: "12h", Rows: []*slapipev1.Violation{row("memory-free", "s1", "12h", 30, math.NaN())}},
		}}
		require.NoError(t, s.SaveViolations(ctx, v))
		require.NoError(t, s.SaveViolations(ctx, v), "saving the same answer again")
		later := proto.Clone(v).(*slapipev1.GetViolationsResponse)
		later.ComputedAt = timestamppb.New(t0.Add(time.Minute))
		require.NoError(t, s.SaveViolations(ctx, later))

		var n int
		require.NoError(t, s.DB().QueryRow("SELECT COUNT(*) FROM sla_violations").Scan(&n))
		require.Equal(t, 6, n, "3 rows per distinct answer")
		var (
			window, id        string
			out               int64
			compliance, worst nullFloat
		)
		require.NoError(t, s.DB().QueryRow("SELECT window_name, series_id, samples_out, compliance, worst FROM sla_violations "+
			"WHERE computed_at = ? AND window_name = ? AND series_id = ?", timeArg(s.Dialect(), t0), "12h", "s1").
			Scan(&window, &id, &out, &compliance, &worst))
		require.Equal(t, int64(30), out)
		require.True(t, math.IsNaN(float64(compliance)))
		require.Equal(t, math.Inf(-1), float64(worst))
		require.NoError(t, s.DB().QueryRow("SELECT COUNT(*) FROM sla_violations WHERE window_name = ? AND series_id <> ?",
			"1h", "s1").Scan(&n))
		require.Equal(t, 2, n, "the row without series_id gets a key of its own, its window from the window")

		// An answer without computed_at keeps the snapshot but adds no rows.
		require.NoError(t, s.SaveViolations(ctx, &slapipev1.GetViolationsResponse{Windows: later.Windows}))
		require.NoError(t, s.DB().QueryRow("SELECT COUNT(*) FROM sla_violations").Scan(&n))
		require.Equal(t, 6, n)
		bad := proto.Clone(v).(*slapipev1.GetViolationsResponse)
		bad.Windows[0].Rows[0].Objective = ""
		require.ErrorIs(t, s.SaveViolations(ctx, bad), ErrInvalidArgument)
		bad = proto.Clone(v).(*slapipev1.GetViolationsResponse)
		bad.Windows[0].Rows[0].Window = "1h "
		require.ErrorIs(t, s.SaveViolations(ctx, bad), ErrInvalidArgument, "a window name with a trailing space")
	})
}

func TestSavePredictions(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		crossing := timestamppb.New(t0.Add(7 * time.Minute))
		p := &slapipev1.GetPredictionsResponse{ComputedAt: timestamppb.New(t0), RunId: "run-p", HorizonSeconds: 600,
			Predictions: []*slapipev1.Prediction{
				{Objective: "disk-write", Metric: "node_disk_written_bytes_total", SeriesId: "s1", Probability: 0.25,
					Min: 1, Max: 2e8, Mean: 5e7, FirstCrossing: crossing, Model: "damped",
					Labels: map[string]string{"device": "sda"}},
				{Objective: "disk-write", Metric: "node_disk_written_bytes_total", Probability: 0, Min: 1, Max: 2, Mean: 1.5,
					Model: "ses", Labels: map[string]string{"device": "sdb"}},
			}}
		require.NoError(t, s.SavePredictions(ctx, p))
		require.NoError(t, s.SavePredictions(ctx, p))
		var n int
		require.NoError(t, s.DB().QueryRow("SELECT COUNT(*) FROM sla_predictions").Scan(&n))
		require.Equal(t, 2, n)
		var (
			prob, pmax nullFloat
			first      nullTime
			run, model string
		)
		require.NoError(t, s.DB().QueryRow("SELECT probability, predicted_max, first_crossing, run_id, model FROM sla_predictions "+
			"WHERE series_id = ?", "s1").Scan(&prob, &pmax, &first, &run, &model))
		require.Equal(t, 0.25, float64(prob))
		require.Equal(t, 2e8, float64(pmax))
		require.Equal(t, crossing.AsTime(), first.T)
		require.Equal(t, "run-p", run)
		require.Equal(t, "damped", model)
		require.NoError(t, s.DB().QueryRow("SELECT first_crossing FROM sla_predictions WHERE series_id <> ?", "s1").Scan(&first))
		require.False(t, first.Valid, "no crossing is NULL")

		require.ErrorIs(t, s.SavePredictions(ctx, nil), ErrInvalidArgument)
		require.ErrorIs(t, s.SavePredictions(ctx, &slapipev1.GetPredictionsResponse{}), ErrInvalidArgument)
	})
}
