package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
	"github.com/slapipe/slapipe/store"
)

// template is testdata/analysis.json, a message of realistic size: 3
// windows, ADF, 41 ACF lags, a 120-value season, a 120-point forecast with
// 120 values of history (about 7 KiB encoded).
func template(t testing.TB) *slapipev1.SeriesAnalysis {
	t.Helper()
	b, err := os.ReadFile("testdata/analysis.json")
	require.NoError(t, err)
	m := new(slapipev1.SeriesAnalysis)
	require.NoError(t, protojson.Unmarshal(b, m))
	return m
}

// synthMetrics spreads synthetic series over a few metric names, as a node
// exporter would.
var synthMetrics = []string{
	"node_disk_written_bytes_total", "node_disk_read_bytes_total", "node_network_receive_bytes_total",
	"node_network_transmit_bytes_total", "node_cpu_seconds_total", "node_memory_MemFree_bytes",
	"node_filesystem_avail_bytes", "node_load1", "node_context_switches_total", "node_procs_running",
}

// genAnalyses returns n distinct analyses of run (series ids unique, values
// differing per series), built from the template.
func genAnalyses(t testing.TB, run string, n int) []*slapipev1.SeriesAnalysis {
	t.Helper()
	tpl := template(t)
	out := make([]*slapipev1.SeriesAnalysis, n)
	for i := range out {
		m := proto.Clone(tpl).(*slapipev1.SeriesAnalysis)
		m.RunId = run
		m.SeriesId = fmt.Sprintf("%032x", i+1)
		m.Metric = synthMetrics[i%len(synthMetrics)]
		m.Labels["device"] = fmt.Sprintf("dev%d", i)
		m.Windows[0].Mean += float64(i)
		m.Forecast.Points[0].Mean += float64(i)
		out[i] = m
	}
	return out
}

// analysisMessages encodes as, keyed by series id as the ETL does.
func analysisMessages(t testing.TB, as []*slapipev1.SeriesAnalysis) []kafka.Message {
	t.Helper()
	out := make([]kafka.Message, len(as))
	for i, a := range as {
		b, err := proto.Marshal(a)
		require.NoError(t, err)
		out[i] = kafka.Message{Key: []byte(a.GetSeriesId()), Value: b}
	}
	return out
}

// runRecord is a succeeded run summary of run with n series.
func runRecord(run string, n int) *slapipev1.Run {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	return &slapipev1.Run{RunId: run, StartedAt: timestamppb.New(at), FinishedAt: timestamppb.New(at.Add(20 * time.Second)),
		Status: "succeeded", Series: int64(n), PullSeconds: 5, AnalyseSeconds: 12, PublishSeconds: 3, TotalSeconds: 20, Trigger: "schedule"}
}

func runMessage(t testing.TB, r *slapipev1.Run) kafka.Message {
	t.Helper()
	b, err := proto.Marshal(r)
	require.NoError(t, err)
	return kafka.Message{Key: []byte(r.GetRunId()), Value: b}
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
