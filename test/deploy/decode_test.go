package deploy

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/pkg/store"
)

// panelSQL returns the rawSql of query refID of the panel titled title.
func panelSQL(t testing.TB, d *dashboard, title, refID string) string {
	t.Helper()
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			if p.Title == title && tg.RefID == refID {
				return tg.RawSQL
			}
		}
	}
	t.Fatalf("dashboard %s has no panel %q with query %s", d.Title, title, refID)
	return ""
}

// binaryRows runs query through the binary protocol (a placeholder forces a
// prepared statement), so doubles arrive as the exact float64 the server
// computed rather than as text.
func binaryRows(t testing.TB, q string) [][]any {
	t.Helper()
	p := runPipeline(t)
	r, err := runQuery(context.Background(), p.db, "SELECT * FROM ("+q+") AS decoded WHERE ? ORDER BY 1", true)
	require.NoError(t, err, q)
	return r.rows
}

// requireSameDoubles compares what SQL decoded (NULL for NaN and the
// infinities) with what the store decoded in Go, bit for bit.
func requireSameDoubles(t *testing.T, want []float64, rows [][]any, col int, what string) {
	t.Helper()
	require.Len(t, rows, len(want), what)
	for i, w := range want {
		got := rows[i][col]
		if math.IsNaN(w) || math.IsInf(w, 0) {
			require.Nil(t, got, "%s[%d]: %v decodes to NULL", what, i, w)
			continue
		}
		require.IsType(t, float64(0), got, "%s[%d]", what, i)
		require.Equal(t, math.Float64bits(w), math.Float64bits(got.(float64)), "%s[%d]: want %v, got %v", what, i, w, got)
	}
}

// TestDashboardBlobDecodingIsExact checks the SQL that decodes the store's
// float64 blobs (seasonal indices, forecast history) against the store's Go
// decoder, for every stored season and forecast of the run.
func TestDashboardBlobDecodingIsExact(t *testing.T) {
	p := runPipeline(t)
	ctx := context.Background()
	d := loadDashboards(t)["series-detail.json"]
	seasonal := panelSQL(t, d, "Seasonal profile", "A")
	history := panelSQL(t, d, "Forecast (mean and 95 % interval)", "A")
	_, msgs, err := p.st.Analyses(ctx, store.Query{RunID: p.run.GetRunId()})
	require.NoError(t, err)
	require.Len(t, msgs, int(p.run.GetSeries()))
	seasons, forecasts := 0, 0
	for _, m := range msgs {
		q := grafanaQuery{vars: map[string]string{"run": p.run.GetRunId(), "series": m.GetSeriesId()}}
		if se := m.GetSeasonality(); se != nil && len(se.GetSeasonal()) > 0 {
			seasons++
			sql, err := q.expand(seasonal)
			require.NoError(t, err)
			rows := binaryRows(t, sql)
			requireSameDoubles(t, se.GetSeasonal(), rows, 1, m.GetMetric()+" seasonal")
			for i, r := range rows {
				require.Equal(t, float64(i)*m.GetStepSeconds(), r[0], "offset of index %d", i)
			}
		}
		if h := m.GetForecast().GetHistory(); len(h) > 0 {
			forecasts++
			sql, err := q.expand(history)
			require.NoError(t, err)
			rows := binaryRows(t, sql)
			requireSameDoubles(t, h, rows, 1, m.GetMetric()+" history")
			step := time.Duration(m.GetStepSeconds() * float64(time.Second))
			end := m.GetRangeEnd().AsTime()
			for i, r := range rows {
				require.Equal(t, end.Add(-time.Duration(len(h)-1-i)*step), r[0].(time.Time).UTC(), "time of history sample %d", i)
			}
		}
	}
	t.Logf("%d seasons and %d forecast histories decoded exactly in SQL", seasons, forecasts)
	require.Positive(t, seasons, "the run has a season to decode")
	require.Positive(t, forecasts)
}
