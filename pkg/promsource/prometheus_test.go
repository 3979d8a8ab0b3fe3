package promsource

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/internal/testing/testenv"
)

const backfill = `{instance="backfill:9100"}`

// rawSamples returns the raw samples of the backfilled series matching
// selector, by timestamp in ms, straight from a range-vector query (no
// query_range, no lookback), and the newest timestamp.
func rawSamples(t *testing.T, src *Source, selector string) (map[int64]float64, time.Time) {
	t.Helper()
	val, _, _, err := src.API().Query(context.Background(), selector+"[7d]", time.Now())
	require.NoError(t, err)
	m, ok := val.(model.Matrix)
	require.True(t, ok, "got %T", val)
	require.Len(t, m, 1, "want exactly one backfilled series for %s", selector)
	out := make(map[int64]float64, len(m[0].Values))
	var last model.Time
	for _, p := range m[0].Values {
		out[int64(p.Timestamp)] = float64(p.Value)
		last = max(last, p.Timestamp)
	}
	require.Greater(t, len(out), 8000, "backfill of %s is not 12 h at 5 s", selector)
	return out, last.Time()
}

func TestRealPrometheus(t *testing.T) {
	src, err := New(Config{URL: testenv.PrometheusURL(t)})
	require.NoError(t, err)
	ctx := context.Background()
	const step = 5 * time.Second

	mem, end := rawSamples(t, src, `node_memory_MemFree_bytes`+backfill)
	start := end.Add(-12*time.Hour + step)

	t.Run("plan expands a name-less selector", func(t *testing.T) {
		qs, err := src.Plan(ctx, []string{backfill}, start, end)
		require.NoError(t, err)
		got := map[string]bool{}
		for _, q := range qs {
			got[q.Metric] = q.Rate
		}
		require.Equal(t, map[string]bool{
			"node_memory_MemFree_bytes":          false,
			"node_network_receive_packets_total": true,
			"node_cpu_seconds_total":             true,
		}, got)
	})

	t.Run("gauge grid equals the backfilled samples", func(t *testing.T) {
		ss, err := src.Pull(ctx, `node_memory_MemFree_bytes`+backfill, start, end, step)
		require.NoError(t, err)
		require.Len(t, ss, 1)
		s := ss[0]
		require.Equal(t, TransformRaw, s.Transform)
		require.Equal(t, map[string]string{"instance": "backfill:9100", "job": "node"}, s.Labels)
		require.Len(t, s.Values, 8640)
		require.True(t, s.End().Equal(end), "end %s, want %s", s.End(), end)
		for i, v := range s.Values {
			ts := s.Start.Add(time.Duration(i) * step).UnixMilli()
			want, ok := mem[ts]
			require.True(t, ok, "no raw sample at %d", ts)
			require.Equal(t, want, v, "point %d at %d", i, ts)
		}
	})

	for _, metric := range []string{"node_network_receive_packets_total", "node_cpu_seconds_total"} {
		t.Run(metric+" rate equals diff over step", func(t *testing.T) {
			raw, rawEnd := rawSamples(t, src, metric+backfill)
			require.True(t, rawEnd.Equal(end), "backfilled series end at different times")
			ss, err := src.Pull(ctx, metric+backfill, start, end, step)
			require.NoError(t, err)
			require.Len(t, ss, 1)
			s := ss[0]
			require.Equal(t, TransformRate, s.Transform)
			require.Equal(t, "counter", s.Type)
			require.Len(t, s.Values, 8640)
			for i, v := range s.Values {
				ts := s.Start.Add(time.Duration(i) * step).UnixMilli()
				cur, ok1 := raw[ts]
				prev, ok2 := raw[ts-step.Milliseconds()]
				require.True(t, ok1 && ok2, "no raw samples around %d", ts)
				require.GreaterOrEqual(t, cur, prev, "backfill has a counter reset at %d", ts)
				want := (cur - prev) / step.Seconds()
				require.InDelta(t, want, v, 1e-9*max(1, want), "point %d at %d", i, ts)
			}
		})
	}
}
