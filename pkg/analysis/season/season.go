// Package season implements the additive seasonal decomposition of
// statsmodels' seasonal_decompose, Hyndman's seasonal strength and the
// detection of an unknown season length in an evenly sampled, gap-free
// series.
//
// References:
//   - statsmodels 0.13.5, statsmodels.tsa.seasonal.seasonal_decompose
//     (model="additive", two_sided=True, extrapolate_trend=0).
//   - Hyndman & Athanasopoulos, Forecasting: Principles and Practice, 3rd ed.
//     (FPP3), sections 3.4 (classical decomposition) and 4.3 (STL features:
//     seasonal strength).
//   - Wang, Smith & Hyndman (2006), "Characteristic-based clustering for time
//     series data", Data Mining and Knowledge Discovery 13(3): the strength
//     measure.
package season

import (
	"errors"
	"fmt"
	"math"
)

// ErrTooShort is returned when a series holds fewer than two full seasons.
var ErrTooShort = errors.New("series shorter than two seasons")

// Decomposition is the additive split x = Trend + Seasonal + Resid of a
// series, as seasonal_decompose(x, model="additive", period=Period) returns
// it.
type Decomposition struct {
	// Period is the season length in samples.
	Period int
	// Trend is the centred moving average; NaN on the first and last
	// Period/2 samples where the filter does not fit.
	Trend []float64
	// Seasonal is Indices tiled over the length of the series.
	Seasonal []float64
	// Resid is x - Trend - Seasonal; NaN where Trend is.
	Resid []float64
	// Indices are the Period seasonal indices; they sum to zero.
	Indices []float64
}

// Decompose reproduces statsmodels' seasonal_decompose(x, model="additive",
// period=period, two_sided=True): the trend is the centred moving average of
// length period (for an even period the 2xperiod filter, whose end weights
// are halved), the detrended series is averaged per phase over its defined
// values, and those means minus their mean are the seasonal indices (FPP3
// section 3.4). x must be gap-free (no NaN or Inf), period at least 2 and x
// at least two seasons long.
func Decompose(x []float64, period int) (*Decomposition, error) {
	n := len(x)
	if period < 2 {
		return nil, fmt.Errorf("decomposing: period %d: must be at least 2", period)
	}
	if n < 2*period {
		return nil, fmt.Errorf("decomposing %d samples with period %d: %w", n, period, ErrTooShort)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("decomposing: sample %d is %v: series must be finite", i, v)
		}
	}
	d := &Decomposition{
		Period:   period,
		Trend:    make([]float64, n),
		Seasonal: make([]float64, n),
		Resid:    make([]float64, n),
		Indices:  make([]float64, period),
	}
	d.fill(x)
	return d, nil
}

// fill decomposes x into d, whose Period is set and whose slices have the
// lengths of x (Indices: Period), overwriting them: x is finite and at
// least two seasons long.
func (d *Decomposition) fill(x []float64) {
	n, period := len(x), d.Period
	// Work on x minus its mean: the filter weights sum to one, so the
	// detrended series is unchanged, and large offsets (bytes free on a
	// disk, counters) no longer cost precision in the running sum.
	off := mean(x)
	detr := d.Resid // detrended series, turned into the residual below
	half := period / 2
	movingAverage(x, off, period, d.Trend)
	for i := range x {
		if i < half || i >= n-half {
			d.Trend[i], detr[i] = math.NaN(), math.NaN()
			continue
		}
		detr[i] = (x[i] - off) - d.Trend[i]
		d.Trend[i] += off
	}
	// Per-phase means over the defined values: every phase has at least one
	// because n >= 2*period.
	for j := range period {
		var s float64
		var c int
		for i := j; i < n; i += period {
			if !math.IsNaN(detr[i]) {
				s += detr[i]
				c++
			}
		}
		d.Indices[j] = s / float64(c)
	}
	m := mean(d.Indices)
	for j := range d.Indices {
		d.Indices[j] -= m
	}
	for i := range x {
		d.Seasonal[i] = d.Indices[i%period]
		detr[i] -= d.Seasonal[i] // NaN stays NaN
	}
}

// movingAverage writes into out[i], for every i where the centred filter of
// seasonal_decompose fits, the filtered value of x-off; other entries are
// left unspecified. An odd period uses equal weights 1/period over period
// samples; an even one the 2xperiod filter: period+1 samples, the two end
// ones weighted 1/(2 period). The window sum is updated in O(1) per step
// with Neumaier compensation so its error stays at the level of one
// rounding of the centred values whatever n.
func movingAverage(x []float64, off float64, period int, out []float64) {
	n := len(x)
	half := period / 2
	even := period%2 == 0
	// inner covers x[i-innerHalf .. i+innerHalf], weight 1/period each.
	innerHalf := half
	if even {
		innerHalf = half - 1
	}
	var sum, comp float64
	add := func(v float64) {
		t := sum + v
		if math.Abs(sum) >= math.Abs(v) {
			comp += (sum - t) + v
		} else {
			comp += (v - t) + sum
		}
		sum = t
	}
	p := float64(period)
	for k := half - innerHalf; k <= half+innerHalf; k++ {
		add(x[k] - off)
	}
	for i := half; i < n-half; i++ {
		if i > half {
			add(x[i+innerHalf] - off)
			add(-(x[i-innerHalf-1] - off))
		}
		v := sum + comp
		if even {
			v += 0.5 * ((x[i-half] - off) + (x[i+half] - off))
		}
		out[i] = v / p
	}
}

// Strength is Hyndman's seasonal strength F_S = max(0, 1 -
// Var(R)/Var(S+R)) over the samples where the residual R is defined (Wang,
// Smith & Hyndman 2006; FPP3 section 4.3). It lies in [0, 1]: 0 means the
// season explains nothing beyond noise, 1 a noise-free season. A series
// with no variation beyond its trend has strength 0.
func (d *Decomposition) Strength() float64 {
	// Two passes over the defined samples, in order, as mean and variance
	// would make them over copies, without the copies.
	var c int
	var sr, ssr float64
	for i, v := range d.Resid {
		if !math.IsNaN(v) {
			c++
			sr += v
			ssr += v + d.Seasonal[i]
		}
	}
	if c == 0 {
		return 0
	}
	n := float64(c)
	mr, msr := sr/n, ssr/n
	var vr, vsr float64
	for i, v := range d.Resid {
		if !math.IsNaN(v) {
			vr += (v - mr) * (v - mr)
			w := v + d.Seasonal[i]
			vsr += (w - msr) * (w - msr)
		}
	}
	vr, vsr = vr/n, vsr/n
	if !(vsr > 0) {
		return 0
	}
	f := 1 - vr/vsr
	return math.Min(1, math.Max(0, f))
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
