package promsource

import (
	"context"
	"testing"
	"time"

	"github.com/slapipe/slapipe/internal/testing/testenv"
)

// BenchmarkFetchSeries is the pull of a distributed run's workers: every
// series of SLAPIPE_BENCH_SELECTOR (default the series
// scripts/bench-distributed.sh backfills) over the 12 h ending at
// SLAPIPE_BENCH_END, in tasks of 100 series one after the other, through
// remote read and through query_range (one per series, two at a time).
func BenchmarkFetchSeries(b *testing.B) {
	url := testenv.PrometheusURL(b)
	sel, end := testenv.BenchSeries(b)
	const step = 5 * time.Second
	start := end.Add(-12*time.Hour + step)
	ctx := context.Background()
	lister, err := New(Config{URL: url})
	if err != nil {
		b.Fatal(err)
	}
	queries, err := lister.Plan(ctx, []string{sel}, start, end)
	if err != nil {
		b.Fatal(err)
	}
	refs, err := lister.List(ctx, queries, start, end, step, 1_000_000)
	if err != nil {
		b.Fatal(err)
	}
	for _, read := range []string{ReadRemote, ReadQueryRange} {
		b.Run(read, func(b *testing.B) {
			src, err := New(Config{URL: url, Read: read})
			if err != nil {
				b.Fatal(err)
			}
			var points int
			for b.Loop() {
				points = 0
				for i := 0; i < len(refs); i += 100 {
					ss, err := src.FetchSeries(ctx, refs[i:min(i+100, len(refs))], start, end, step, 2)
					if err != nil {
						b.Fatal(err)
					}
					for _, s := range ss {
						points += len(s.Values)
					}
				}
			}
			b.ReportMetric(float64(len(refs)), "series")
			b.ReportMetric(float64(points), "points")
		})
	}
}
