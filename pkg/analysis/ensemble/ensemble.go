// Package ensemble forecasts an evenly sampled series by a combination of
// simple models chosen for how well they forecast the series' own recent
// past at the horizon asked for, not for how well they fit it one step
// ahead, and gives the prediction interval from those out-of-sample errors.
//
// Real server metrics are mostly noise around a level that moves now and
// then, with spikes; seasons are rarer than on synthetic data. A model
// chosen by in-sample fit (AICc over one-step errors) follows the noise:
// on such series it loses to repeating the last value. What wins
// forecasting competitions (M3, M4) is choosing and combining by
// out-of-sample error: Hyndman's forecast package (ets with opt.crit
// "amse", thetaf, and forecast combinations), Nixtla's statsforecast
// (cross-validation to pick among AutoETS, AutoTheta, naive). This package
// follows that design with its own code:
//
//   - candidates: the last value (naive); simple exponential smoothing at a
//     grid of smoothing weights, plain and robust (one-step errors clipped
//     at a few robust standard deviations, after Gelper, Fried & Croux
//     2010, so one spike moves the level little); the median of the last
//     samples; and the exponential smoothing models of package holtwinters
//     fitted by one-step squared error (with the season when one is given);
//   - rolling-origin evaluation (Tashman 2000): from up to maxOrigins
//     points spread over the recent part of the series, every candidate
//     forecasts the horizon with what it knew then; its score is the mean
//     absolute error over those forecasts;
//   - the forecast is the mean of the best k candidates, k in 1..maxMembers
//     chosen by the same evaluation (a combination of the best few is
//     rarely worse than the best alone and often better: Makridakis,
//     Spiliotis & Assimakopoulos 2020, the M4 findings);
//   - the 95 % interval at each step ahead is the 2.5 % and 97.5 % empirical
//     quantile of that combination's rolling-origin errors at that step,
//     widened to be non-decreasing in the step: it needs no normality,
//     which spiky series do not have;
//   - a series that was never negative gets a forecast and an interval
//     that are not either (the quantities it measures cannot be).
//
// Series too short for the evaluation get the holtwinters model chosen by
// AICc and its analytic interval.
package ensemble

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/slapipe/slapipe/pkg/analysis/holtwinters"
	"github.com/slapipe/slapipe/pkg/analysis/internal/series"
)

// Interval methods, as Result.Interval names them.
const (
	// IntervalEmpirical: quantiles of the rolling-origin errors.
	IntervalEmpirical = "empirical"
	// IntervalAnalytic: the ETS forecast variance under normal errors.
	IntervalAnalytic = "analytic"
)

// Evaluation settings.
const (
	// maxOrigins bounds the forecast origins evaluated, and maxForecasts
	// the forecasts (origins times horizon) each candidate makes for the
	// evaluation: its cost, about 1 ms for 20 candidates.
	maxOrigins   = 240
	maxForecasts = 8000
	// minOrigins is the fewest origins that make the evaluation and the
	// empirical quantiles worth more than the AICc choice.
	minOrigins = 40
	// spanHorizons and minSpan size the evaluated part of the series: the
	// last max(spanHorizons*horizon, minSpan) samples, at most half of it.
	spanHorizons = 12
	minSpan      = 500
	// recentSamples is how much of a long series the models are fitted to
	// and evaluated on (4 h at 5 s), unless a season needs four cycles or
	// the evaluation more: older samples tell little about the next
	// minutes, and fitting costs time in proportion to the samples.
	recentSamples = 2880
	// maxMembers bounds how many of the best candidates are averaged.
	maxMembers = 3
	// clipZ is where the robust smoothing clips a one-step error, in
	// robust standard deviations of the series' steps.
	clipZ = 2.5
	// etsClipZ is where the exponential smoothing models' one-step errors
	// are clipped: far enough out that only outliers are.
	etsClipZ = 5
	// warmUp, over the smoothing weight, is how many samples before the
	// first origin simple exponential smoothing starts.
	warmUp = 10.0
	// scaleSteps is how many of the last steps measure the series' step
	// scale: enough for a robust estimate, and the recent noise level is
	// the one that matters.
	scaleSteps = 2048
	// coverage is the nominal coverage of the interval.
	coverage = 0.95
	// thinSpan is how many horizons the evaluated span must hold for its
	// error quantiles alone to make the interval: over fewer, the origins'
	// forecasts overlap so much that the far quantiles rest on a few
	// independent stretches, and the interval is widened towards the best
	// exponential smoothing model's analytic one.
	thinSpan = 10
)

// alphas are the smoothing weights of the simple exponential smoothing
// candidates: from a level that follows every sample (1 is the naive
// forecast) down to one that averages about the last hundred.
var alphas = []float64{0.02, 0.05, 0.1, 0.2, 0.35, 0.6}

// ErrInput reports an unusable series or options.
var ErrInput = errors.New("invalid forecast input")

// Options configures Forecast.
type Options struct {
	// Period is the season length in samples (0: none).
	Period int
	// Horizon is the number of steps to forecast (at least 1).
	Horizon int
	// Indices optionally gives the seasonal indices of x for Period, as
	// holtwinters.Options.Indices.
	Indices []float64
	// Filled marks the samples of x that were gaps filled by the caller
	// (nil: none). Their values are the caller's guess, so the evaluation
	// does not count its forecasts of them: a forecast of an interpolated
	// line is right too often.
	Filled []bool
}

// Result is a forecast with its 95 % prediction interval.
type Result struct {
	// Model names the forecast: one candidate's name, or
	// "combination(a,b,...)" of the candidates averaged.
	Model string
	// Members are the names of the candidates averaged, best first.
	Members []string
	// Mean, Lower and Upper have Horizon values.
	Mean, Lower, Upper []float64
	// Interval is IntervalEmpirical or IntervalAnalytic.
	Interval string
	// NonNegative is true when the series was never negative, and the
	// forecast and its interval were kept at zero or above.
	NonNegative bool
	// Sigma is the standard deviation of the one-step errors of the best
	// fitted exponential smoothing model (of the series' units).
	Sigma float64
	// AICc is that model's corrected Akaike criterion.
	AICc float64
	// Params are that model's smoothing parameters.
	Params map[string]float64
}

// Forecast forecasts opts.Horizon steps after the gap-free series x (see
// the package comment). It returns an error for an empty x, a NaN or
// infinity in it, or invalid options.
func Forecast(x []float64, opts Options) (*Result, error) {
	// Samples filled after the last observed one are no evidence of
	// anything: forecast from that sample, over the filled ones too.
	if k := trailingFilled(opts.Filled); k > 0 && k < len(x) && opts.Horizon >= 1 {
		inner := opts
		inner.Horizon += k
		inner.Filled = opts.Filled[:len(x)-k]
		if opts.Period >= 2 && len(x)-k < 2*opts.Period {
			inner.Period, inner.Indices = 0, nil
		}
		r, err := Forecast(x[:len(x)-k], inner)
		if err != nil {
			return nil, err
		}
		r.Mean, r.Lower, r.Upper = r.Mean[k:], r.Lower[k:], r.Upper[k:]
		return r, nil
	}
	n, h := len(x), opts.Horizon
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: empty series", ErrInput)
	case h < 1:
		return nil, fmt.Errorf("%w: horizon %d: must be at least 1", ErrInput, h)
	}
	nonNeg := true
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: sample %d is %v: the series must be gap-free and finite", ErrInput, i, v)
		}
		nonNeg = nonNeg && v >= 0
	}
	if w := window(n, h, opts.Period); w < n {
		opts = opts.recent(n - w)
		x, n = x[n-w:], w
	}
	origins := evalOrigins(n, h, opts.Period)
	if len(origins) < minOrigins {
		return analytic(x, opts, nonNeg)
	}
	loc, scale := series.MeanStd(x)
	if !(scale > 0) {
		return analytic(x, opts, nonNeg)
	}
	z := make([]float64, n)
	for i, v := range x {
		z[i] = (v - loc) / scale
	}
	var indices []float64
	if opts.Indices != nil {
		indices = make([]float64, len(opts.Indices))
		for j, v := range opts.Indices {
			indices[j] = v / scale
		}
	}
	fitted, err := holtwinters.Fit(z, opts.Period, indices)
	if err != nil {
		return nil, err
	}
	floor := math.Inf(-1)
	if nonNeg {
		floor = -loc / scale
	}
	ev := newEvaluation(z, origins, h, floor, opts.Filled)
	ev.addSimple()
	sd := ev.wide
	for _, c := range fitted {
		clip := math.Inf(1)
		if sd > 0 {
			clip = etsClipZ * sd
		}
		ev.add(c.Model, robust(c, clip))
	}
	fc := ev.combine()
	res := &Result{
		Mean:        make([]float64, h),
		Lower:       make([]float64, h),
		Upper:       make([]float64, h),
		Interval:    IntervalEmpirical,
		NonNegative: nonNeg,
	}
	for _, i := range fc.members {
		res.Members = append(res.Members, ev.names[i])
	}
	res.Model = res.Members[0]
	if len(res.Members) > 1 {
		res.Model = "combination(" + strings.Join(res.Members, ",") + ")"
	}
	lo, hi := ev.quantiles(fc)
	if best := bestAICc(fitted); best != nil {
		res.Sigma = math.Sqrt(best.Sigma2) * scale
		res.AICc = best.AICc + float64(n)*math.Log(scale*scale)
		res.Params = best.Params
		widen(lo, hi, best.Variances(h), float64(n-origins[0])/float64(h))
	}
	for k := range h {
		mu := fc.final[k]
		res.Mean[k] = loc + scale*mu
		res.Lower[k] = loc + scale*(mu+lo[k])
		res.Upper[k] = loc + scale*(mu+hi[k])
	}
	if nonNeg {
		clampNonNegative(res)
	}
	return res, nil
}

// window returns how many of the last samples of a series of n are
// fitted and evaluated (see recentSamples).
func window(n, h, period int) int {
	span := max(spanHorizons*h, minSpan)
	return min(n, max(recentSamples, minCycles*period, 2*span+2*period+20))
}

// minCycles is how many seasons the window keeps for a seasonal model.
const minCycles = 4

// recent returns the options for the samples of a series from off on:
// the filled marks cut, and the seasonal indices rotated so that the
// window's first sample has phase 0.
func (o Options) recent(off int) Options {
	r := o
	if o.Filled != nil {
		r.Filled = o.Filled[off:]
	}
	if m := len(o.Indices); m > 0 {
		r.Indices = make([]float64, m)
		for j := range m {
			r.Indices[j] = o.Indices[(j+off)%m]
		}
	}
	return r
}

// evalOrigins returns the forecast origins of the evaluation: spread
// evenly over the last span samples of a series of n, each leaving h
// samples after it to compare with, and each after two seasons (and 20
// samples) of warm-up.
func evalOrigins(n, h, period int) []int {
	span := min(n/2, max(spanHorizons*h, minSpan))
	first := max(n-span, 2*period, 20)
	last := n - h
	if last < first {
		return nil
	}
	count := min(maxOrigins, max(minOrigins, maxForecasts/h), last-first+1)
	out := make([]int, 0, count)
	for i := range count {
		o := first + int(float64(i)*float64(last-first)/float64(max(count-1, 1))+0.5)
		if len(out) == 0 || o > out[len(out)-1] {
			out = append(out, o)
		}
	}
	return out
}

// robust returns the forecasts of c with its one-step errors clipped at
// ±clip (see holtwinters.Candidate.Paths).
func robust(c *holtwinters.Candidate, clip float64) pathFunc {
	return func(z []float64, origins []int, h int, out []float64) { c.Paths(z, origins, h, out, clip) }
}

// trailingFilled counts the filled samples at the end of a series.
func trailingFilled(filled []bool) int {
	k := 0
	for i := len(filled) - 1; i >= 0 && filled[i]; i-- {
		k++
	}
	return k
}

// widen moves the empirical error quantiles lo and hi towards the
// analytic 95 % bounds of variances when the evaluated span held fewer
// than thinSpan horizons: by the share of thinSpan missing, and only
// outwards.
func widen(lo, hi, variances []float64, horizons float64) {
	w := 1 - math.Min(1, horizons/thinSpan)
	if w <= 0 {
		return
	}
	for k, v := range variances {
		half := series.Z975 * math.Sqrt(v)
		if !(half > 0) || math.IsInf(half, 0) {
			continue
		}
		lo[k] -= w * math.Max(0, lo[k]+half)
		hi[k] += w * math.Max(0, half-hi[k])
	}
}

// analytic is the forecast of series too short to evaluate: the
// holtwinters model with the lowest AICc and its analytic interval.
func analytic(x []float64, opts Options, nonNeg bool) (*Result, error) {
	fc, err := holtwinters.Forecast(x, holtwinters.Options{Period: opts.Period, Horizon: opts.Horizon, Indices: opts.Indices})
	if err != nil {
		return nil, err
	}
	res := &Result{
		Model: fc.Model, Members: []string{fc.Model},
		Mean: fc.Mean, Lower: fc.Lower, Upper: fc.Upper,
		Interval: IntervalAnalytic, NonNegative: nonNeg,
		Sigma: fc.Sigma, AICc: fc.AICc, Params: fc.Params,
	}
	if nonNeg {
		clampNonNegative(res)
	}
	return res, nil
}

// clampNonNegative keeps a never-negative series' forecast and interval
// at zero or above. Clipping a bound at zero changes no coverage: no
// value can fall below zero.
func clampNonNegative(r *Result) {
	for _, s := range [][]float64{r.Mean, r.Lower, r.Upper} {
		for i, v := range s {
			s[i] = math.Max(0, v)
		}
	}
}

func bestAICc(cs []*holtwinters.Candidate) *holtwinters.Candidate {
	var best *holtwinters.Candidate
	for _, c := range cs {
		if best == nil || c.AICc < best.AICc {
			best = c
		}
	}
	return best
}

// quantile returns the q-quantile of the sorted xs (linear interpolation
// between order statistics, numpy's default).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// median returns the median of xs, reordering a copy in buf.
func median(xs, buf []float64) float64 {
	buf = append(buf[:0], xs...)
	sort.Float64s(buf)
	return quantile(buf, 0.5)
}
