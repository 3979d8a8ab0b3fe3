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
	r := Explain(x)
	return r.Period, r.Period > 0
}

// Report says why Explain accepted a season or did not.
type Report struct {
	// Period is the season found, 0 when none.
	Period int `json:"period"`
	// Candidate is the period the evidence below is about: the season, or
	// the best period tested when it was refused (0: none was significant).
	Candidate int `json:"candidate"`
	// Cycles is how many full cycles of Candidate the series holds.
	Cycles int `json:"cycles"`
	// Z is the F statistic of Candidate's phase means as a normal score
	// (at least 5 is significant).
	Z float64 `json:"z"`
	// Agreement is the share of cycles that correlate with the others'
	// profile (at least 0.75 is a recurring season).
	Agreement float64 `json:"agreement"`
	// Strength is the seasonal strength of Candidate (at least 0.1).
	Strength float64 `json:"strength"`
	// Reason says in a few words why the season was accepted or refused.
	Reason string `json:"reason"`
}

// Explain is Detect with its evidence: the period it accepts (Period 0
// when none) and why.
func Explain(x []float64) Report {
	if len(x) < 2*minCycles {
		return Report{Reason: "too short to hold four cycles"}
	}
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Report{Reason: "series has gaps or infinities"}
		}
	}
	d := detectors.Get().(*detector)
	defer detectors.Put(d)
	y, spikes, eps := d.prepare(x)
	// Periods up to a minCycles-th of the input's length: fewer cycles
	// cannot tell a season from a few events that happened to line up.
	maxP := len(x) / minCycles
	r := d.detect(y, maxP, eps)
	if r.Period > 0 {
		return r
	}
	if p, ok := spikeTrain(spikes, maxP); ok {
		return Report{Period: p, Candidate: p, Cycles: len(x) / p, Agreement: 1,
			Reason: "spikes recur every period"}
	}
	return r
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
// eps, and reports the evidence.
func (d *detector) detect(y []float64, maxP int, eps float64) Report {
	n := len(y)
	if n < 8 || isConstant(y, eps) || maxP < 2 {
		return Report{Reason: "no variation to test"}
	}
	w := &d.a
	w.reset(y, maxP)
	d.tmp = grow(d.tmp, n)
	if p, ok := w.exactPeriod(maxP, d.tmp); ok {
		r := Report{Candidate: p, Cycles: n / p, Agreement: 1, Reason: "a period fits exactly"}
		if r.Strength = d.strength(y, p); r.Strength >= minStrength {
			r.Period = p
		} else {
			r.Reason = "exact period too weak"
		}
		return r
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
		return Report{Reason: "no significant period"}
	}
	for range 8 {
		next := w.roundest(w.fundamental(best, maxP), maxP)
		if next == best {
			break
		}
		best = next
	}
	// Agreement and strength are measured on the whitened series, as the
	// F test is: the slow wanderings of a random walk decompose into a
	// "season" of any period over a few cycles.
	white := w.whitened(best)
	r := Report{Candidate: best, Cycles: n / best, Z: w.score(best).z, Agreement: agreement(white, best, 0)}
	r.Strength = d.strength(white, best)
	switch {
	case !recurs(r.Agreement, len(white)/best):
		r.Reason = "cycles disagree: a one-off event, not a season"
	case r.Strength < minStrength:
		r.Reason = "season too weak"
	default:
		r.Period, r.Reason = best, "significant, recurring and strong"
	}
	return r
}

// strength returns the seasonal strength of period p in y (Decompose's
// work, into reused buffers: y is finite), 1 when y holds fewer than two
// cycles.
func (d *detector) strength(y []float64, p int) float64 {
	n := len(y)
	if n < 2*p {
		return 1
	}
	dec := &d.dec
	dec.Period = p
	dec.Trend, dec.Seasonal = grow(dec.Trend, n), grow(dec.Seasonal, n)
	dec.Resid, dec.Indices = grow(dec.Resid, n), grow(dec.Indices, p)
	dec.fill(y)
	return dec.Strength()
}
