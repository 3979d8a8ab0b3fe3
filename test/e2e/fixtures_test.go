package e2e

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// analysisMessages encodes as, keyed by series id as the ETL does.
func analysisMessages(t testing.TB, as []*slapipev1.SeriesAnalysis) []kafka.Message {
	t.Helper()
	msgs, err := fixtures.Messages(as)
	require.NoError(t, err)
	return msgs
}

// runRecord is a succeeded run summary of run with n series.
func runRecord(run string, n int) *slapipev1.Run {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	return &slapipev1.Run{RunId: run, StartedAt: timestamppb.New(at), FinishedAt: timestamppb.New(at.Add(20 * time.Second)),
		Status: "succeeded", Series: int64(n), PullSeconds: 5, AnalyseSeconds: 12, PublishSeconds: 3, TotalSeconds: 20, Trigger: "schedule"}
}

func runMessage(t testing.TB, r *slapipev1.Run) kafka.Message {
	t.Helper()
	m, err := fixtures.RunMessage(r)
	require.NoError(t, err)
	return m
}

// perAnalysis is how many rows one template analysis owns in each table
// (forecast_points is the view of the forecasts' points).
var perAnalysis = map[string]int{
	"analyses": 1, "window_stats": 3, "stationarity": 1, "autocorrelation": 1,
	"seasonality": 1, "forecasts": 1, "forecast_points": horizon,
}

// checkStoredExactly asserts that the database holds exactly the analyses
// want (all of one run) and nothing else: the row count of every table is
// what n analyses make, and each analysis rebuilt from the tables equals
// the one published.
func checkStoredExactly(t testing.TB, db *sql.DB, st store.API, want []*slapipev1.SeriesAnalysis) {
	t.Helper()
	n := len(want)
	for table, k := range perAnalysis {
		assert.Equal(t, k*n, mustCount(t, db, table), "rows of %s for %d analyses", table, n)
	}
	assert.Equal(t, n, mustCount(t, db, "series"), "rows of series")
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	_, got, err := st.Analyses(ctx, store.Query{RunID: want[0].GetRunId()})
	require.NoError(t, err)
	require.Len(t, got, n)
	byID := make(map[string]*slapipev1.SeriesAnalysis, n)
	for _, m := range got {
		byID[m.GetSeriesId()] = m
	}
	bad := 0
	for _, w := range want {
		if g := byID[w.GetSeriesId()]; !proto.Equal(w, g) {
			if bad++; bad <= 3 {
				t.Errorf("series %s: stored analysis differs from the published one", w.GetSeriesId())
			}
		}
	}
	assert.Zero(t, bad, "analyses differing from what was published")
}
