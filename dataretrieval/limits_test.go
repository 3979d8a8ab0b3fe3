package dataretrieval

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/server"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestSeriesQueriesArePaged stores 25 series of one metric and reads them
// through the three series calls 10 at a time: 3 pages, together every
// series once in series id order, all from the first page's run; a token
// of another metric, a forged token and a 2 KB token are refused.
func TestSeriesQueriesArePaged(t *testing.T) {
	for _, d := range testkit.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st := testkit.Store(t, d)
			want := fixtures.Analyses("run-p", 25)
			metric := want[0].GetMetric()
			for _, m := range want {
				m.Metric = metric
			}
			require.NoError(t, st.WriteAnalyses(ctx, want))
			client := slapipev1.NewDataRetrievalClient(serve(t, st))

			var got []*slapipev1.SeriesRef
			var pages int
			q := &slapipev1.SeriesQuery{Metric: metric, PageSize: 10}
			for {
				stats, err := client.GetStats(ctx, q)
				require.NoError(t, err)
				meta, err := client.GetMetadata(ctx, q)
				require.NoError(t, err)
				fc, err := client.GetForecast(ctx, q)
				require.NoError(t, err)
				pages++
				require.Equal(t, "run-p", stats.GetRunId())
				require.Equal(t, stats.GetNextPageToken(), meta.GetNextPageToken())
				require.Equal(t, stats.GetNextPageToken(), fc.GetNextPageToken())
				require.Len(t, meta.GetSeries(), len(stats.GetSeries()))
				require.Len(t, fc.GetSeries(), len(stats.GetSeries()))
				for i, s := range stats.GetSeries() {
					got = append(got, s.GetSeries())
					require.Equal(t, s.GetSeries().GetSeriesId(), fc.GetSeries()[i].GetSeries().GetSeriesId())
				}
				if stats.GetNextPageToken() == "" {
					break
				}
				q.PageToken = stats.GetNextPageToken()
			}
			require.Equal(t, 3, pages)
			require.Len(t, got, len(want))
			for i, m := range want { // fixtures.Analyses ids ascend
				require.True(t, proto.Equal(wantRef(m), got[i]), "series %d", i)
			}

			first, err := client.GetStats(ctx, &slapipev1.SeriesQuery{Metric: metric, PageSize: 10})
			require.NoError(t, err)
			for name, q := range map[string]*slapipev1.SeriesQuery{
				"token of another metric": {Metric: "other_metric", PageToken: first.GetNextPageToken()},
				"forged token":            {Metric: metric, PageToken: "bm90IGEgdG9rZW4"},
				"2 KB token":              {Metric: metric, PageToken: strings.Repeat("A", 2048)},
				"page too large":          {Metric: metric, PageSize: slapipev1.MaxQueryPageSize + 1},
			} {
				_, err := client.GetStats(ctx, q)
				require.Equal(t, codes.InvalidArgument, status.Code(err), "%s: %v", name, err)
				require.Less(t, len(err.Error()), 300, "%s: the token is not echoed back", name)
			}
		})
	}
}

// slowStore blocks every AnalysesPage until release is closed or its
// context ends, noting when a call has started.
type slowStore struct {
	Store
	started chan struct{}
	release chan struct{}
}

func (s slowStore) AnalysesPage(ctx context.Context, q store.Query, p store.Page) (string, []*slapipev1.SeriesAnalysis, string, error) {
	s.started <- struct{}{}
	select {
	case <-s.release:
		return s.Store.AnalysesPage(ctx, q, p)
	case <-ctx.Done():
		return "", nil, "", ctx.Err()
	}
}

// TestCallLimits checks the three bounds of a call: a deadline of the
// server's own, at most MaxConcurrent reads at once (the next is refused
// with ResourceExhausted and a retry hint), and the size of an answer.
func TestCallLimits(t *testing.T) {
	ctx := context.Background()
	st := testkit.Store(t, store.DialectSQLite)
	as := fixtures.Analyses("run-l", 3)
	for _, m := range as {
		m.Metric = as[0].GetMetric()
	}
	require.NoError(t, st.WriteAnalyses(ctx, as))
	q := &slapipev1.SeriesQuery{Metric: as[0].GetMetric()}

	t.Run("deadline", func(t *testing.T) {
		slow := slowStore{Store: st, started: make(chan struct{}, 1), release: make(chan struct{})}
		client := slapipev1.NewDataRetrievalClient(serveWith(t, Config{CallTimeout: 50 * time.Millisecond}, slow))
		_, err := client.GetStats(ctx, q) // the client sets no deadline
		require.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
	})
	t.Run("concurrent reads", func(t *testing.T) {
		slow := slowStore{Store: st, started: make(chan struct{}, 2), release: make(chan struct{})}
		client := slapipev1.NewDataRetrievalClient(serveWith(t, Config{MaxConcurrent: 1}, slow))
		first := make(chan error, 1)
		go func() {
			_, err := client.GetForecast(ctx, q)
			first <- err
		}()
		<-slow.started
		_, err := client.GetStats(ctx, q)
		require.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
		require.Contains(t, err.Error(), "retry in 1s")
		require.Equal(t, time.Second, server.RetryDelay(err))
		// A cheap call is not counted.
		_, err = client.ListRuns(ctx, &slapipev1.ListRunsRequest{})
		require.NoError(t, err)
		close(slow.release)
		require.NoError(t, <-first)
		resp, err := client.GetStats(ctx, q)
		require.NoError(t, err, "the slot is free again")
		require.Len(t, resp.GetSeries(), 3)
	})
	t.Run("answer size", func(t *testing.T) {
		client := slapipev1.NewDataRetrievalClient(serveWith(t, Config{MaxSendBytes: 4096}, st))
		_, err := client.GetForecast(ctx, q) // 3 forecasts of about 7 KB
		require.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
		resp, err := client.GetStats(ctx, q)
		require.NoError(t, err, "a small answer passes")
		require.Less(t, proto.Size(resp), 4096, fmt.Sprint(proto.Size(resp)))
	})
}
