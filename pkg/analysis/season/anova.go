package season

import "math"

// anova scores seasonal periods on one series: for period p, the analysis
// of covariance of the model y_t = s_(t mod p) + b t + e_t (phase means
// and a common linear trend) on the series filtered by the autoregression
// of the model's residual, a generalised least squares step in the manner
// of Cochrane-Orcutt. Fitting the trend with the season matters over few
// cycles, where a trend fitted alone absorbs part of the season.
//
// A period costs one pass over the series, its per-phase sums, and O(p)
// arithmetic: the fit, the residual's autocovariances and the filtered
// model's sums of squares follow from those sums and from moments of y
// computed once (see moments.go). Buffers are reused (see reset) and scores
// and nested tests memoised: once the buffers have grown, scoring does not
// allocate.
type anova struct {
	y   []float64
	tss float64 // sum of squares of y, which is detrended
	sy  float64 // sum of y_t
	ty  float64 // sum of t y_t
	// lag[k] is the sum of y_t y_(t-k) over t in [k, n).
	lag [arOrder + 1]float64
	// cross[d][e] is the sum of y_(i+d) y_(i+e), and tdot[d] that of i
	// y_(i+d), over the filtered series' times i in [0, n-arOrder).
	cross [arOrder + 1][arOrder + 1]float64
	tdot  [arOrder + 1]float64

	// sums holds the per-phase sums of y for period sumsP, then arOrder
	// entries wrapped around (sums[k] = sums[k-sumsP]), so that a phase
	// shifted by up to arOrder needs no modulo.
	sums  []float64
	sumsP int
	fsum  []float64 // per-phase sums of the filtered series
	off   []float64 // per-phase offsets of the latest fit (see offsets)
	cache map[int]fitted
	nests map[[2]int]float64
}

// score is the evidence for one period.
type score struct {
	// z is the F statistic of the phase means (given the trend) as a
	// standard normal score.
	z float64
	// aic is Akaike's criterion of the Gaussian likelihood, conditional on
	// the first arOrder samples, of the seasonal model with AR errors:
	// n log(RSS/n) + 2(p+1+arOrder). The AR filter has unit Jacobian, so
	// it compares periods whose errors were whitened differently.
	aic float64
}

// fitted is what scoring a period computes that nested tests reuse.
type fitted struct {
	score
	phi [arOrder]float64 // the errors' autoregression
	rss float64          // residual sum of squares of the filtered model
}

// newAnova returns an anova of y for the periods up to maxP.
func newAnova(y []float64, maxP int) *anova {
	a := new(anova)
	a.reset(y, maxP)
	return a
}

// reset readies a for the periods up to maxP of y, reusing its buffers.
func (a *anova) reset(y []float64, maxP int) {
	const m = arOrder
	a.y = y
	a.sums, a.sumsP = grow(a.sums, maxP+m), 0
	a.fsum, a.off = grow(a.fsum, maxP), grow(a.off, maxP+m)
	if a.cache == nil {
		a.cache, a.nests = map[int]fitted{}, map[[2]int]float64{}
	}
	clear(a.cache)
	clear(a.nests)
	a.moments()
}

// score returns the memoised evidence for period p.
func (a *anova) score(p int) score {
	return a.fitted(p).score
}

// fitted returns the memoised fit of period p.
func (a *anova) fitted(p int) fitted {
	if f, ok := a.cache[p]; ok {
		return f
	}
	phi := a.ar(p)
	rss, rss0 := a.rss(p, &phi)
	n := float64(len(a.y) - arOrder)
	s := score{
		z:   fz(rss0-rss, rss, float64(p-1), n-float64(p)-1),
		aic: n*math.Log(math.Max(rss, 1e-24*rss0)/n) + 2*float64(p+1+arOrder),
	}
	if !(rss0 > 0) {
		s.aic = math.Inf(1)
	}
	f := fitted{score: s, phi: phi, rss: rss}
	a.cache[p] = f
	return f
}

// nested returns the z-score of the F statistic of period p (a multiple of
// q) against period q, with the errors' autoregression of the larger model.
func (a *anova) nested(q, p int) float64 {
	key := [2]int{q, p}
	if z, ok := a.nests[key]; ok {
		return z
	}
	fp := a.fitted(p)
	rq, _ := a.rss(q, &fp.phi)
	n := float64(len(a.y) - arOrder)
	z := fz(rq-fp.rss, fp.rss, float64(p-q), n-float64(p)-1)
	a.nests[key] = z
	return z
}

// ar returns the Yule-Walker AR(arOrder) coefficients (Levinson-Durbin
// recursion) of the residual of y's period-p model: the autoregression of
// its errors.
func (a *anova) ar(p int) [arOrder]float64 {
	var phi [arOrder]float64
	r := a.autocov(p)
	// A residual at the level of rounding has nothing to whiten, and an
	// autoregression fitted to it can cancel the season itself.
	if r[0] > a.exactLimit(p) {
		levinson(r[:], phi[:])
	}
	return phi
}

// levinson solves the Yule-Walker equations of autocovariances r[0..m]
// for the AR(m) coefficients phi[0..m-1] (phi[k-1] multiplies lag k); the
// fitted autoregression is stationary.
func levinson(r, phi []float64) {
	m := len(phi)
	clear(phi)
	if !(r[0] > 0) {
		return
	}
	var prev [arOrder]float64
	e := r[0]
	for k := 1; k <= m; k++ {
		acc := r[k]
		for i := 1; i < k; i++ {
			acc -= phi[i-1] * r[k-i]
		}
		refl := acc / e
		copy(prev[:k-1], phi[:k-1])
		phi[k-1] = refl
		for i := 1; i < k; i++ {
			phi[i-1] = prev[i-1] - refl*prev[k-i-1]
		}
		e *= 1 - refl*refl
		if !(e > 0) {
			return
		}
	}
}

// fz converts F = (explained/d1)/(resid/d2) to a standard normal score with
// the Wilson-Hilferty cube-root approximation (Johnson, Kotz & Balakrishnan,
// Continuous Univariate Distributions 2, ch. 27), accurate in the tails and
// free of underflowing p-values.
func fz(explained, resid, d1, d2 float64) float64 {
	if d1 <= 0 || d2 <= 0 || !(explained > 0) {
		return math.Inf(-1)
	}
	if !(resid > 1e-300) {
		return math.Inf(1)
	}
	f := (explained / d1) / (resid / d2)
	a, b := 2/(9*d1), 2/(9*d2)
	c := math.Cbrt(f)
	return ((1-b)*c - (1 - a)) / math.Sqrt(a+c*c*b)
}
