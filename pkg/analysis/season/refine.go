package season

import "math"

// fundamental walks from period p to the season it is a multiple or a
// harmonic of: down to p/f for a prime factor f when p adds nothing
// significant beyond p/f (nested F test) or nothing that recurs, up to a
// multiple m*p when that adds significantly and what it adds recurs
// beyond chance in its cycles (addsRecurring). Prime steps reach every divisor through multiples of
// it, so they suffice.
func (a *anova) fundamental(p, maxP int) int {
	for range 32 {
		moved := false
		for f := 2; f <= p/2 && !moved; f++ {
			if p%f == 0 && isPrime(f) && a.score(p/f).z >= zSeason &&
				(a.nested(p/f, p) < zNested || !addsRecurring(a, p/f, p, false)) {
				p, moved = p/f, true
			}
		}
		for m := 2; m <= maxMultiple && m*p <= maxP && !moved; m++ {
			// What the multiple adds must recur too: bursts that vary in
			// height make a multiple fit better without being its season.
			if a.nested(p, m*p) >= zNested && addsRecurring(a, p, m*p, true) {
				p, moved = m*p, true
			}
		}
		if !moved {
			break
		}
	}
	return p
}

// roundest returns, among the significant periods near p whose AIC is
// within the noise of the lowest nearby, the one with the most divisors
// (ties to the lower AIC). A season seen over few cycles cannot be located
// to the sample, and clocks make a round period (an hour at 5 s is 720
// samples) far more likely than its neighbours. Two fits of about p phase
// means to the same noise differ in AIC with a standard deviation of about
// 2 sqrt(p) n/(n-p) (the difference of two independent chi-squares with p
// degrees of freedom, relative to the residual degrees of freedom); within
// aicTie such deviations of the lowest, periods count as tied. The
// neighbourhood is about the resolution of the period, p^2/(4n) samples, at
// most p/8.
func (a *anova) roundest(p, maxP int) int {
	n := len(a.y)
	w := max(1, min(p/8, p*p/(4*n)))
	nf := float64(n - arOrder)
	margin := aicTie * 2 * math.Sqrt(float64(p)) * nf / (nf - float64(p))
	low := a.score(p).aic
	tied := func(s score) bool { return s.z >= zSeason && s.aic <= low+margin }
	// Scan outwards and stop a side after three periods in a row out of
	// the tie: a season seen over many cycles has a sharp optimum.
	lo, hi := p, p
	for _, side := range []int{-1, 1} {
		misses := 0
		for q := p + side; q >= max(2, p-w) && q <= min(maxP, p+w) && misses < 3; q += side {
			s := a.score(q)
			if !tied(s) {
				misses++
				continue
			}
			misses = 0
			low = math.Min(low, s.aic)
			lo, hi = min(lo, q), max(hi, q)
		}
	}
	best, bestDiv := p, -1
	for q := lo; q <= hi; q++ {
		s := a.score(q)
		if !tied(s) {
			continue
		}
		d := divisors(q)
		if d > bestDiv || (d == bestDiv && s.aic < a.score(best).aic) {
			best, bestDiv = q, d
		}
	}
	return best
}

// divisors counts the divisors of p.
func divisors(p int) int {
	c := 0
	for d := 1; d*d <= p; d++ {
		if p%d == 0 {
			c += 2
			if d*d == p {
				c--
			}
		}
	}
	return c
}

func isPrime(k int) bool {
	if k < 2 {
		return false
	}
	for d := 2; d*d <= k; d++ {
		if k%d == 0 {
			return false
		}
	}
	return true
}

// addsRecurring reports whether what period q (a multiple of p) adds to p
// recurs in q's cycles: as recurs says, or when strict beyond chance
// alone, without recurs' exception for all cycles agreeing (few cycles of
// bursts of varying heights all agree by chance). Keeping a longer period
// needs the first; moving up to one, the second.
func addsRecurring(a *anova, p, q int, strict bool) bool {
	white := a.whitened(q)
	cycles := len(white) / q
	share := agreement(white, q, p)
	if !strict {
		return recurs(share, cycles)
	}
	k := int(math.Round(share * float64(cycles)))
	return share >= minAgreement && binomialTail(cycles, k) <= chanceLevel
}
