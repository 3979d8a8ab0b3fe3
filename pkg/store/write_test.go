package store

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 890e6, time.UTC)

// sortedByMetric orders messages as Analyses returns them.
func sortedByMetric(msgs []*slapipev1.SeriesAnalysis) []*slapipev1.SeriesAnalysis {
	out := append([]*slapipev1.SeriesAnalysis(nil), msgs...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Metric != out[j].Metric {
			return out[i].Metric < out[j].Metric
		}
		return out[i].SeriesId < out[j].SeriesId
	})
	return out
}

func requireSameAnalyses(t *testing.T, want, got []*slapipev1.SeriesAnalysis) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		requireProtoEqual(t, want[i], got[i], "message %d (%s)", i, want[i].SeriesId)
	}
}

func TestWriteAnalysesRoundTrip(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		cases := []struct {
			name string
			msgs []*slapipev1.SeriesAnalysis
		}{
			{"realistic", genBatch(1, "run-realistic", 24, t0, realistic)},
			{"edge cases", edgeCases(t)},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				require.NoError(t, s.WriteAnalyses(ctx, c.msgs))
				run := c.msgs[0].RunId
				gotRun, got, err := s.Analyses(ctx, Query{RunID: run})
				require.NoError(t, err)
				require.Equal(t, run, gotRun)
				requireSameAnalyses(t, sortedByMetric(c.msgs), got)

				// Per series and per metric.
				for _, m := range c.msgs {
					_, one, err := s.Analyses(ctx, Query{RunID: run, SeriesID: m.SeriesId})
					require.NoError(t, err)
					requireSameAnalyses(t, []*slapipev1.SeriesAnalysis{m}, one)
				}
				var metric []*slapipev1.SeriesAnalysis
				for _, m := range c.msgs {
					if m.Metric == c.msgs[0].Metric {
						metric = append(metric, m)
					}
				}
				_, got, err = s.Analyses(ctx, Query{RunID: run, Metric: c.msgs[0].Metric})
				require.NoError(t, err)
				requireSameAnalyses(t, sortedByMetric(metric), got)
			})
		}
	})
}

func TestWriteAnalysesTruncatesToMilliseconds(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m := genBatch(2, "run-ns", 1, t0, realistic)[0]
		m.ComputedAt.Nanos = 123456789
		require.NoError(t, s.WriteAnalyses(ctx, []*slapipev1.SeriesAnalysis{m}))
		_, got, err := s.Analyses(ctx, Query{RunID: "run-ns"})
		require.NoError(t, err)
		require.Equal(t, int32(123000000), got[0].ComputedAt.Nanos)
		require.Equal(t, m.ComputedAt.Seconds, got[0].ComputedAt.Seconds)
	})
}

// tableDump renders every row of the write path's tables, in key order.
func tableDump(t *testing.T, s *Store) string {
	t.Helper()
	queries := []string{
		"SELECT series_id, metric, labels, metric_type, transform, first_seen, last_seen FROM series ORDER BY series_id",
		"SELECT run_id, has_analyses, analyses_at, reported FROM runs ORDER BY run_id",
		"SELECT * FROM analyses ORDER BY run_id, series_id",
		"SELECT * FROM window_stats ORDER BY run_id, series_id, window_name",
		"SELECT * FROM stationarity ORDER BY run_id, series_id",
		"SELECT * FROM autocorrelation ORDER BY run_id, series_id",
		"SELECT * FROM seasonality ORDER BY run_id, series_id",
		"SELECT * FROM forecasts ORDER BY run_id, series_id",
		"SELECT * FROM forecast_points ORDER BY run_id, series_id, step",
	}
	var b strings.Builder
	for _, q := range queries {
		rows, err := s.DB().Query(q)
		require.NoError(t, err, q)
		cols, err := rows.Columns()
		require.NoError(t, err)
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			require.NoError(t, rows.Scan(ptrs...))
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%v|", v)
			}
			b.WriteByte('\n')
		}
		require.NoError(t, rows.Err())
		_ = rows.Close()
	}
	return b.String()
}

func TestWriteAnalysesRewriteChangesNothing(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		msgs := append(genBatch(3, "run-a", 30, t0, realistic), edgeCases(t)...)
		require.NoError(t, s.WriteAnalyses(ctx, msgs))
		counts, dump := countRows(t, s), tableDump(t, s)
		require.Equal(t, 30+len(edgeCases(t)), counts["analyses"])
		require.Equal(t, 30*120+2, counts["forecast_points"])

		// Again whole, again in reverse order split into two batches (a
		// redelivery after a crash), and with duplicates inside one batch.
		require.NoError(t, s.WriteAnalyses(ctx, msgs))
		rev := append([]*slapipev1.SeriesAnalysis(nil), msgs...)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		require.NoError(t, s.WriteAnalyses(ctx, rev[:10]))
		require.NoError(t, s.WriteAnalyses(ctx, append(rev[10:], rev[10:]...)))
		require.Equal(t, counts, countRows(t, s))
		require.Equal(t, dump, tableDump(t, s))
	})
}

func TestWriteAnalysesReplacesChangedMessage(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		first := genBatch(4, "run-b", 3, t0, realistic)
		require.NoError(t, s.WriteAnalyses(ctx, first))
		// Series 0 comes again with a shorter forecast, no season, no ADF and
		// two windows: nothing of the old version may survive.
		changed := proto.Clone(first[0]).(*slapipev1.SeriesAnalysis)
		changed.Forecast.Points = changed.Forecast.Points[:7]
		changed.Seasonality, changed.Adf = nil, nil
		changed.Windows = changed.Windows[1:]
		changed.Acf = nil
		require.NoError(t, s.WriteAnalyses(ctx, []*slapipev1.SeriesAnalysis{changed}))
		_, got, err := s.Analyses(ctx, Query{RunID: "run-b", SeriesID: changed.SeriesId})
		require.NoError(t, err)
		requireSameAnalyses(t, []*slapipev1.SeriesAnalysis{changed}, got)
		n := countRows(t, s)
		require.Equal(t, 2*120+7, n["forecast_points"])
		require.Equal(t, 3*3-1, n["window_stats"])
		require.Equal(t, 2, n["stationarity"])
		require.Equal(t, 2, n["autocorrelation"])
	})
}

func TestWriteAnalysesLastInBatchWins(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := genBatch(5, "run-c", 1, t0, realistic)[0]
		b := proto.Clone(a).(*slapipev1.SeriesAnalysis)
		b.Gaps = 99
		b.Forecast.Points = b.Forecast.Points[:3]
		require.NoError(t, s.WriteAnalyses(ctx, []*slapipev1.SeriesAnalysis{a, b}))
		_, got, err := s.Analyses(ctx, Query{RunID: "run-c"})
		require.NoError(t, err)
		requireSameAnalyses(t, []*slapipev1.SeriesAnalysis{b}, got)
	})
}

func TestWriteAnalysesRejectsInvalid(t *testing.T) {
	long := strings.Repeat("x", 65)
	cases := []struct {
		name   string
		mutate func(m *slapipev1.SeriesAnalysis)
	}{
		{"empty run id", func(m *slapipev1.SeriesAnalysis) { m.RunId = "" }},
		{"empty series id", func(m *slapipev1.SeriesAnalysis) { m.SeriesId = "" }},
		{"empty metric", func(m *slapipev1.SeriesAnalysis) { m.Metric = "" }},
		{"long run id", func(m *slapipev1.SeriesAnalysis) { m.RunId = long }},
		{"trailing space in series id", func(m *slapipev1.SeriesAnalysis) { m.SeriesId += " " }},
		{"control character in metric", func(m *slapipev1.SeriesAnalysis) { m.Metric = "a\x00b" }},
		{"invalid UTF-8 label", func(m *slapipev1.SeriesAnalysis) { m.Labels["x"] = "\xff" }},
		{"repeated window", func(m *slapipev1.SeriesAnalysis) { m.Windows[1].Window = m.Windows[0].Window }},
		{"nil window", func(m *slapipev1.SeriesAnalysis) { m.Windows[2] = nil }},
		{"trailing space in window", func(m *slapipev1.SeriesAnalysis) { m.Windows[0].Window += " " }},
		{"nil point", func(m *slapipev1.SeriesAnalysis) { m.Forecast.Points[5] = nil }},
		{"year 10000", func(m *slapipev1.SeriesAnalysis) { m.ComputedAt.Seconds = 253402300800 }},
		{"year 999", func(m *slapipev1.SeriesAnalysis) { m.RangeStart.Seconds = -30610224001 }},
		{"bad nanos", func(m *slapipev1.SeriesAnalysis) { m.RangeEnd.Nanos = 2e9 }},
		{"long model", func(m *slapipev1.SeriesAnalysis) { m.Forecast.Model = long }},
	}
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				msgs := genBatch(6, "run-bad", 3, t0, realistic)
				c.mutate(msgs[1])
				err := s.WriteAnalyses(ctx, msgs)
				require.ErrorIs(t, err, ErrInvalidArgument)
				require.ErrorIs(t, msgs[1].Validate(), ErrInvalidArgument)
				require.NoError(t, msgs[0].Validate())
				require.Equal(t, 0, countRows(t, s)["analyses"], "nothing of a rejected batch is written")
			})
		}
		require.ErrorIs(t, s.WriteAnalyses(ctx, []*slapipev1.SeriesAnalysis{nil}), ErrInvalidArgument)
	})
}

func TestWriteAnalysesConcurrentBatches(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const writers, batches, size = 6, 4, 25
		// All writers share one run and interleave series ids, the worst
		// case for lock conflicts; every writer also rewrites one batch of
		// another writer's series.
		all := genBatch(7, "run-conc", writers*batches*size, t0, realistic)
		var g errgroup.Group
		for w := range writers {
			g.Go(func() error {
				for b := range batches {
					var batch []*slapipev1.SeriesAnalysis
					for i := range size {
						batch = append(batch, all[(b*size+i)*writers+w])
					}
					if err := s.WriteAnalyses(ctx, batch); err != nil {
						return err
					}
				}
				return s.WriteAnalyses(ctx, all[((w+1)%writers)*size:((w+1)%writers+1)*size])
			})
		}
		require.NoError(t, g.Wait())
		n := countRows(t, s)
		total := writers * batches * size
		require.Equal(t, total, n["analyses"])
		require.Equal(t, total, n["series"])
		require.Equal(t, total*3, n["window_stats"])
		require.Equal(t, total*120, n["forecast_points"])
		require.Equal(t, 1, n["runs"])
		_, got, err := s.Analyses(ctx, Query{RunID: "run-conc"})
		require.NoError(t, err)
		requireSameAnalyses(t, sortedByMetric(all), got)
	})
}

func TestSeriesKeepsNewestTypeAndSeenRange(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		older := genBatch(8, "run-old", 1, t0, realistic)[0]
		newer := genBatch(8, "run-new", 1, t0.Add(time.Hour), realistic)[0]
		newer.MetricType, newer.Transform = "gauge", "raw"
		older.MetricType, older.Transform = "unknown", "rate"
		// The newer run arrives first; the late older one must not roll back.
		require.NoError(t, s.WriteAnalyses(ctx, []*slapipev1.SeriesAnalysis{newer}))
		require.NoError(t, s.WriteAnalyses(ctx, []*slapipev1.SeriesAnalysis{older}))
		var typ, tr string
		var first, last nullTime
		require.NoError(t, s.DB().QueryRow("SELECT metric_type, transform, first_seen, last_seen FROM series WHERE series_id = ?",
			newer.SeriesId).Scan(&typ, &tr, &first, &last))
		require.Equal(t, "gauge", typ)
		require.Equal(t, "raw", tr)
		require.Equal(t, older.ComputedAt.AsTime(), first.T)
		require.Equal(t, newer.ComputedAt.AsTime(), last.T)
		// Each run still reads back as written.
		_, got, err := s.Analyses(ctx, Query{RunID: "run-old"})
		require.NoError(t, err)
		requireSameAnalyses(t, []*slapipev1.SeriesAnalysis{older}, got)
	})
}

func TestNonFiniteMapping(t *testing.T) {
	// The documented lossy corner: a true ±MaxFloat64 reads back as ±Inf.
	require.Nil(t, floatArg(math.NaN()))
	require.Equal(t, math.MaxFloat64, floatArg(math.Inf(1)))
	require.Equal(t, -math.MaxFloat64, floatArg(math.Inf(-1)))
	require.Equal(t, math.Inf(1), fromStored(math.MaxFloat64))
	negZero, ok := floatArg(math.Copysign(0, -1)).(float64)
	require.True(t, ok)
	require.False(t, math.Signbit(negZero), "negative zero is stored as zero")
	vals := []float64{0, -0.5, 1e-310, 123456.789, math.NaN(), math.Inf(1), math.Inf(-1), 0.1 + 0.2}
	got, err := parseFloatsJSON([]byte(floatsJSON(vals)))
	require.NoError(t, err)
	require.Len(t, got, len(vals))
	for i, v := range vals {
		if math.IsNaN(v) {
			require.True(t, math.IsNaN(got[i]))
			continue
		}
		require.Equal(t, v, got[i])
	}
	_, err = parseFloatsJSON([]byte(`{"a":1}`))
	require.Error(t, err)
}

func TestChunksArePowersOfTwoWithinLimits(t *testing.T) {
	s := &Store{maxParams: 65535}
	for _, n := range []int{0, 1, 3, 500, 1500, 4099} {
		r := newRowSet(forecastTable, n)
		for range n {
			r.add(10_000, make([]any, len(forecastTable.cols))...)
		}
		next := 0
		for _, c := range s.chunks(r) {
			rows := c[1] - c[0]
			require.Equal(t, next, c[0], "chunks are contiguous")
			require.Equal(t, 0, rows&(rows-1), "%d rows is not a power of two", rows)
			require.LessOrEqual(t, rows*len(forecastTable.cols), s.maxParams)
			require.LessOrEqual(t, rows*10_000, maxStatementBytes)
			next = c[1]
		}
		require.Equal(t, n, next, "all %d rows covered", n)
	}
}
