package slamanager

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// gate holds a run back until released, so that a second caller surely
// finds it in flight; the run itself is the real ETL's.
type gate struct {
	next    ETLRunner
	release chan struct{}
}

func (g *gate) Run(ctx context.Context, opts etlRunOptions) (*slapipev1.Run, error) {
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.next.Run(ctx, opts)
}

// noSnapshots is a Store that does not keep violation snapshots.
type noSnapshots struct{ Store }

func (noSnapshots) SaveViolations(context.Context, *slapipev1.GetViolationsResponse) error {
	return nil
}

// realETLSingleFlight runs the real ETL (Prometheus at url, in-process
// Kafka) through RunETL for two concurrent callers.
func realETLSingleFlight(t *testing.T, url string, st Store) {
	brokers := testkit.Broker(t, 0)
	e, err := etl.New(etl.Config{PrometheusURL: url, Brokers: brokers, Partitions: 1}, etl.Deps{})
	require.NoError(t, err)
	defer e.Close()
	g := &gate{next: e, release: make(chan struct{})}
	// This manager evaluates on the wall clock as it runs; its snapshots
	// are kept out of the store, whose snapshot the caller's later checks
	// read at their pinned clock.
	m, err := New(Config{Listen: "127.0.0.1:0", PrometheusURL: url}, Deps{Store: noSnapshots{st}, ETL: g})
	require.NoError(t, err)
	client := slapipev1.NewSLAManagerClient(serve(t, m))
	ctx := context.Background()
	req := &slapipev1.RunETLRequest{Selectors: []string{`{job="slapipe-test"}`}}

	a, err := client.RunETL(ctx, req)
	require.NoError(t, err)
	b, err := client.RunETL(ctx, req)
	require.NoError(t, err)
	// The flight exists from the first join; release the run only once the
	// other caller has attached to it.
	require.Eventually(t, func() bool { return testutil.ToFloat64(m.met.etlAttached) == 1 }, 10*time.Second, 10*time.Millisecond)
	close(g.release)

	var ids []string
	attached := 0
	for i, s := range []grpc.ServerStreamingClient[slapipev1.ETLProgress]{a, b} {
		msgs := drain(t, s)
		require.GreaterOrEqual(t, len(msgs), 2, "caller %d: progress then summary", i)
		stages := map[string]bool{}
		dones := 0
		for _, p := range msgs {
			stages[p.Stage] = true
			if p.Stage == "done" {
				dones++
			}
			require.Equal(t, msgs[0].Attached, p.Attached, "caller %d: one attachment state per stream", i)
		}
		if msgs[0].Attached {
			attached++
		}
		require.True(t, stages["pull"] || stages["analyse"] || stages["publish"], "caller %d saw progress: %v", i, stages)
		last := msgs[len(msgs)-1]
		require.Equal(t, "done", last.Stage)
		require.Equal(t, 1, dones, "caller %d: one done message, the last", i)
		require.Equal(t, "succeeded", last.Run.Status, last.Run.Error)
		require.Equal(t, int64(4), last.Run.Series, "the four test series")
		require.Equal(t, []int64{4, 4}, []int64{last.Done, last.Total}, "caller %d: the ETL's final counts", i)
		ids = append(ids, last.Run.RunId)
	}
	require.Equal(t, 1, attached, "exactly one caller attached")
	require.Equal(t, ids[0], ids[1], "one run for both callers")
	require.Equal(t, 1.0, testutil.ToFloat64(m.met.etlRuns.WithLabelValues("manual", "succeeded")))
}
