package season

import (
	"math"
	"slices"
)

// Detection thresholds. zSeason is the Wilson-Hilferty z-score of the
// seasonal F statistic a period needs (about p < 3e-7 one-sided, a
// Bonferroni-style margin over the few dozen candidates tested); zNested the
// z-score a multiple of a period needs to be preferred to it; minStrength
// the seasonal strength (Wang, Smith & Hyndman 2006) below which a
// statistically significant season is too weak to be worth reporting.
const (
	zSeason     = 5.0
	zNested     = 4.0
	minStrength = 0.1
	// aicTie scales the AIC margin within which nearby periods count as
	// indistinguishable: that many standard deviations of the AIC
	// difference of two p-parameter fits to the same noise (see roundest).
	aicTie = 3.0
	// spikeZ is how many robust standard deviations an isolated sample must
	// stand away from both neighbours to be treated as an outlier.
	spikeZ = 10.0
	// arOrder is the order of the autoregression that whitens the noise
	// around a season.
	arOrder = 4
	// maxMultiple bounds the multiples of a candidate tested as fundamentals.
	maxMultiple = 6
	// perSource is how many candidates each ranking contributes.
	perSource = 6
)

// Detect returns the dominant season length of x, between 2 and len(x)/2
// samples, or ok=false when x shows no clear season. x must be gap-free.
//
// The method follows AutoPeriod (Vlachos, Yu & Castelli 2005: periodogram
// candidates checked against the autocorrelation) with regression tests in
// place of the hill check:
//   - a monotone series (a counter) is differenced into its rate; isolated
//     one-sample spikes are set aside, since two outliers always line up
//     with some period; the linear trend is removed;
//   - a series that some period fits exactly (residual variance under
//     exactTol of the series', such as a noiseless season, or one whose
//     noise is below the precision of its level) gets the shortest such
//     period: the statistical tests below need noise to measure against;
//   - candidate periods come from the largest peaks of the periodogram (raw,
//     and weighted by frequency squared so that the harmonics of sharp
//     seasons stand out of red noise), refined to the nearest autocorrelation
//     maximum, and from the highest autocorrelation peaks;
//   - each candidate P is tested with the F statistic of a one-way analysis of
//     variance by phase (t mod P) on the series filtered by the AR(4)
//     autoregression (Yule-Walker) of the seasonal model's residual, a
//     generalised least squares step in the manner of Cochrane-Orcutt.
//     White noise keeps its levels, random walks and autocorrelated noise
//     are whitened, so their slow wanderings are not significant;
//   - among significant candidates the lowest AIC wins; a nested F test
//     then moves to a divisor when the longer period adds nothing (a
//     multiple of the true season) or to one of its six first multiples
//     when that adds significantly (the true season of a dominant
//     harmonic); among nearby periods the data cannot tell apart, the
//     roundest is kept;
//   - the winner must have a seasonal strength (Decomposition.Strength) of
//     at least 0.1 where it has three seasons or more;
//   - failing all that, spikes that recur at a constant spacing (a job
//     that runs every P samples) make that spacing the season.
//
// It costs two FFTs of length about 1.5n and O(n) per period tested (a few
// dozen), plus a screen of every period for an exact fit that rejects most
// in a few steps.
func Detect(x []float64) (period int, ok bool) {
	if len(x) < 8 {
		return 0, false
	}
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, false
		}
	}
	y, spikes, eps := prepare(x)
	// Periods up to half the input's length: a counter of two seasons has
	// a rate one sample shorter than two seasons.
	maxP := len(x) / 2
	if p, ok := detect(y, maxP, eps); ok {
		return p, true
	}
	return spikeTrain(spikes, maxP)
}

// prepare returns the series detect works on: x's rate, despiked and
// detrended; the indices of the spikes set aside; and the rounding error
// of x that it carries (see roundoff).
func prepare(x []float64) (y []float64, spikes []int, eps float64) {
	var scale float64
	for _, v := range x {
		scale = math.Max(scale, math.Abs(v))
	}
	eps = roundoff(scale)
	y = rate(x)
	spikes = despike(y, eps)
	detrend(y)
	return y, spikes, eps
}

// detect finds the season of a prepared series y whose rounding error is
// eps.
func detect(y []float64, maxP int, eps float64) (int, bool) {
	n := len(y)
	if n < 8 || isConstant(y, eps) {
		return 0, false
	}
	w := newAnova(y, maxP)
	if p, ok := w.exactPeriod(maxP); ok {
		return strongEnough(y, p)
	}
	cands := candidates(y, maxP)
	best, bestAIC := 0, math.Inf(1)
	for _, p := range cands {
		sc := w.score(p)
		if sc.z >= zSeason && sc.aic < bestAIC {
			best, bestAIC = p, sc.aic
		}
	}
	if best == 0 {
		return 0, false
	}
	for range 8 {
		next := w.roundest(w.fundamental(best, maxP), maxP)
		if next == best {
			break
		}
		best = next
	}
	return strongEnough(y, best)
}

// strongEnough returns p when its season has a strength of at least
// minStrength in y, or when y holds fewer than three seasons.
func strongEnough(y []float64, p int) (int, bool) {
	if len(y) >= 3*p {
		d, err := Decompose(y, p)
		if err != nil || d.Strength() < minStrength {
			return 0, false
		}
	}
	return p, true
}

// rate returns a copy of x, differenced when x is monotone: a counter's
// season is in its rate. A few resets (decreases) are allowed.
func rate(x []float64) []float64 {
	n := len(x)
	var pos, neg int
	for i := 1; i < n; i++ {
		switch d := x[i] - x[i-1]; {
		case d > 0:
			pos++
		case d < 0:
			neg++
		}
	}
	if min(pos, neg) > n/1000 || max(pos, neg) == 0 {
		return slices.Clone(x)
	}
	y := make([]float64, n-1)
	for i := range y {
		y[i] = x[i+1] - x[i]
	}
	return y
}

// despike replaces every isolated one-sample outlier by the mean of its
// neighbours and returns the outliers' indices. The scale is the MAD of
// first differences, robust to both the spikes and a season; when most
// differences are zero, any lone departure from two equal neighbours is a
// spike; differences within eps, the rounding of the input, count as
// zero. Outliers are a minority: each makes two outlying differences, and
// the MAD only stands for the rest while they are under half of them. When
// a quarter of the samples or more would be outliers, they are the signal
// (a sharp season whose differences take a few values, such as 1 2 3 2
// repeated, has a MAD of zero), and y is left as it is.
func despike(y []float64, eps float64) []int {
	n := len(y)
	if n < 5 {
		return nil
	}
	d := make([]float64, n-1)
	for i := range d {
		d[i] = y[i+1] - y[i]
	}
	med := median(d)
	for i := range d {
		d[i] = math.Abs(d[i] - med)
	}
	limit := max(spikeZ*1.4826*median(d)/math.Sqrt2, eps)
	var at []int
	var was []float64 // the replaced values, to undo
	for i := 1; i < n-1; i++ {
		mid := 0.5 * (y[i-1] + y[i+1])
		// The neighbours must agree with each other, otherwise this is a
		// step or a burst, not a lone spike.
		if math.Abs(y[i]-mid) > limit && math.Abs(y[i+1]-y[i-1]) <= limit {
			was = append(was, y[i])
			y[i] = mid
			at = append(at, i)
		}
	}
	if 4*len(at) >= n {
		for k, i := range at {
			y[i] = was[k]
		}
		return nil
	}
	return at
}

// spikeTrain returns the spacing of spikes that recur at a constant
// interval (within one sample), at least three of them, when it is at most
// maxP.
func spikeTrain(at []int, maxP int) (int, bool) {
	if len(at) < 3 {
		return 0, false
	}
	gaps := make([]float64, len(at)-1)
	for i := range gaps {
		gaps[i] = float64(at[i+1] - at[i])
	}
	p := int(math.Round(median(gaps)))
	for _, g := range gaps {
		if math.Abs(g-float64(p)) > 1 {
			return 0, false
		}
	}
	if p < 2 || p > maxP {
		return 0, false
	}
	return p, true
}

// detrend subtracts the least-squares line from y in place. Subtracting the
// mean first is exact for a series far from zero (Sterbenz), so the
// remainder keeps its precision whatever the level.
func detrend(y []float64) {
	n := float64(len(y))
	tm := (n - 1) / 2
	var sy, sty, stt float64
	for _, v := range y {
		sy += v
	}
	ym := sy / n
	for i, v := range y {
		t := float64(i) - tm
		sty += t * (v - ym)
		stt += t * t
	}
	b := sty / stt
	for i := range y {
		y[i] = (y[i] - ym) - b*(float64(i)-tm)
	}
}

// roundoff is the error, in absolute terms, that rounding leaves in the
// prepared series of an input whose largest magnitude is scale: a few
// dozen units in the last place of scale (a counter's rate rounds to its
// counter's precision).
func roundoff(scale float64) float64 {
	const ulps = 64
	return ulps * 0x1p-52 * scale
}

// isConstant reports whether the detrended series y varies by no more than
// eps, the rounding of the input: a constant or a straight line, with
// nothing left to find a season in.
func isConstant(y []float64, eps float64) bool {
	lo, hi := y[0], y[0]
	for _, v := range y {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return hi-lo <= eps
}

// median returns the median of v, reordering v (Hoare's selection, O(n)
// expected).
func median(v []float64) float64 {
	m := len(v) / 2
	hi := selectK(v, m)
	if len(v)%2 == 1 {
		return hi
	}
	lo := v[0] // after selectK, v[:m] holds the m smallest
	for _, x := range v[1:m] {
		lo = math.Max(lo, x)
	}
	return 0.5 * (lo + hi)
}

// selectK reorders v so that v[k] is its k-th smallest value, smaller
// values before it, and returns it.
func selectK(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		pivot := v[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}
