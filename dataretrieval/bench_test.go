package dataretrieval

import (
	"context"
	"fmt"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Load shape: the 1000 series, as 20 metrics of 50 series.
const (
	benchMetrics         = 20
	benchSeriesPerMetric = 50
)

// seedLoad writes one run of benchMetrics x benchSeriesPerMetric realistic
// analyses and returns one series id per metric.
func seedLoad(b *testing.B, st store.API) []string {
	b.Helper()
	tpl := fixtures.Analysis()
	var ids []string
	for mi := range benchMetrics {
		batch := make([]*slapipev1.SeriesAnalysis, benchSeriesPerMetric)
		for i := range batch {
			a := proto.Clone(tpl).(*slapipev1.SeriesAnalysis)
			a.RunId = "run-load"
			a.Metric = fmt.Sprintf("node_load_metric_%02d", mi)
			a.SeriesId = fmt.Sprintf("%04d%028x", mi, i)
			a.Labels["device"] = fmt.Sprintf("dev%d", i)
			batch[i] = a
		}
		ids = append(ids, batch[0].GetSeriesId())
		if err := st.WriteAnalyses(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.UpsertRun(context.Background(), &slapipev1.Run{RunId: "run-load", Status: "succeeded",
		StartedAt: timestamppb.Now(), Series: benchMetrics * benchSeriesPerMetric}); err != nil {
		b.Fatal(err)
	}
	return ids
}

// BenchmarkRetrievalLatency measures call latency over loopback gRPC with
// 1, 8 and 64 concurrent clients (one connection each) against a store of
// 1000 series, reporting p50 and p99 in milliseconds and the throughput.
// Calls: GetStats of one series, GetForecast of a metric (50 series),
// ListSeries pages of 100.
func BenchmarkRetrievalLatency(b *testing.B) {
	type call func(ctx context.Context, c slapipev1.DataRetrievalClient, i int) error
	for _, d := range testkit.Dialects {
		b.Run(d, func(b *testing.B) {
			st := testkit.Store(b, d)
			ids := seedLoad(b, st)
			addr := serveBench(b, st)
			calls := []struct {
				name string
				do   call
			}{
				{"GetStats-series", func(ctx context.Context, c slapipev1.DataRetrievalClient, i int) error {
					_, err := c.GetStats(ctx, &slapipev1.SeriesQuery{SeriesId: ids[i%len(ids)]})
					return err
				}},
				{"GetForecast-metric", func(ctx context.Context, c slapipev1.DataRetrievalClient, i int) error {
					_, err := c.GetForecast(ctx, &slapipev1.SeriesQuery{Metric: fmt.Sprintf("node_load_metric_%02d", i%benchMetrics)})
					return err
				}},
				{"ListSeries-page100", func(ctx context.Context, c slapipev1.DataRetrievalClient, i int) error {
					_, err := c.ListSeries(ctx, &slapipev1.ListSeriesRequest{PageSize: 100})
					return err
				}},
			}
			for _, cl := range calls {
				for _, clients := range []int{1, 8, 64} {
					b.Run(fmt.Sprintf("%s/clients=%d", cl.name, clients), func(b *testing.B) {
						conns := make([]slapipev1.DataRetrievalClient, clients)
						for i := range conns {
							conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
								grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
							if err != nil {
								b.Fatal(err)
							}
							b.Cleanup(func() { _ = conn.Close() })
							conns[i] = slapipev1.NewDataRetrievalClient(conn)
							if err := cl.do(context.Background(), conns[i], i); err != nil { // connect and warm up
								b.Fatal(err)
							}
						}
						testkit.Load(b, clients, func(client, i int) error { return cl.do(context.Background(), conns[client], i) })
					})
				}
			}
		})
	}
}

// serveBench runs the service over st on a loopback port until the
// benchmark ends and returns its address.
func serveBench(b *testing.B, st Store) string {
	addrc := make(chan net.Addr, 1)
	srv, err := New(Config{Listen: "127.0.0.1:0"}, st, Deps{OnListen: func(a net.Addr) { addrc <- a }})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	return (<-addrc).String()
}
