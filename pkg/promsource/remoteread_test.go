package promsource

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/internal/testing/testenv"
)

// TestRemoteReadEqualsQueryRange pulls the real Prometheus' node series
// (live and backfilled) three ways: query_range per metric (Fetch, what a
// local run does), remote read and query_range per series (FetchSeries),
// and requires the same series with the same values.
func TestRemoteReadEqualsQueryRange(t *testing.T) {
	url := testenv.PrometheusURL(t)
	ctx := context.Background()
	const step = 5 * time.Second
	end := time.Now().Add(-time.Minute) // every sample up to it is in
	start := end.Add(-2 * time.Hour)

	byMetric, err := New(Config{URL: url})
	require.NoError(t, err)
	queries, err := byMetric.Plan(ctx, []string{`{job="node"}`}, start, end)
	require.NoError(t, err)
	want := map[string]Series{}
	for _, q := range queries {
		ss, err := byMetric.Fetch(ctx, q, start, end, step)
		require.NoError(t, err)
		for _, s := range ss {
			want[s.ID] = s
		}
	}
	refs, err := byMetric.List(ctx, queries, start, end, step, 100_000)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(refs), len(want))
	require.Greater(t, len(want), 100, "too few node series on the test Prometheus")

	for _, read := range []string{ReadRemote, ReadQueryRange} {
		t.Run(read, func(t *testing.T) {
			src, err := New(Config{URL: url, Read: read})
			require.NoError(t, err)
			got, err := src.FetchSeries(ctx, refs, start, end, step, 4)
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for _, g := range got {
				w, ok := want[g.ID]
				require.True(t, ok, "series %s %v not pulled by query_range", g.Metric, g.Labels)
				require.Equal(t, w.Metric, g.Metric)
				require.Equal(t, w.Labels, g.Labels)
				require.Equal(t, w.Transform, g.Transform)
				require.Equal(t, w.Type, g.Type)
				require.True(t, w.Start.Equal(g.Start))
				require.Len(t, g.Values, len(w.Values))
				for i := range w.Values {
					if math.IsNaN(w.Values[i]) {
						require.True(t, math.IsNaN(g.Values[i]), "%s point %d: %v, want NaN", g.ID, i, g.Values[i])
						continue
					}
					require.Equal(t, w.Values[i], g.Values[i], "%s %v point %d", g.Metric, g.Labels, i)
				}
			}
		})
	}
}

// TestRemoteReadFallsBack: a server without remote read (404, as Thanos
// Query answers) is read through query_range from then on.
func TestRemoteReadFallsBack(t *testing.T) {
	var reads, ranges int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/read":
			reads++
			http.NotFound(w, r)
		case "/api/v1/query_range":
			ranges++
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a"},"values":[[10,"1"],[15,"2"]]}]}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	src, err := New(Config{URL: srv.URL})
	require.NoError(t, err)
	refs := []SeriesRef{{ID: SeriesID("up", map[string]string{"job": "a"}), Metric: "up", Labels: map[string]string{"job": "a"}, Type: "gauge"}}
	for range 2 {
		got, err := src.FetchSeries(context.Background(), refs, time.Unix(10, 0), time.Unix(15, 0), 5*time.Second, 1)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, []float64{1, 2}, got[0].Values)
	}
	require.Equal(t, 1, reads, "remote read asked again after a 404")
	require.Equal(t, 2, ranges)

	strict, err := New(Config{URL: srv.URL, Read: ReadRemote})
	require.NoError(t, err)
	_, err = strict.FetchSeries(context.Background(), refs, time.Unix(10, 0), time.Unix(15, 0), 5*time.Second, 1)
	require.ErrorIs(t, err, errNoRemoteRead)
}
