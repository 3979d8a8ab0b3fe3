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

// Rate turns a counter's samples at a fixed step into per-second rates:
// out[i] = (v[i] - v[i-1]) / step, or v[i] / step when the counter was reset
// (v[i] < v[i-1]). out[i] is NaN when v[i] or v[i-1] is, so the first sample
// and the first sample after a gap have no rate. out has len(v) elements.
func Rate(v []float64, step time.Duration) []float64 {
	out := slices.Clone(v)
	rateInPlace(out, step)
	return out
}

// rateInPlace is Rate overwriting v: walking backwards, v[i-1] still holds
// the sample when v[i] is computed.
func rateInPlace(v []float64, step time.Duration) {
	s := step.Seconds()
	for i := len(v) - 1; i >= 0; i-- {
		if i == 0 || math.IsNaN(v[i]) || math.IsNaN(v[i-1]) {
			v[i] = math.NaN()
			continue
		}
		d := v[i] - v[i-1]
		if d < 0 {
			d = v[i]
		}
		v[i] = d / s
	}
}
