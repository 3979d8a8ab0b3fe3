package season

import (
	"math"
	"sync"
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
// It costs an FFT of length about 1.5n and a DCT of half that, a pass over
// the series and O(P) arithmetic per period P tested (a few dozen), and a
// screen of every period for an exact fit that rejects most in a few
// steps. Buffers and FFT plans are reused across calls.
func Detect(x []float64) (period int, ok bool) {
	if len(x) < 8 {
		return 0, false
	}
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, false
		}
	}
	d := detectors.Get().(*detector)
	defer detectors.Put(d)
	y, spikes, eps := d.prepare(x)
	// Periods up to half the input's length: a counter of two seasons has
	// a rate one sample shorter than two seasons.
	maxP := len(x) / 2
	if p, ok := d.detect(y, maxP, eps); ok {
		return p, true
	}
	return spikeTrain(spikes, maxP)
}

// detector holds the buffers of a detection. Detect takes one from a
// pool, so that detecting the seasons of many series allocates little.
type detector struct {
	y, tmp []float64 // n samples each
	a      anova
	dec    Decomposition
}

var detectors = sync.Pool{New: func() any { return new(detector) }}

// grow returns buf resized to n, reallocated when its capacity is short.
func grow(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}

// prepare returns the series detect works on, in d.y: x's rate, despiked
// and detrended; the indices of the spikes set aside; and the rounding
// error of x that it carries (see roundoff).
func (d *detector) prepare(x []float64) (y []float64, spikes []int, eps float64) {
	var scale float64
	for _, v := range x {
		if a := math.Abs(v); a > scale {
			scale = a
		}
	}
	eps = roundoff(scale)
	d.y = rate(x, d.y)
	y = d.y
	d.tmp = grow(d.tmp, len(y))
	spikes = despike(y, eps, d.tmp)
	detrend(y)
	return y, spikes, eps
}

// detect finds the season of a prepared series y whose rounding error is
// eps.
func (d *detector) detect(y []float64, maxP int, eps float64) (int, bool) {
	n := len(y)
	if n < 8 || isConstant(y, eps) {
		return 0, false
	}
	w := &d.a
	w.reset(y, maxP)
	d.tmp = grow(d.tmp, n)
	if p, ok := w.exactPeriod(maxP, d.tmp); ok {
		return d.strongEnough(y, p)
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
	return d.strongEnough(y, best)
}

// strongEnough returns p when its season has a strength of at least
// minStrength in y, or when y holds fewer than three seasons.
func (d *detector) strongEnough(y []float64, p int) (int, bool) {
	if n := len(y); n >= 3*p {
		// Decompose's work, into reused buffers: y is finite and long
		// enough.
		dec := &d.dec
		dec.Period = p
		dec.Trend, dec.Seasonal = grow(dec.Trend, n), grow(dec.Seasonal, n)
		dec.Resid, dec.Indices = grow(dec.Resid, n), grow(dec.Indices, p)
		dec.fill(y)
		if dec.Strength() < minStrength {
			return 0, false
		}
	}
	return p, true
}
