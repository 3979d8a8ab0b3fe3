package slamanager

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

func TestSharedPrometheusDefaultSet(t *testing.T) {
	url := testenv.PrometheusURL(t)
	ctx := context.Background()
	src, err := promsource.New(promsource.Config{URL: url})
	require.NoError(t, err)
	st := &memStore{}
	m, err := New(Config{PrometheusURL: url}, Deps{Store: st, Source: src})
	require.NoError(t, err)

	metrics, err := m.ListMetrics(ctx, &slapipev1.ListPromMetricsRequest{})
	require.NoError(t, err)
	byName := map[string]*slapipev1.PromMetric{}
	for _, pm := range metrics.Metrics {
		require.Regexp(t, `^node_`, pm.Name, "default filter node_.*")
		byName[pm.Name] = pm
	}
	mem := byName["node_memory_MemFree_bytes"]
	require.NotNil(t, mem)
	require.Equal(t, "gauge", mem.Type, "type from the metadata API")
	require.NotEmpty(t, mem.Help)
	require.GreaterOrEqual(t, mem.Series, int64(1))
	require.Equal(t, "counter", byName["node_network_receive_packets_total"].GetType())

	_, err = m.ListMetrics(ctx, &slapipev1.ListPromMetricsRequest{NameFilter: "node_(("})
	require.Equal(t, "InvalidArgument", codeOf(err).String())
	require.Contains(t, err.Error(), "name_filter: invalid RE2 expression")

	start := time.Now()
	resp, err := m.GetViolations(ctx, &slapipev1.GetViolationsRequest{})
	t.Logf("default set violations over 12 h computed in %s", time.Since(start))
	require.NoError(t, err)
	require.False(t, resp.Stale)
	rows := 0
	for _, r := range resp.Windows[0].Rows {
		require.GreaterOrEqual(t, r.Compliance, 0.0)
		require.LessOrEqual(t, r.Compliance, 1.0)
		require.LessOrEqual(t, r.Samples, int64(720))
		if r.Objective == "memory-free" && r.Samples > 0 {
			rows++
		}
	}
	require.Positive(t, rows, "memory-free has series with samples in the last hour")
	require.Equal(t, 1, st.saves, "snapshot saved")
}
