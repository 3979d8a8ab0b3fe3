package slamanager

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestRunETLLimits asks the real ETL, on the shared Prometheus's backfilled
// history (3 series of instance backfill:9100), for too much through
// RunETL: 5000 selectors and a selector matching every series are refused
// with InvalidArgument before Prometheus is asked; more series than
// --max-series allows is refused with InvalidArgument naming the flag, and
// nothing is published; a selector matching nothing ends "empty".
func TestRunETLLimits(t *testing.T) {
	url := testenv.PrometheusURL(t)
	brokers := testkit.Broker(t, 0)
	e, err := etl.New(etl.Config{PrometheusURL: url, Brokers: brokers, Partitions: 1, MaxSeries: 2}, etl.Deps{})
	require.NoError(t, err)
	defer e.Close()
	st := testkit.OpenStore(t, "sqlite:"+filepath.Join(t.TempDir(), "slapipe.db"))
	m, err := New(Config{Listen: "127.0.0.1:0", PrometheusURL: url}, Deps{Store: st, ETL: e})
	require.NoError(t, err)
	client := slapipev1.NewSLAManagerClient(serve(t, m))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf(`node_load1{instance="host-%d"}`, i)
	}
	cases := []struct {
		name      string
		selectors []string
		wantCode  codes.Code
		wantErr   string
	}{
		{"5000 selectors", many, codes.InvalidArgument, "5000 selectors, at most 200 per run (--max-selectors)"},
		{"every series", []string{`{__name__=~".+"}`}, codes.InvalidArgument, "matches every series"},
		{"more series than allowed", []string{`{instance="backfill:9100"}`}, codes.InvalidArgument, "at most 2 per run (--max-series)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := drain2(client.RunETL(ctx, &slapipev1.RunETLRequest{Selectors: c.selectors}))
			require.Equal(t, c.wantCode, codeOf(err), "%v", err)
			require.ErrorContains(t, err, c.wantErr)
			t.Logf("refused in %s", time.Since(start))
		})
	}

	t.Run("matching nothing", func(t *testing.T) {
		s, err := client.RunETL(ctx, &slapipev1.RunETLRequest{Selectors: []string{"slapipe_no_such_metric_anywhere"}})
		require.NoError(t, err)
		msgs := drain(t, s)
		last := msgs[len(msgs)-1]
		require.Equal(t, "done", last.Stage)
		require.Equal(t, etl.StatusEmpty, last.Run.GetStatus())
		require.Zero(t, last.Run.GetSeries())
	})
}
