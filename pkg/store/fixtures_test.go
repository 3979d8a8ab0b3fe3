package store

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// msgShape sizes the generated messages.
type msgShape struct {
	acfLags, points, history int
	// seasons cycles through the season lengths given to successive series
	// (0 = no season).
	seasons []int
}

// realistic is the shape the brief sets for throughput: 3 windows, ~40 ACF
// lags, 120 forecast points, seasons of up to 720 indices.
var realistic = msgShape{acfLags: 40, points: 120, history: 120, seasons: []int{720, 120, 0}}

var testMetrics = []struct{ name, typ, transform string }{
	{"node_cpu_seconds_total", "counter", "rate"},
	{"node_memory_MemFree_bytes", "gauge", "raw"},
	{"node_disk_written_bytes_total", "counter", "rate"},
	{"node_filesystem_avail_bytes", "gauge", "raw"},
	{"node_network_receive_packets_total", "counter", "rate"},
	{"node_load1", "gauge", "raw"},
}

// seriesIDOf is a stable 32-hex-digit id for the i-th generated series.
func seriesIDOf(i int) string {
	return fmt.Sprintf("%016x%016x", uint64(i)*0x9e3779b97f4a7c15, uint64(i))
}

// genMessage builds the i-th series' analysis for run at end, with random
// full-precision values and whole-millisecond times.
func genMessage(r *rand.Rand, run string, i int, end time.Time, sh msgShape) *slapipev1.SeriesAnalysis {
	mt := testMetrics[i%len(testMetrics)]
	end = end.UTC().Truncate(time.Millisecond)
	step := 5.0
	m := &slapipev1.SeriesAnalysis{
		RunId:       run,
		SeriesId:    seriesIDOf(i),
		Metric:      mt.name,
		Labels:      map[string]string{"instance": "backfill:9100", "job": "node", "device": fmt.Sprintf("dev%d", i)},
		Transform:   mt.transform,
		MetricType:  mt.typ,
		ComputedAt:  timestamppb.New(end.Add(time.Duration(r.IntN(30000)) * time.Millisecond)),
		RangeStart:  timestamppb.New(end.Add(-12 * time.Hour)),
		RangeEnd:    timestamppb.New(end),
		StepSeconds: step,
		Samples:     8641,
		Gaps:        int64(r.IntN(20)),
	}
	for _, w := range []struct {
		name string
		n    int64
	}{{"1h", 721}, {"3h", 2161}, {"12h", 8641}} {
		m.Windows = append(m.Windows, &slapipev1.WindowStats{Window: w.name, Samples: w.n - int64(r.IntN(5)),
			Min: r.Float64(), Max: 1e9 * r.Float64(), Mean: r.NormFloat64() * 1e6, Stddev: r.ExpFloat64()})
	}
	m.Adf = &slapipev1.ADF{Statistic: -10 * r.Float64(), Pvalue: r.Float64(), UsedLag: int32(r.IntN(30)), Nobs: 8600,
		Critical_1: -3.4309, Critical_5: -2.8618, Critical_10: -2.5669, IcBest: r.NormFloat64() * 1e5, Stationary: r.IntN(2) == 0}
	m.Acf = make([]float64, sh.acfLags+1)
	m.Acf[0] = 1
	for k := 1; k <= sh.acfLags; k++ {
		m.Acf[k] = 2*r.Float64() - 1
	}
	if p := sh.seasons[i%len(sh.seasons)]; p > 0 {
		se := &slapipev1.Seasonality{Period: int32(p), Detected: true, Strength: r.Float64(), Seasonal: make([]float64, p)}
		for k := range se.Seasonal {
			se.Seasonal[k] = r.NormFloat64() * 1e3
		}
		m.Seasonality = se
	}
	f := &slapipev1.Forecast{Model: "damped", Horizon: int32(sh.points), Sigma: r.ExpFloat64(), Aicc: 1e5 * r.NormFloat64(),
		Params:  map[string]float64{"alpha": r.Float64(), "beta": r.Float64(), "phi": 0.8 + 0.2*r.Float64()},
		History: make([]float64, sh.history)}
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for k := 1; k <= sh.points; k++ {
		mean := 1e6 * r.Float64()
		f.Points = append(f.Points, &slapipev1.ForecastPoint{Time: timestamppb.New(end.Add(time.Duration(k) * 5 * time.Second)),
			Mean: mean, Lower: mean - r.Float64()*1e3, Upper: mean + r.Float64()*1e3})
		lo, hi, sum = min(lo, mean), max(hi, mean), sum+mean
	}
	if sh.points > 0 {
		f.PredictedMin, f.PredictedMax, f.PredictedMean = lo, hi, sum/float64(sh.points)
	}
	for k := range f.History {
		f.History[k] = r.Float64() * 1e6
	}
	m.Forecast = f
	return m
}

// genBatch builds n messages of run (series 0..n-1).
func genBatch(seed uint64, run string, n int, end time.Time, sh msgShape) []*slapipev1.SeriesAnalysis {
	r := rand.New(rand.NewPCG(seed, 42))
	out := make([]*slapipev1.SeriesAnalysis, n)
	for i := range out {
		out[i] = genMessage(r, run, i, end, sh)
	}
	return out
}

// edgeCases reads testdata/edge_cases.jsonl: one SeriesAnalysis per line in
// protobuf JSON (absent parts, NaN and infinities, odd strings).
func edgeCases(t testing.TB) []*slapipev1.SeriesAnalysis {
	t.Helper()
	f, err := os.Open("testdata/edge_cases.jsonl")
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	var out []*slapipev1.SeriesAnalysis
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 || sc.Bytes()[0] == '#' {
			continue
		}
		var m slapipev1.SeriesAnalysis
		require.NoError(t, protojson.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		out = append(out, &m)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out)
	return out
}
