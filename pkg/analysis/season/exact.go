package season

import "math"

// exactTol is the share of the variance of the detrended series (both per
// degree of freedom) that a period's model may leave unexplained and still
// count as an exact fit. The statistical tests need noise to measure a
// season against: when the residual is rounding, exactly zero or periodic
// itself (a noiseless season, or one whose noise is below the precision of
// its level, so that its values repeat), the AR filter fitted to it can
// cancel the season, F statistics become ratios of rounding errors and
// every multiple of the season looks as significant as the season. Such a
// series is periodic beyond doubt, and its season is the shortest period
// that fits it. Rounding leaves about 1e-15 of the variance of a season
// 1e-9 of its level; Gaussian noise of 1e-4 of the season's amplitude and
// more, which the tests handle, leaves more.
const exactTol = 1e-8

// exactPeriod returns the shortest period p in [2, maxP] whose model
// (phase means and a common trend) leaves a residual variance (per degree
// of freedom) at most exactTol times y's, or ok=false when none does. The
// shorter periods, its divisors included, have been tried and do not fit,
// so p is the fundamental. Near the tolerance, noise can let a multiple
// pass where its fundamental just fails; so p then moves to its smallest
// divisor that fits it as well, by the F test of the divisor's phase means
// against p's on the unfiltered series (at this level of noise, whitening
// has nothing to do).
//
// A residual sum of squares rss bounds every residual by sqrt(rss), and
// y_(t+p) - y_t = b p + r_(t+p) - r_t, so an exact fit needs every lag-p
// difference within 4 sqrt(rss) of every other, and likewise every first
// difference within 4 sqrt(rss) of the one p samples away. Checking the
// latter first at the anchors, the largest first differences, rejects
// almost every period in a few steps, even on a series constant over long
// stretches, so scanning every period costs about O(maxP); only periods
// that pass are checked in full and fitted.
//
// tmp is scratch of len(a.y) samples at least.
func (a *anova) exactPeriod(maxP int, tmp []float64) (int, bool) {
	y := a.y
	n := len(y)
	if !(a.tss > 0) {
		return 0, false
	}
	dy := tmp[:n-1]
	for i := range dy {
		dy[i] = y[i+1] - y[i]
	}
	at := anchors(dy)
	for p := 2; p <= maxP; p++ {
		df := float64(n - p - 1)
		if df < 1 {
			break
		}
		limit := a.exactLimit(p)
		spread := 4 * math.Sqrt(limit)
		if !repeats(dy, at, p, 0, spread) || !repeats(y, nil, p, y[p]-y[0], spread) {
			continue
		}
		rp := a.rawRSS(p)
		if rp > limit {
			continue
		}
		for d := 2; d < p; d++ {
			if p%d == 0 && fz(a.rawRSS(d)-rp, rp, float64(p-d), df) < zNested {
				return d, true
			}
		}
		return p, true
	}
	return 0, false
}

// exactLimit is the largest residual sum of squares of the period-p model
// that counts as an exact fit: exactTol times the variance of y per degree
// of freedom, times the model's residual degrees of freedom.
func (a *anova) exactLimit(p int) float64 {
	n := len(a.y)
	return exactTol * a.tss / float64(n-2) * float64(n-p-1)
}

// numAnchors is how many of the largest first differences screen a period.
const numAnchors = 8

// anchors returns the indices of the numAnchors largest |v[i]|.
func anchors(v []float64) []int {
	if len(v) <= numAnchors {
		at := make([]int, len(v))
		for i := range at {
			at[i] = i
		}
		return at
	}
	// The numAnchors largest magnitudes, in decreasing order: after the
	// first few, a sample rarely enters them, so the branch is predicted.
	var top [numAnchors]float64
	for i := range top {
		top[i] = math.Inf(-1)
	}
	for _, x := range v {
		a := math.Abs(x)
		if a <= top[numAnchors-1] {
			continue
		}
		i := numAnchors - 1
		for ; i > 0 && top[i-1] < a; i-- {
			top[i] = top[i-1]
		}
		top[i] = a
	}
	cut := top[numAnchors-1] // the numAnchors-th largest |v|
	at := make([]int, 0, numAnchors)
	for i, x := range v {
		if math.Abs(x) >= cut && len(at) < numAnchors {
			at = append(at, i)
		}
	}
	return at
}

// repeats reports whether v[i+p] - v[i] stays within spread of ref: over
// the listed indices i (or their partners p before, near the end), or over
// every i when at is nil.
func repeats(v []float64, at []int, p int, ref, spread float64) bool {
	m := len(v) - p
	if at == nil {
		for i := range m {
			if math.Abs(v[i+p]-v[i]-ref) > spread {
				return false
			}
		}
		return true
	}
	for _, i := range at {
		switch {
		case i < m:
		case i >= p:
			i -= p
		default:
			continue
		}
		if math.Abs(v[i+p]-v[i]-ref) > spread {
			return false
		}
	}
	return true
}
