package promsource

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Transform names say how a series' values relate to Prometheus' samples.
const (
	// TransformRaw means the values are the samples as Prometheus returns them.
	TransformRaw = "raw"
	// TransformRate means the values are per-second rates of a counter.
	TransformRate = "rate"
)

// counterSuffixes mark the series that count up: counters (_total) and the
// cumulative parts of histograms and summaries (_count, _sum, _bucket).
var counterSuffixes = []string{"_total", "_count", "_sum", "_bucket"}

// Classify returns the metric type to report for metric and whether its
// values are analysed as a rate. meta maps metric family names to the type
// Prometheus' metadata API reports. The rules, in order:
//   - the metric's own metadata decides: "counter" is a rate, any other type
//     is raw;
//   - a name ending in _total, _count, _sum or _bucket is a counter (rate,
//     reported as "counter"), unless the metadata of its family (the name
//     without that suffix, as OpenMetrics and classic histograms name
//     families) says "gaugehistogram", whose parts go up and down;
//   - anything else is raw, reported as "unknown".
func Classify(metric string, meta map[string]string) (metricType string, rate bool) {
	if t := meta[metric]; t != "" {
		return t, t == "counter"
	}
	for _, suf := range counterSuffixes {
		if family, ok := strings.CutSuffix(metric, suf); ok {
			if t := meta[family]; t == "gaugehistogram" {
				return t, false
			}
			return "counter", true
		}
	}
	return "unknown", false
}

// MaxHold is the longest stretch, in steps, over which a counter that keeps
// its value is taken to be between two scrapes rather than idle. A
// query_range answer repeats a series' last sample at every step until the
// next scrape, so with a scrape interval longer than the step (or a grid
// point that falls just before its scrape) the raw differences read
// 0, 0, 3x instead of x, x, x. 12 steps is one minute at the 5 s default.
const MaxHold = 12

// Rate turns a counter's samples at a fixed step into per-second rates.
// Between two samples that differ, the increase (v[j] - v[i], or v[j] after a
// reset, v[j] < v[i]) is spread evenly over the steps between them when the
// counter held its value for at most MaxHold steps; after a longer flat
// stretch the counter really was idle: those steps are 0 and the increase
// lands on its own step. A hold at the end of the series (or before a gap)
// of at most MaxHold steps is NaN: the next scrape has not been seen yet.
// The first sample, and the first after a gap, have no rate (NaN). With a
// sample that changes at every step this is out[i] = (v[i] - v[i-1]) / step.
// out has len(v) elements.
func Rate(v []float64, step time.Duration) []float64 {
	out := slices.Clone(v)
	rateInPlace(out, step)
	return out
}

// rateInPlace is Rate overwriting v. Each rate depends only on samples at or
// before its index, and last keeps the value of the stretch's start before
// v[last] is overwritten.
func rateInPlace(v []float64, step time.Duration) {
	s := step.Seconds()
	from, base := -1, 0.0                  // index and value of the last change (or first sample)
	flush := func(to int, value float64) { // fill (from, to] with value
		for k := from + 1; k <= to; k++ {
			v[k] = value
		}
	}
	endHold := func(to int) { // a hold that ends at a gap or at the end
		if to-from > MaxHold {
			flush(to, 0)
		} else {
			flush(to, math.NaN())
		}
	}
	for i := range v {
		x := v[i]
		switch {
		case math.IsNaN(x):
			if from >= 0 {
				endHold(i - 1)
			}
			from = -1
			continue
		case from < 0:
			from, base = i, x
			v[i] = math.NaN()
			continue
		case x == base:
			continue
		}
		d := x - base
		if d < 0 {
			d = x
		}
		if k := i - from; k <= MaxHold {
			flush(i, d/(float64(k)*s))
		} else {
			flush(i-1, 0)
			v[i] = d / s
		}
		from, base = i, x
	}
	if from >= 0 {
		endHold(len(v) - 1)
	}
}
