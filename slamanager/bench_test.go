package slamanager

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// benchSource serves seriesPer series of 8641 points for every objective of
// the default set, and a stored forecast for each.
func benchSource(seriesPer int) (*fakeSource, []*slapipev1.SeriesAnalysis) {
	src := &fakeSource{series: map[string][]promSeries{}}
	var msgs []*slapipev1.SeriesAnalysis
	for _, o := range DefaultObjectives() {
		metric, _, _ := parseSelector(o.GetSelector())
		for i := range seriesPer {
			ls := map[string]string{"instance": fmt.Sprintf("host-%d:9100", i), "mountpoint": "/", "device": "sda"}
			s := buildSeries(1e9+float64(i), mark{3, 1}, mark{4, 1e12})
			s.Metric, s.Labels, s.ID = metric, ls, promsource.SeriesID(metric, ls)
			src.series[o.GetSelector()] = append(src.series[o.GetSelector()], s)
			msg := forecastMsg(metric, ls, 120, 1e6, func(k int) float64 { return 1e9 + float64(k)*1e5 })
			msg.RunId, msg.SeriesId = "run-bench", s.ID
			msgs = append(msgs, msg)
		}
	}
	return src, msgs
}

// BenchmarkGetStatus measures GetStatus over gRPC on loopback with 1 and 16
// concurrent clients and reports the latency percentiles p50 and p99.
// "cached" calls fall on the same step (the answer is reused until the next
// 5 s grid point, as it is for repeated calls in production); "uncached"
// moves the clock one step per call, so every call pulls, counts and saves
// a snapshot. "fake" serves 5 objectives x 4 series x 8641 points from
// memory; "prometheus" (with SLAPIPE_TEST_PROMETHEUS_URL) reads the real one.
func BenchmarkGetStatus(b *testing.B) {
	for _, source := range []string{"fake", "prometheus"} {
		for _, mode := range []string{"cached", "uncached"} {
			for _, clients := range []int{1, 16} {
				b.Run(fmt.Sprintf("%s/%s/clients=%d", source, mode, clients), func(b *testing.B) {
					benchStatus(b, source, mode == "cached", clients)
				})
			}
		}
	}
}

func benchStatus(b *testing.B, source string, cached bool, clients int) {
	ctx := context.Background()
	st := testkit.OpenStore(b, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	defer st.Close()
	var src RangeSource
	base := testEnd
	if source == "fake" {
		fs, msgs := benchSource(4)
		src = fs
		require.NoError(b, st.WriteAnalyses(ctx, msgs))
		require.NoError(b, st.UpsertRun(ctx, &slapipev1.Run{RunId: "run-bench", Status: "succeeded",
			StartedAt: timestamppb.New(testEnd), FinishedAt: timestamppb.New(testEnd)}))
	} else {
		url := testenv.PrometheusURL(b)
		ps, err := promsource.New(promsource.Config{URL: url})
		require.NoError(b, err)
		src = ps
		// An hour back leaves room for the clock to move forward.
		base = time.Now().Add(-time.Hour)
	}
	m, err := New(Config{Listen: "127.0.0.1:0"}, Deps{Store: st, Source: src})
	require.NoError(b, err)
	var calls atomic.Int64
	m.now = func() time.Time {
		if cached {
			return base
		}
		return base.Add(time.Duration(calls.Add(1)) * 5 * time.Second)
	}
	client := slapipev1.NewSLAManagerClient(serve(b, m))
	_, err = client.GetStatus(ctx, &slapipev1.GetStatusRequest{})
	require.NoError(b, err)

	lat := make([][]time.Duration, clients)
	var stale, failed atomic.Int64
	per := (b.N + clients - 1) / clients
	b.ResetTimer()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for range per {
				start := time.Now()
				resp, err := client.GetStatus(ctx, &slapipev1.GetStatusRequest{})
				lat[c] = append(lat[c], time.Since(start))
				switch {
				case err != nil || resp.Violations == nil:
					failed.Add(1)
				case resp.Violations.Stale:
					// Degraded mode under overload: counted, reported.
					stale.Add(1)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(float64(stale.Load())/float64(len(all)), "stale_frac")
	if failed.Load() > 0 {
		b.Errorf("%d of %d status calls failed", failed.Load(), len(all))
	}
}
