package dataretrieval

import (
	"context"
	"fmt"
	"net"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// seeded is what seed wrote.
type seeded struct {
	// byRun maps run id to its analyses ordered by metric then series id
	// (the order the service returns).
	byRun map[string][]*slapipev1.SeriesAnalysis
	// runs newest first.
	runs []*slapipev1.Run
}

// of returns the seeded analyses of run matching pred.
func (s seeded) of(run string, pred func(*slapipev1.SeriesAnalysis) bool) []*slapipev1.SeriesAnalysis {
	var out []*slapipev1.SeriesAnalysis
	for _, m := range s.byRun[run] {
		if pred(m) {
			out = append(out, m)
		}
	}
	return out
}

// seedMetrics are the metrics of the seeded runs with their series counts
// in the newer run ("run-b"); the older run ("run-a") has the first two
// with one series each.
var seedMetrics = []struct {
	name, typ, transform string
	series               int
}{
	{"node_disk_written_bytes_total", "counter", "rate", 3},
	{"node_memory_MemFree_bytes", "gauge", "raw", 1},
	{"node_memory_Active_bytes", "gauge", "raw", 2},
	{"node_network_receive_packets_total", "counter", "rate", 4},
}

// seed writes two runs built from fixtures.Analysis into st.
func seed(t testing.TB, st store.API) seeded {
	t.Helper()
	tpl := fixtures.Analysis()

	out := seeded{byRun: map[string][]*slapipev1.SeriesAnalysis{}}
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for ri, run := range []string{"run-a", "run-b"} {
		start := base.Add(time.Duration(ri) * time.Hour)
		for mi, m := range seedMetrics {
			n := m.series
			if run == "run-a" {
				if mi >= 2 {
					continue
				}
				n = 1
			}
			for i := range n {
				a := proto.Clone(tpl).(*slapipev1.SeriesAnalysis)
				a.RunId, a.Metric, a.MetricType, a.Transform = run, m.name, m.typ, m.transform
				a.SeriesId = fmt.Sprintf("%02d%030x", mi, i)
				a.Labels = map[string]string{"instance": "backfill:9100", "job": "node", "device": fmt.Sprintf("dev%d", i)}
				a.ComputedAt = timestamppb.New(start.Add(time.Duration(30+i) * time.Second))
				a.Windows[0].Mean = float64(100*ri + 10*mi + i)
				a.Acf[1] = float64(mi) / 10
				a.Forecast.PredictedMax = float64(1000 * (mi + 1))
				if i%2 == 1 {
					a.Seasonality = nil
				}
				out.byRun[run] = append(out.byRun[run], a)
			}
		}
		require.NoError(t, st.WriteAnalyses(context.Background(), out.byRun[run]))
		r := &slapipev1.Run{RunId: run, StartedAt: timestamppb.New(start), FinishedAt: timestamppb.New(start.Add(time.Minute)),
			Status: "succeeded", Series: int64(len(out.byRun[run])), PullSeconds: 1.5, AnalyseSeconds: 20.25,
			PublishSeconds: 0.5, TotalSeconds: 22.25, Trigger: "schedule"}
		require.NoError(t, st.UpsertRun(context.Background(), r))
		out.runs = append([]*slapipev1.Run{r}, out.runs...)
		sort.Slice(out.byRun[run], func(i, j int) bool {
			a, b := out.byRun[run][i], out.byRun[run][j]
			if a.GetMetric() != b.GetMetric() {
				return a.GetMetric() < b.GetMetric()
			}
			return a.GetSeriesId() < b.GetSeriesId()
		})
	}
	return out
}

// serve runs a service over st on a loopback port until the test ends and
// returns a connection to it.
func serve(t testing.TB, st Store) *grpc.ClientConn {
	t.Helper()
	return serveWith(t, Config{}, st)
}

// serveWith is serve with cfg (its Listen is replaced by a free port).
func serveWith(t testing.TB, cfg Config, st Store) *grpc.ClientConn {
	t.Helper()
	addrc := make(chan net.Addr, 1)
	cfg.Listen = "127.0.0.1:0"
	srv, err := New(cfg, st, Deps{OnListen: func(a net.Addr) { addrc <- a }})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("Run returned before listening: %v", err)
	}
	conn, err := grpc.NewClient(addr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = conn.Close()
		cancel()
		require.NoError(t, <-done)
	})
	return conn
}

// requireProtoEqual fails with both messages printed when they differ.
func requireProtoEqual(t testing.TB, want, got proto.Message, what string) {
	t.Helper()
	if !proto.Equal(want, got) {
		o := prototext.MarshalOptions{Multiline: true}
		t.Fatalf("%s differs\nwant:\n%s\ngot:\n%s", what, o.Format(want), o.Format(got))
	}
}
