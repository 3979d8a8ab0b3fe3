package promsource

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var nan = math.NaN()

// requireFloats compares element-wise, NaN equal to NaN.
func requireFloats(t *testing.T, want, got []float64) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		if math.IsNaN(want[i]) {
			require.True(t, math.IsNaN(got[i]), "index %d: want NaN, got %v (all: %v)", i, got[i], got)
			continue
		}
		require.InDelta(t, want[i], got[i], 1e-12, "index %d (all: %v)", i, got)
	}
}

func TestRate(t *testing.T) {
	cases := []struct {
		name string
		in   []float64
		step time.Duration
		want []float64
	}{
		{"steady", []float64{0, 10, 20, 35}, 5 * time.Second, []float64{nan, 2, 2, 3}},
		{"flat at the end: next scrape not seen yet", []float64{7, 7, 7}, 5 * time.Second, []float64{nan, nan, nan}},
		{"scraped every 15 s at a 5 s step", []float64{0, 0, 0, 15, 15, 15, 30}, 5 * time.Second, []float64{nan, 1, 1, 1, 1, 1, 1}},
		{"last grid point before its scrape", []float64{0, 5, 10, 10}, 5 * time.Second, []float64{nan, 1, 1, nan}},
		{"idle longer than MaxHold is zero", []float64{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 8}, time.Second,
			[]float64{nan, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}},
		{"idle longer than MaxHold at the end is zero", []float64{1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, time.Second,
			[]float64{nan, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"hold before a gap", []float64{0, 5, 5, nan, 10, 15}, 5 * time.Second, []float64{nan, 1, nan, nan, nan, 1}},
		{"reset after a hold", []float64{100, 100, 6}, 3 * time.Second, []float64{nan, 1, 1}},
		{"reset counts from zero", []float64{100, 110, 4, 9}, 5 * time.Second, []float64{nan, 2, 0.8, 1}},
		{"reset to zero", []float64{50, 0, 5}, 5 * time.Second, []float64{nan, 0, 1}},
		{"gap", []float64{0, 10, nan, 30, 40}, 5 * time.Second, []float64{nan, 2, nan, nan, 2}},
		{"leading gap", []float64{nan, nan, 3, 6}, time.Second, []float64{nan, nan, nan, 3}},
		{"all gaps", []float64{nan, nan}, time.Second, []float64{nan, nan}},
		{"empty", []float64{}, time.Second, []float64{}},
		{"one sample", []float64{5}, time.Second, []float64{nan}},
		{"sub-second step", []float64{0, 1}, 500 * time.Millisecond, []float64{nan, 2}},
		{"large counter keeps precision", []float64{1e12, 1e12 + 5}, 5 * time.Second, []float64{nan, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			requireFloats(t, c.want, Rate(c.in, c.step))
		})
	}
}

func TestClassify(t *testing.T) {
	meta := map[string]string{
		"node_load1":                     "gauge",
		"node_cpu_seconds_total":         "counter",
		"http_requests":                  "counter", // OpenMetrics family name
		"rpc_duration_seconds":           "summary",
		"request_size_bytes":             "histogram",
		"queue_depth":                    "gaugehistogram",
		"odd_total":                      "gauge", // own metadata wins over the suffix
		"node_memory_MemAvailable_bytes": "gauge",
	}
	cases := []struct {
		metric   string
		wantType string
		wantRate bool
	}{
		{"node_load1", "gauge", false},
		{"node_cpu_seconds_total", "counter", true},
		{"http_requests_total", "counter", true},
		{"rpc_duration_seconds", "summary", false},
		{"rpc_duration_seconds_count", "counter", true},
		{"rpc_duration_seconds_sum", "counter", true},
		{"request_size_bytes_bucket", "counter", true},
		{"queue_depth_bucket", "gaugehistogram", false},
		{"odd_total", "gauge", false},
		{"unknown_thing_total", "counter", true},
		{"unknown_thing_count", "counter", true},
		{"unknown_gauge_bytes", "unknown", false},
		{"node_memory_MemAvailable_bytes", "gauge", false},
	}
	for _, c := range cases {
		t.Run(c.metric, func(t *testing.T) {
			typ, rate := Classify(c.metric, meta)
			require.Equal(t, c.wantType, typ)
			require.Equal(t, c.wantRate, rate)
		})
	}
	t.Run("no metadata", func(t *testing.T) {
		typ, rate := Classify("node_network_receive_packets_total", nil)
		require.Equal(t, "counter", typ)
		require.True(t, rate)
		typ, rate = Classify("node_memory_MemFree_bytes", nil)
		require.Equal(t, "unknown", typ)
		require.False(t, rate)
	})
}

func TestSeriesID(t *testing.T) {
	a := SeriesID("node_cpu_seconds_total", map[string]string{"cpu": "0", "mode": "idle", "instance": "x"})
	require.Len(t, a, 32)
	require.Regexp(t, `^[0-9a-f]{32}$`, a)

	// Map order cannot matter: build the same set many times in different
	// insertion orders.
	keys := []string{"cpu", "mode", "instance"}
	vals := map[string]string{"cpu": "0", "mode": "idle", "instance": "x"}
	for rot := range keys {
		m := map[string]string{}
		for i := range keys {
			k := keys[(i+rot)%len(keys)]
			m[k] = vals[k]
		}
		require.Equal(t, a, SeriesID("node_cpu_seconds_total", m))
	}
	require.Equal(t, a, SeriesID("node_cpu_seconds_total", map[string]string{
		"cpu": "0", "mode": "idle", "instance": "x", "__name__": "ignored"}))

	// Known value (Python: hashlib.sha256(b"m\xffa\xfeb").hexdigest()[:32]),
	// so the id stays stable across releases.
	require.Equal(t, "710d8029ef850df0826efe306056a25d", SeriesID("m", map[string]string{"a": "b"}))

	distinct := []struct {
		metric string
		labels map[string]string
	}{
		{"node_cpu_seconds_total", map[string]string{"cpu": "0", "mode": "idle", "instance": "x"}},
		{"node_cpu_seconds_total", map[string]string{"cpu": "1", "mode": "idle", "instance": "x"}},
		{"node_cpu_seconds_total", map[string]string{"cpu": "0", "mode": "idle"}},
		{"node_cpu_seconds_totalcpu", map[string]string{"mode": "idle", "instance": "x"}},
		{"m", map[string]string{"a": "bc"}},
		{"m", map[string]string{"ab": "c"}},
		{"m", map[string]string{"a": "b", "c": ""}},
		{"m", map[string]string{}},
	}
	seen := map[string]int{}
	for i, d := range distinct {
		id := SeriesID(d.metric, d.labels)
		if j, ok := seen[id]; ok {
			t.Fatalf("series %d and %d share id %s", j, i, id)
		}
		seen[id] = i
	}
}
