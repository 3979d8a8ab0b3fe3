package ctl

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnitFormat(t *testing.T) {
	cases := []struct {
		metric, transform string
		v                 float64
		want              string
	}{
		{"node_memory_MemFree_bytes", "raw", 268435456, "256 MiB"},
		{"node_memory_MemFree_bytes", "raw", 1073741824, "1 GiB"},
		{"node_memory_MemFree_bytes", "raw", 1.5 * 1073741824, "1.5 GiB"},
		{"node_memory_MemFree_bytes", "raw", 1023 * 1024, "1023 KiB"},
		{"node_memory_MemFree_bytes", "raw", 512, "512 B"},
		{"node_memory_MemFree_bytes", "raw", 0, "0 B"},
		{"node_memory_MemFree_bytes", "raw", -2048, "-2 KiB"},
		{"node_disk_written_bytes_total", "rate", 100e6, "95.4 MiB/s"},
		{"node_disk_written_bytes_total", "", 100e6, "95.4 MiB/s"},
		{"node_network_receive_packets_total", "rate", 50000, "50k/s"},
		{"node_load1", "raw", 0.25, "0.25"},
		{"node_load1", "raw", math.NaN(), "-"},
		{"node_load1", "raw", math.Inf(1), "-"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, unitOf(tc.metric, tc.transform).format(tc.v), "%s %v", tc.metric, tc.v)
	}
	require.Equal(t, "256 MiB", selectorUnit(`node_memory_MemFree_bytes{instance="x"}`).format(268435456))
}

func TestCommonLabels(t *testing.T) {
	a := map[string]string{"instance": "h:9100", "job": "node", "device": "sda"}
	b := map[string]string{"instance": "h:9100", "job": "node", "device": "sdb"}
	c := map[string]string{"instance": "h:9100", "job": "other"}
	require.Equal(t, map[string]string{"instance": "h:9100", "job": "node"}, commonLabels([]map[string]string{a, b}))
	require.Equal(t, map[string]string{"instance": "h:9100"}, commonLabels([]map[string]string{a, b, c}))
	require.Empty(t, commonLabels([]map[string]string{a}), "one series keeps its labels")
	require.Equal(t, map[string]string{"device": "sda"}, without(a, commonLabels([]map[string]string{a, b})))
	require.Equal(t, "-", cellLabels(without(c, c)))
}
