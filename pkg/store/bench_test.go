package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/errgroup"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// benchBatch is datastorage's default batch size.
const benchBatch = 500

// BenchmarkWriteAnalyses measures WriteAnalyses throughput for realistic
// messages (3 windows, 41 ACF lags, 120 forecast points, seasons of 720, 120
// or none), one batch of 500 per transaction, each batch a new run so every
// row is an insert into a growing table. Reported as msgs/s.
func BenchmarkWriteAnalyses(b *testing.B) {
	shapes := []struct {
		name  string
		shape msgShape
	}{
		{"realistic", realistic},
		{"season720", msgShape{acfLags: 40, points: 120, history: 120, seasons: []int{720}}},
	}
	for _, d := range dialects {
		for _, sh := range shapes {
			b.Run(d+"/"+sh.name, func(b *testing.B) {
				s := newStore(b, d)
				ctx := context.Background()
				// Messages are built up front so only the store is timed;
				// only the run id changes between batches.
				batch := genBatch(9, "run", benchBatch, t0, sh.shape)
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					run := fmt.Sprintf("run-%08d", i)
					for _, m := range batch {
						m.RunId = run
					}
					if err := s.WriteAnalyses(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// BenchmarkAnalyses measures reading one metric's series back (the
// retrieval service's common call): 500 stored series over 6 metrics.
func BenchmarkAnalyses(b *testing.B) {
	for _, d := range dialects {
		b.Run(d, func(b *testing.B) {
			s := newStore(b, d)
			ctx := context.Background()
			batch := genBatch(10, "run-read", benchBatch, t0, realistic)
			if err := s.WriteAnalyses(ctx, batch); err != nil {
				b.Fatal(err)
			}
			// Everything (what the demo's report reads), and the windows
			// only (what GetStats reads).
			for _, parts := range []struct {
				name  string
				parts Parts
			}{{"all", 0}, {"windows", PartWindows}} {
				b.Run(parts.name, func(b *testing.B) {
					var msgs []*slapipev1.SeriesAnalysis
					for b.Loop() {
						_, got, err := s.Analyses(ctx, Query{Metric: testMetrics[0].name, Parts: parts.parts})
						if err != nil {
							b.Fatal(err)
						}
						msgs = got
					}
					b.ReportMetric(float64(len(msgs)), "series/op")
				})
			}
		})
	}
}

// BenchmarkWriteAnalysesParallel is BenchmarkWriteAnalyses with several
// writers at once (each its own batches and transactions), as a consumer
// writing partitions concurrently would: one writer alternates between
// client and server work, two keep both cores busy.
func BenchmarkWriteAnalysesParallel(b *testing.B) {
	for _, d := range dialects {
		for _, writers := range []int{2, 4} {
			b.Run(fmt.Sprintf("%s/writers=%d", d, writers), func(b *testing.B) {
				s := newStore(b, d)
				ctx := context.Background()
				batches := make([][]*slapipev1.SeriesAnalysis, writers)
				for w := range batches {
					batches[w] = genBatch(uint64(100+w), "run", benchBatch, t0, realistic)
				}
				var next atomic.Int64
				b.ResetTimer()
				var g errgroup.Group
				for w := range writers {
					g.Go(func() error {
						for {
							i := next.Add(1) - 1
							if i >= int64(b.N) {
								return nil
							}
							run := fmt.Sprintf("run-%08d", i)
							for _, m := range batches[w] {
								m.RunId = run
							}
							if err := s.WriteAnalyses(ctx, batches[w]); err != nil {
								return err
							}
						}
					})
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}
