package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestDefaultRunIsComplete checks what retrieval serves when a call names no
// run while a newer run is only partly stored: store.Query documents "" as
// "the latest complete run", so the default view must stay on the last
// complete run rather than show part of a run being stored, or of one that
// failed.
func TestDefaultRunIsComplete(t *testing.T) {
	st := testkit.OpenStore(t, testenv.NewMySQLDatabase(t, testenv.MySQLDSN(t), "e2e"))
	ctx, cancel := context.WithCancel(context.Background())
	g, gctx := errgroup.WithContext(ctx)
	t.Cleanup(func() {
		cancel()
		if err := g.Wait(); err != nil {
			t.Errorf("retrieval: %v", err)
		}
	})
	client := startRetrieval(t, gctx, g, st)

	const n = 20 // series per run, 2 per metric
	done := fixtures.Analyses("0193a5b0-0000-7000-8000-00000000000a", n)
	require.NoError(t, st.WriteAnalyses(ctx, done))
	require.NoError(t, st.UpsertRun(ctx, runRecord(done[0].GetRunId(), n)))

	// The next run, an hour later, of which 7 analyses are stored so far.
	next := fixtures.Analyses("0193a5b0-0000-7000-8000-00000000000b", n)
	for _, m := range next {
		m.ComputedAt.Seconds += 3600
	}
	require.NoError(t, st.WriteAnalyses(ctx, next[:7]))
	nextRun := runRecord(next[0].GetRunId(), n)
	nextRun.StartedAt.Seconds += 3600
	nextRun.FinishedAt.Seconds += 3600

	// The cases run in order, each storing the next summary over the last.
	cases := []struct {
		name    string
		summary func() *slapipev1.Run // stored before the call; nil: none yet
	}{
		{"summary not arrived yet", nil},
		{"summary says succeeded, analyses still arriving", func() *slapipev1.Run { return nextRun }},
		{"summary says failed", func() *slapipev1.Run {
			r := proto.Clone(nextRun).(*slapipev1.Run)
			r.Status, r.Error = "failed", "publish: broker unreachable"
			return r
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.summary != nil {
				require.NoError(t, st.UpsertRun(ctx, c.summary()))
			}
			cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
			defer ccancel()
			res, err := client.GetStats(cctx, &slapipev1.SeriesQuery{Metric: fixtures.Metrics[0]})
			require.NoError(t, err)
			assert.Equal(t, done[0].GetRunId(), res.GetRunId(), "default run")
			assert.Equal(t, 2, len(res.GetSeries()), "series of %s in the default run", fixtures.Metrics[0])
		})
	}
}
