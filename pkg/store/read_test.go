package store

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

func TestLatestRunID(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		_, err := s.LatestRunID(ctx)
		require.ErrorIs(t, err, ErrNotFound, "no analyses yet")
		_, _, err = s.Analyses(ctx, Query{})
		require.ErrorIs(t, err, ErrNotFound)

		steps := []struct {
			name  string
			apply func(t *testing.T)
			want  string
		}{
			{"first run, no summary yet: the newest with analyses", func(t *testing.T) {
				require.NoError(t, s.WriteAnalyses(ctx, genBatch(1, "r1", 2, t0, realistic)))
			}, "r1"},
			{"no complete run yet: newest computed_at wins", func(t *testing.T) {
				require.NoError(t, s.WriteAnalyses(ctx, genBatch(1, "r2", 2, t0.Add(time.Hour), realistic)))
			}, "r2"},
			{"a complete succeeded run wins over newer partial ones", func(t *testing.T) {
				require.NoError(t, s.UpsertRun(ctx, &slapipev1.Run{RunId: "r1", Status: "succeeded", Series: 2,
					StartedAt: timestamppb.New(t0.Add(2 * time.Hour))}))
			}, "r1"},
			{"a newer run without analyses does not count", func(t *testing.T) {
				require.NoError(t, s.UpsertRun(ctx, &slapipev1.Run{RunId: "r3", Status: "failed", Series: 1,
					StartedAt: timestamppb.New(t0.Add(3 * time.Hour))}))
			}, "r1"},
			{"nor does a failed one with its analyses", func(t *testing.T) {
				require.NoError(t, s.WriteAnalyses(ctx, genBatch(1, "r3", 1, t0.Add(-time.Hour), realistic)))
			}, "r1"},
			{"a succeeded summary with fewer analyses than series does not count", func(t *testing.T) {
				require.NoError(t, s.UpsertRun(ctx, &slapipev1.Run{RunId: "r3", Status: "succeeded", Series: 2,
					StartedAt: timestamppb.New(t0.Add(3 * time.Hour))}))
			}, "r1"},
			{"until all its analyses are stored", func(t *testing.T) {
				require.NoError(t, s.UpsertRun(ctx, &slapipev1.Run{RunId: "r3", Status: "succeeded", Series: 1,
					StartedAt: timestamppb.New(t0.Add(3 * time.Hour))}))
			}, "r3"},
		}
		for _, st := range steps {
			st.apply(t)
			got, err := s.LatestRunID(ctx)
			require.NoError(t, err, st.name)
			require.Equal(t, st.want, got, st.name)
			run, msgs, err := s.Analyses(ctx, Query{})
			require.NoError(t, err)
			require.Equal(t, st.want, run, "Analyses without RunID reads the latest run")
			require.NotEmpty(t, msgs)
		}
		runs, err := s.ListRuns(ctx, 0)
		require.NoError(t, err)
		require.Len(t, runs, 2, "only runs with a summary are listed")
		require.Equal(t, "r3", runs[0].RunId)
		require.Equal(t, "r1", runs[1].RunId)
	})
}

func TestUpsertRunRoundTrip(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		run := &slapipev1.Run{RunId: "0193a0c4-8f2e-7b3d-9c1a-2b3c4d5e6f70", StartedAt: timestamppb.New(t0),
			FinishedAt: timestamppb.New(t0.Add(42 * time.Second)), Status: "running", Series: 1000,
			PullSeconds: 3.25, AnalyseSeconds: math.NaN(), PublishSeconds: 1.5, TotalSeconds: 41.999,
			Error: "", Trigger: "schedule"}
		require.NoError(t, s.UpsertRun(ctx, run))
		got, err := s.ListRuns(ctx, 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		requireProtoEqual(t, run, got[0])

		// The final summary replaces the first; analyses marks survive.
		require.NoError(t, s.WriteAnalyses(ctx, genBatch(3, run.RunId, 1, t0, realistic)))
		run.Status, run.Error, run.AnalyseSeconds = "failed", "publish: broker down 'x'; --", 30
		require.NoError(t, s.UpsertRun(ctx, run))
		got, err = s.ListRuns(ctx, 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		requireProtoEqual(t, run, got[0])
		latest, err := s.LatestRunID(ctx)
		require.NoError(t, err)
		require.Equal(t, run.RunId, latest)

		for i := range 25 {
			require.NoError(t, s.UpsertRun(ctx, &slapipev1.Run{RunId: "bulk-" + string(rune('a'+i)), Status: "succeeded",
				StartedAt: timestamppb.New(t0.Add(time.Duration(i+1) * time.Minute))}))
		}
		got, err = s.ListRuns(ctx, 0)
		require.NoError(t, err)
		require.Len(t, got, 20, "limit 0 means 20")
		require.Equal(t, "bulk-y", got[0].RunId, "newest first")

		require.ErrorIs(t, s.UpsertRun(ctx, &slapipev1.Run{}), ErrInvalidArgument)
		require.ErrorIs(t, s.UpsertRun(ctx, nil), ErrInvalidArgument)
	})
}

func TestAnalysesNotFound(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		msgs := genBatch(11, "run-nf", 12, t0, realistic)
		require.NoError(t, s.WriteAnalyses(ctx, msgs))
		cases := []struct {
			name string
			q    Query
		}{
			{"unknown run", Query{RunID: "no-such-run"}},
			{"unknown metric", Query{Metric: "node_nope"}},
			{"unknown series", Query{SeriesID: "ffffffffffffffffffffffffffffffff"}},
			{"series of another metric", Query{Metric: msgs[1].Metric, SeriesID: msgs[0].SeriesId}},
			{"injection in metric", Query{Metric: "x' OR '1'='1"}},
			{"injection in run", Query{RunID: "run-nf' OR 1=1 -- "}},
			{"injection in series", Query{SeriesID: `" OR ""="`}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, got, err := s.Analyses(ctx, c.q)
				require.ErrorIs(t, err, ErrNotFound)
				require.Empty(t, got)
			})
		}
		require.Equal(t, 12, countRows(t, s)["analyses"], "nothing was dropped")
	})
}

func TestForecastPointsView(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		msgs := append(genBatch(12, "edge-run", 2, t0, realistic), edgeCases(t)...)
		require.NoError(t, s.WriteAnalyses(ctx, msgs))
		for _, m := range msgs {
			rows, err := s.DB().QueryContext(ctx, "SELECT step, ts, mean, lower, upper FROM forecast_points "+
				"WHERE run_id = ? AND series_id = ? ORDER BY step", m.RunId, m.SeriesId)
			require.NoError(t, err)
			var got []*slapipev1.ForecastPoint
			for i := 1; rows.Next(); i++ {
				var (
					step      int
					ts        nullTime
					mn, lo, u nullFloat
				)
				require.NoError(t, rows.Scan(&step, &ts, &mn, &lo, &u))
				require.Equal(t, i, step)
				got = append(got, &slapipev1.ForecastPoint{Time: ts.TS(), Mean: float64(mn), Lower: float64(lo), Upper: float64(u)})
			}
			require.NoError(t, rows.Err())
			require.NoError(t, rows.Close())
			want := m.GetForecast().GetPoints()
			require.Len(t, got, len(want), m.SeriesId)
			for i := range want {
				requireProtoEqual(t, want[i], got[i], "series %s point %d", m.SeriesId, i+1)
			}
		}
	})
}

// TestNarrowRunDoesNotHideMetrics: a newer complete run that analysed only
// some metrics (etl run --selector ...) is the latest run, but a metric it
// lacks is still read from the last run that has it.
func TestNarrowRunDoesNotHideMetrics(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		full := genBatch(7, "full", 4, t0, realistic)
		full[0].Metric, full[1].Metric = "node_load1", "node_load1"
		full[2].Metric, full[3].Metric = "node_memory_MemFree_bytes", "node_memory_MemFree_bytes"
		narrow := genBatch(8, "narrow", 1, t0.Add(time.Hour), realistic)
		narrow[0].Metric = "node_load1"
		require.NoError(t, s.WriteAnalyses(ctx, full))
		require.NoError(t, s.UpsertRun(ctx, &slapipev1.Run{RunId: "full", Status: "succeeded", Series: 4,
			StartedAt: timestamppb.New(t0)}))
		require.NoError(t, s.WriteAnalyses(ctx, narrow))
		require.NoError(t, s.UpsertRun(ctx, &slapipev1.Run{RunId: "narrow", Status: "succeeded", Series: 1,
			StartedAt: timestamppb.New(t0.Add(time.Hour))}))

		latest, err := s.LatestRunID(ctx)
		require.NoError(t, err)
		require.Equal(t, "narrow", latest)

		cases := []struct {
			q        Query
			wantRun  string
			wantMsgs int
		}{
			{Query{Metric: "node_load1"}, "narrow", 1},
			{Query{Metric: "node_memory_MemFree_bytes"}, "full", 2},
			{Query{SeriesID: full[3].SeriesId}, "full", 1},
			{Query{Metric: "node_memory_MemFree_bytes", RunID: "full"}, "full", 2},
		}
		for _, c := range cases {
			run, msgs, err := s.Analyses(ctx, c.q)
			require.NoError(t, err, "%+v", c.q)
			require.Equal(t, c.wantRun, run, "%+v", c.q)
			require.Len(t, msgs, c.wantMsgs, "%+v", c.q)
		}
		_, _, err = s.Analyses(ctx, Query{Metric: "node_memory_MemFree_bytes", RunID: "narrow"})
		require.ErrorIs(t, err, ErrNotFound, "an explicit run is not replaced")
		_, _, err = s.Analyses(ctx, Query{Metric: "no_such_metric"})
		require.ErrorIs(t, err, ErrNotFound)
	})
}

func TestAnalysesReadsOnlyTheParts(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		require.NoError(t, s.WriteAnalyses(ctx, genBatch(21, "run-parts", 6, t0, realistic)))
		_, full, err := s.Analyses(ctx, Query{RunID: "run-parts"})
		require.NoError(t, err)
		require.Len(t, full, 6)
		for _, m := range full {
			require.True(t, len(m.Windows) > 0 && m.Adf != nil && len(m.Acf) > 0 && m.Forecast != nil,
				"the fixture has every part: %s", m.SeriesId)
		}
		for _, tc := range []struct {
			name  string
			parts Parts
		}{
			{"windows", PartWindows},
			{"metadata", PartADF | PartACF | PartSeasonality},
			{"forecast", PartForecast},
			{"all", PartWindows | PartADF | PartACF | PartSeasonality | PartForecast},
		} {
			t.Run(tc.name, func(t *testing.T) {
				run, got, err := s.Analyses(ctx, Query{Parts: tc.parts})
				require.NoError(t, err)
				require.Equal(t, "run-parts", run)
				require.Len(t, got, len(full))
				for i, m := range full {
					want := proto.Clone(m).(*slapipev1.SeriesAnalysis)
					if tc.parts&PartWindows == 0 {
						want.Windows = nil
					}
					if tc.parts&PartADF == 0 {
						want.Adf = nil
					}
					if tc.parts&PartACF == 0 {
						want.Acf = nil
					}
					if tc.parts&PartSeasonality == 0 {
						want.Seasonality = nil
					}
					if tc.parts&PartForecast == 0 {
						want.Forecast = nil
					}
					requireProtoEqual(t, want, got[i], "series %s", m.SeriesId)
				}
			})
		}
	})
}
