package season

import "math"

// Evidence a season needs beyond significance. The F test of the phase
// means sees one-off events as well as seasons: a spike or a burst that
// happened once, or a level shift, moves a few phase means far enough to
// pass it, and a season whose bursts vary in height makes twice its period
// fit better than the period itself. A season recurs: most cycles look
// like the others.
const (
	// minCycles is the fewest full cycles the series must hold for a
	// period to be considered.
	minCycles = 4
	// minAgreement is the share of cycles that must agree with the season
	// of the others.
	minAgreement = 0.75
	// chanceLevel bounds the probability that as many cycles agree by
	// chance, as many agreeing as not being expected of noise: a season
	// needs it or every one of its cycles agreeing; a multiple of a
	// season needs it (seven cycles or more).
	chanceLevel = 0.01
)

// recurs reports whether the agreement of cycles of a season is beyond
// chance: at least minAgreement of them, and either all of them or a
// share that fair coin flips reach with probability at most chanceLevel.
func recurs(share float64, cycles int) bool {
	if share < minAgreement {
		return false
	}
	k := int(math.Round(share * float64(cycles)))
	return k == cycles || binomialTail(cycles, k) <= chanceLevel
}

// binomialTail is the probability of k or more heads in n fair coin flips.
func binomialTail(n, k int) float64 {
	var p float64
	for j := k; j <= n; j++ {
		lg, _ := math.Lgamma(float64(n + 1))
		lj, _ := math.Lgamma(float64(j + 1))
		lr, _ := math.Lgamma(float64(n - j + 1))
		p += math.Exp(lg - lj - lr - float64(n)*math.Ln2)
	}
	return p
}

// agreement returns the share of the full cycles of period p in y whose
// samples correlate positively with the mean profile of the other cycles
// (leave-one-out), after the mean profile of period base is removed from
// y when base > 0 (base divides p). With base 0 it asks whether a season
// of period p recurs; with base q it asks whether what period p adds to q
// recurs, which a multiple of a season whose cycles merely vary in height
// does not. A cycle whose samples (or the others' profile) do not vary
// does not agree. It returns 0 for fewer than two cycles.
func agreement(y []float64, p, base int) float64 {
	cycles := len(y) / p
	if cycles < 2 {
		return 0
	}
	n := cycles * p
	r := make([]float64, n)
	copy(r, y[:n])
	if base > 0 {
		removeProfile(r, base)
	}
	sum := make([]float64, p)
	for i, v := range r {
		sum[i%p] += v
	}
	agree := 0
	other := make([]float64, p)
	for c := range cycles {
		cyc := r[c*p : (c+1)*p]
		for j := range p {
			other[j] = (sum[j] - cyc[j]) / float64(cycles-1)
		}
		if correlation(cyc, other) > 0 {
			agree++
		}
	}
	return float64(agree) / float64(cycles)
}

// whitened returns y filtered by the autoregression of the errors of
// period p's seasonal model (as the F test whitens it), so that the
// agreement of cycles is not that of slow wanderings: a few cycles of a
// random walk are smooth curves that correlate by chance. A season keeps
// its shape through the filter, as a linear filter of a periodic signal
// is periodic.
func (a *anova) whitened(p int) []float64 {
	phi := a.fitted(p).phi
	y := a.y
	out := make([]float64, len(y)-arOrder)
	for i := range out {
		t := i + arOrder
		v := y[t]
		for k, c := range phi {
			v -= c * y[t-k-1]
		}
		out[i] = v
	}
	return out
}

// removeProfile subtracts from r the mean of each phase of period p.
func removeProfile(r []float64, p int) {
	mean := make([]float64, p)
	count := make([]int, p)
	for i, v := range r {
		mean[i%p] += v
		count[i%p]++
	}
	for j := range mean {
		mean[j] /= float64(count[j])
	}
	for i := range r {
		r[i] -= mean[i%p]
	}
}

// correlation is Pearson's correlation of a and b (equal lengths); 0 when
// either does not vary.
func correlation(a, b []float64) float64 {
	n := float64(len(a))
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma, mb = ma/n, mb/n
	var sab, saa, sbb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if !(saa > 0) || !(sbb > 0) {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}
