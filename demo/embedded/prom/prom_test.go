package prom

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/demo/embedded/history"
)

var testEnd = time.Date(2026, 3, 14, 15, 9, 25, 0, time.UTC)

func start(t *testing.T) (*Server, *history.Generator, []history.Series, promv1.API) {
	t.Helper()
	g, err := history.New(history.Options{End: testEnd})
	require.NoError(t, err)
	hist := g.History()
	s, err := Start(context.Background(), Options{History: hist})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	c, err := api.NewClient(api.Config{Address: s.URL()})
	require.NoError(t, err)
	return s, g, hist, promv1.NewAPI(c)
}

// TestQueryRangeReturnsHistory: a 12 h query_range at the history's own
// step returns every ingested sample unchanged, for every series.
func TestQueryRangeReturnsHistory(t *testing.T) {
	s, g, hist, c := start(t)
	samples, _ := s.Ingested()
	require.Equal(t, len(hist)*8641, samples)
	ctx := context.Background()
	r := promv1.Range{Start: g.End().Add(-12 * time.Hour), End: g.End(), Step: 5 * time.Second}
	for _, h := range hist {
		sel := h.Metric + "{" + matchers(h.Labels) + "}"
		v, warn, _, err := c.QueryRange(ctx, sel, r)
		require.NoError(t, err, sel)
		require.Empty(t, warn)
		m, ok := v.(model.Matrix)
		require.True(t, ok)
		require.Len(t, m, 1, sel)
		require.Len(t, m[0].Values, len(h.Values), sel)
		for i, p := range m[0].Values {
			require.Equal(t, h.Timestamps[i], int64(p.Timestamp), sel)
			require.Equal(t, h.Values[i], float64(p.Value), "%s at %d", sel, i)
		}
	}
}

func matchers(ls map[string]string) string {
	var b strings.Builder
	for k, v := range ls {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + `"` + v + `"`)
	}
	return b.String()
}

func TestMetadataSeriesAndLabels(t *testing.T) {
	_, g, hist, c := start(t)
	ctx := context.Background()

	md, err := c.Metadata(ctx, "", "")
	require.NoError(t, err)
	want := map[string]string{}
	for _, h := range hist {
		want[h.Metric] = h.Type
	}
	require.Len(t, md, len(want))
	for metric, typ := range want {
		require.Len(t, md[metric], 1, metric)
		require.Equal(t, promv1.MetricType(typ), md[metric][0].Type, metric)
		require.NotEmpty(t, md[metric][0].Help, metric)
	}
	one, err := c.Metadata(ctx, "node_disk_written_bytes_total", "")
	require.NoError(t, err)
	require.Equal(t, promv1.MetricTypeCounter, one["node_disk_written_bytes_total"][0].Type)
	require.Len(t, one, 1)

	sets, _, _, err := c.Series(ctx, []string{`node_filesystem_avail_bytes`}, g.End().Add(-time.Hour), g.End())
	require.NoError(t, err)
	mounts := map[string]bool{}
	for _, ls := range sets {
		require.Equal(t, model.LabelValue("demo:9100"), ls["instance"])
		mounts[string(ls["mountpoint"])] = true
	}
	require.Equal(t, map[string]bool{"/": true, "/home": true, "/data": true}, mounts)

	names, _, _, err := c.LabelValues(ctx, "__name__", nil, g.End().Add(-time.Hour), g.End())
	require.NoError(t, err)
	require.Len(t, names, len(want))

	labels, _, _, err := c.LabelNames(ctx, nil, g.End().Add(-time.Hour), g.End())
	require.NoError(t, err)
	require.Subset(t, []model.LabelName(labels), []model.LabelName{"__name__", "instance", "job", "device", "mountpoint", "cpu", "mode"})
}

// TestEveryEndpointAnswers: the stubbed retrievers keep endpoints that a
// bare NewAPI would panic on (targets, rules, alertmanagers, ...) answering
// with a status other than 5xx.
func TestEveryEndpointAnswers(t *testing.T) {
	s, _, _, c := start(t)
	ctx := context.Background()
	tr, err := c.Targets(ctx)
	require.NoError(t, err)
	require.Len(t, tr.Active, 1)
	require.Equal(t, "demo:9100", string(tr.Active[0].Labels["instance"]))
	require.Equal(t, "node", tr.Active[0].ScrapePool)

	tm, err := c.TargetsMetadata(ctx, `{job="node"}`, "node_load1", "")
	require.NoError(t, err)
	require.Len(t, tm, 1)
	require.Equal(t, promv1.MetricTypeGauge, tm[0].Type)

	for _, path := range []string{
		"/api/v1/targets", "/api/v1/targets?state=dropped", "/api/v1/scrape_pools", "/api/v1/rules",
		"/api/v1/alerts", "/api/v1/alertmanagers", "/api/v1/status/config", "/api/v1/status/flags",
		"/api/v1/status/runtimeinfo", "/api/v1/status/buildinfo", "/api/v1/status/tsdb",
		"/api/v1/status/tsdb/blocks", "/api/v1/status/walreplay", "/api/v1/notifications",
		"/api/v1/features", "/api/v1/query_exemplars?query=node_load1", "/api/v1/format_query?query=up",
		"/api/v1/query?query=sum(rate(node_cpu_seconds_total[5m]))", "/-/ready",
	} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get(s.URL() + path)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Less(t, resp.StatusCode, 500, "%s: %s", path, body)
		})
	}
}

// TestAppendLive: live points appended after Start are queryable at once.
func TestAppendLive(t *testing.T) {
	s, g, _, c := start(t)
	ctx := context.Background()
	live := g.Continue(g.End().Add(20 * time.Second))
	require.NoError(t, s.Append(ctx, live))
	v, _, _, err := c.Query(ctx, `node_load1`, g.End().Add(20*time.Second))
	require.NoError(t, err)
	vec := v.(model.Vector)
	require.Len(t, vec, 1)
	var want float64
	for _, h := range live {
		if h.Metric == "node_load1" {
			want = h.Values[len(h.Values)-1]
		}
	}
	require.Equal(t, want, float64(vec[0].Value))
	require.Equal(t, g.End().Add(20*time.Second).UnixMilli(), int64(vec[0].Timestamp))

	// Going back in time is refused with an error, not a panic.
	require.Error(t, s.Append(ctx, []history.Series{{Metric: "node_load1", Labels: live[0].Labels,
		Type: history.Gauge, Help: "x", Timestamps: []int64{g.End().Add(-6 * time.Hour).UnixMilli()}, Values: []float64{1}}}))
}

func TestStartRejectsBadInput(t *testing.T) {
	cases := []struct {
		name string
		opts Options
	}{
		{"unsorted", Options{History: []history.Series{{Metric: "m", Timestamps: []int64{2, 1}, Values: []float64{1, 2}}}}},
		{"length mismatch", Options{History: []history.Series{{Metric: "m", Timestamps: []int64{1}, Values: []float64{1, 2}}}}},
		{"bad listen", Options{Listen: "127.0.0.1:notaport"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Start(context.Background(), c.opts)
			require.Error(t, err)
		})
	}
}

// BenchmarkStart measures ingesting the 12 h demo history and starting the API.
func BenchmarkStart(b *testing.B) {
	g, err := history.New(history.Options{End: testEnd})
	require.NoError(b, err)
	hist := g.History()
	b.ResetTimer()
	for range b.N {
		s, err := Start(context.Background(), Options{History: hist})
		require.NoError(b, err)
		require.NoError(b, s.Close())
	}
}

// TestCloseWithUnusedConnection: a client connection that never sent a
// request (net/http counts it as active for 5 s) must not make Close fail.
func TestCloseWithUnusedConnection(t *testing.T) {
	s, err := Start(context.Background(), Options{})
	require.NoError(t, err)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
}
