package slamanager

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// This file builds the backfill of the integration test: series whose
// violations and forecasts are known by construction, written as OpenMetrics
// for `promtool tsdb create-blocks-from openmetrics` (timestamps in seconds,
// ending with # EOF).

// omPoints is the history length: the 12 h pull (8641 points) plus 10
// minutes before it, so counters have a rate at the pull's first point.
const omPoints = 8641 + 120

// omLabels keeps the test series apart from any live scrape.
const omLabels = `instance="slapipe-test:0",job="slapipe-test"`

// omFamily is one metric family with one series.
type omFamily struct {
	family, typ, sample, labels string
	values                      []float64 // oldest first; the last is at end
}

// set puts v at the point ago steps before end.
func (f *omFamily) set(ago int, v float64) { f.values[len(f.values)-1-ago] = v }

func constant(v float64) []float64 {
	out := make([]float64, omPoints)
	for i := range out {
		out[i] = v
	}
	return out
}

// gaugeKE is slapipe_test_gauge{case="k_e"}: 50 with excursions above its
// bound 100 (expected counts in TestRealPrometheusKnownAnswers). Point ago 201 is a NaN
// sample, which Prometheus returns as NaN: a gap that splits an episode.
func gaugeKE() omFamily {
	f := omFamily{family: "slapipe_test_gauge", typ: "gauge", sample: "slapipe_test_gauge", labels: `case="k_e",` + omLabels, values: constant(50)}
	// Last hour: 12 samples out in 5 episodes, worst 130 at ago 101.
	for ago, v := range map[int]float64{10: 110, 11: 120, 12: 115, 100: 105, 101: 130, 102: 110, 103: 108, 104: 101,
		200: 104, 201: math.NaN(), 202: 102, 203: 103, 400: 100.5, 300: 100 /* on the bound: inside */} {
		f.set(ago, v)
	}
	// 1 h to 3 h: 12 more in 2 episodes, worst 150 at ago 1005.
	for ago := 1000; ago <= 1009; ago++ {
		f.set(ago, 140)
	}
	f.set(1005, 150)
	f.set(1500, 101)
	f.set(1501, 101)
	// 3 h to 12 h: 22 more in 3 episodes, worst 170 at ago 3010; the last
	// one is the 12 h window's first point. 999 sits on the pull's first
	// point (outside every window) and before the pull.
	for ago := 3000; ago <= 3019; ago++ {
		f.set(ago, 160)
	}
	f.set(3010, 170)
	f.set(8000, 120)
	f.set(8639, 101)
	f.set(8640, 999)
	f.set(8700, 999)
	return f
}

// counterRate is slapipe_test_bytes_total{case="rate"}: a counter growing
// at 100/s whose rate leaves the bound 1000/s at known points, with a reset
// (rate v/step = 100, inside) at ago 3000.
func counterRate() omFamily {
	rate := constant(100)
	at := func(ago int, r float64) { rate[omPoints-1-ago] = r }
	for ago := 20; ago <= 24; ago++ {
		at(ago, 2000) // last hour: 5 out, 1 episode
	}
	at(300, 1000) // on the bound: inside
	at(900, 3000) // 1 h to 3 h: 1 out
	at(6000, 1500)
	at(6001, 1500) // 3 h to 12 h: 2 out, 1 episode
	vals := make([]float64, omPoints)
	vals[0] = 1e6
	reset := omPoints - 1 - 3000
	for i := 1; i < omPoints; i++ {
		if i == reset {
			vals[i] = 500
			continue
		}
		vals[i] = vals[i-1] + rate[i]*5
	}
	return omFamily{family: "slapipe_test_bytes", typ: "counter", sample: "slapipe_test_bytes_total", labels: `case="rate",` + omLabels, values: vals}
}

// noisy is base + slope per step (ending at end) + uniform noise in ±amp
// from a fixed seed.
func noisy(family, label string, end, slope, amp float64, seed uint64) omFamily {
	r := rand.New(rand.NewPCG(seed, seed))
	vals := make([]float64, omPoints)
	for i := range vals {
		vals[i] = end - slope*float64(omPoints-1-i) + amp*(2*r.Float64()-1)
	}
	return omFamily{family: family, typ: "gauge", sample: family, labels: `case="` + label + `",` + omLabels, values: vals}
}

// trendUp rises 10 per step to about 950 at end: its bound 1000 is 5 steps
// (25 s) ahead on the trend.
func trendUp() omFamily { return noisy("slapipe_test_trend", "rising", 950, 10, 2, 1) }

// flat stays at 500 ± 2, far under its bound 1000.
func flat() omFamily { return noisy("slapipe_test_flat", "flat", 500, 0, 2, 2) }

// writeOpenMetrics writes the families with the last point at end (a
// multiple of 5 s) and points every 5 s before it.
func writeOpenMetrics(w io.Writer, end time.Time, fams ...omFamily) error {
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		fmt.Fprintf(bw, "# TYPE %s %s\n", f.family, f.typ)
		for i, v := range f.values {
			ts := end.Unix() - int64(len(f.values)-1-i)*5
			fmt.Fprintf(bw, "%s{%s} %s %d\n", f.sample, f.labels, strconv.FormatFloat(v, 'g', -1, 64), ts)
		}
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}
