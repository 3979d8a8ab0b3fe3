package season

import "math"

// anova scores seasonal periods on one series: for period p, the analysis
// of covariance of the model y_t = s_(t mod p) + b t + e_t (phase means
// and a common linear trend) on the series filtered by the autoregression
// of the model's residual, a generalised least squares step in the manner
// of Cochrane-Orcutt. Fitting the trend with the season matters over few
// cycles, where a trend fitted alone absorbs part of the season. Buffers
// are reused and scores memoised.
type anova struct {
	y     []float64
	tss   float64   // sum of squares of y, which is detrended
	qd    []float64 // AR-filtered series
	mean  []float64 // per-phase means of the values
	tmean []float64 // per-phase means of the time index
	cnt   []float64 // per-phase counts
	st    []float64 // per-phase sums of t*t, then of t*v
	coef  []float64 // AR coefficients of the errors
	cache map[int]score
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

func newAnova(y []float64, maxP int) *anova {
	var tss float64
	for _, v := range y {
		tss += v * v
	}
	return &anova{
		y:     y,
		tss:   tss,
		qd:    make([]float64, len(y)),
		mean:  make([]float64, maxP),
		tmean: make([]float64, maxP),
		cnt:   make([]float64, maxP),
		st:    make([]float64, 2*maxP),
		coef:  make([]float64, arOrder),
		cache: map[int]score{},
	}
}

// score returns the memoised evidence for period p.
func (a *anova) score(p int) score {
	if s, ok := a.cache[p]; ok {
		return s
	}
	rss, rss0 := a.rss(p, a.ar(p))
	n := float64(len(a.y) - arOrder)
	s := score{
		z:   fz(rss0-rss, rss, float64(p-1), n-float64(p)-1),
		aic: n*math.Log(math.Max(rss, 1e-24*rss0)/n) + 2*float64(p+1+arOrder),
	}
	if !(rss0 > 0) {
		s.aic = math.Inf(1)
	}
	a.cache[p] = s
	return s
}

// fit fits v_i = s_((i+shift) mod p) + b i by least squares (phase means
// plus the pooled within-phase slope): it fills a.mean and a.tmean and
// returns b. The residual of sample i, phase j, is v_i - a.mean[j] -
// b (i - a.tmean[j]).
func (a *anova) fit(v []float64, p, shift int) float64 {
	mean, tmean, cnt := a.mean[:p], a.tmean[:p], a.cnt[:p]
	stt, stv := a.st[:p], a.st[p:2*p]
	clear(mean)
	clear(tmean)
	clear(cnt)
	clear(stt)
	clear(stv)
	j := shift % p
	for i, x := range v {
		t := float64(i)
		mean[j] += x
		tmean[j] += t
		cnt[j]++
		stt[j] += t * t
		stv[j] += t * x
		if j++; j == p {
			j = 0
		}
	}
	var sxx, sxy float64
	for j := range mean {
		c := cnt[j]
		if c == 0 {
			continue
		}
		mean[j] /= c
		tmean[j] /= c
		sxx += stt[j] - c*tmean[j]*tmean[j]
		sxy += stv[j] - c*tmean[j]*mean[j]
	}
	if !(sxx > 0) {
		return 0
	}
	return sxy / sxx
}

// ar fills a.coef with the Yule-Walker AR(arOrder) coefficients
// (Levinson-Durbin recursion) of the residual of y's period-p model: the
// autoregression of its errors.
func (a *anova) ar(p int) []float64 {
	b := a.fit(a.y, p, 0)
	var r [arOrder + 1]float64
	var u1, u2, u3, u4 float64 // u_(t-1) .. u_(t-4)
	mean, tmean := a.mean[:p], a.tmean[:p]
	j := 0
	for i, x := range a.y {
		u := x - mean[j] - b*(float64(i)-tmean[j])
		r[0] += u * u
		r[1] += u * u1
		r[2] += u * u2
		r[3] += u * u3
		r[4] += u * u4
		u1, u2, u3, u4 = u, u1, u2, u3
		if j++; j == p {
			j = 0
		}
	}
	// A residual at the level of rounding has nothing to whiten, and an
	// autoregression fitted to it can cancel the season itself.
	if !(r[0] > a.exactLimit(p)) {
		clear(a.coef)
		return a.coef
	}
	levinson(r[:], a.coef)
	return a.coef
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

// rss filters y into z_t = y_t - sum_k phi_k y_(t-k), t >= arOrder, and
// returns the residual sums of squares of z's period-p model (phase means
// and trend) and of its trend-only model. With the season s filtered too,
// c_j = s_j - sum_k phi_k s_(j-k), the model keeps p free means and a
// trend, so this is an ordinary analysis of covariance.
func (a *anova) rss(p int, phi []float64) (rss, rss0 float64) {
	const m = arOrder
	qd := a.qd[:len(a.y)-m]
	var st, stt, sv, stv float64
	for i := range qd {
		t := i + m
		v := a.y[t] - phi[0]*a.y[t-1] - phi[1]*a.y[t-2] - phi[2]*a.y[t-3] - phi[3]*a.y[t-4]
		qd[i] = v
		ti := float64(i)
		st += ti
		stt += ti * ti
		sv += v
		stv += ti * v
	}
	b := a.fit(qd, p, m)
	mean, tmean := a.mean[:p], a.tmean[:p]
	nf := float64(len(qd))
	tm, vm := st/nf, sv/nf
	var svv float64
	j := m % p
	for i, v := range qd {
		r := v - mean[j] - b*(float64(i)-tmean[j])
		rss += r * r
		svv += (v - vm) * (v - vm)
		if j++; j == p {
			j = 0
		}
	}
	sxx, sxy := stt-nf*tm*tm, stv-nf*tm*vm
	rss0 = svv
	if sxx > 0 {
		rss0 -= sxy * sxy / sxx
	}
	return rss, rss0
}

// nested returns the z-score of the F statistic of period p (a multiple of
// q) against period q, with the errors' autoregression of the larger model.
func (a *anova) nested(q, p int) float64 {
	phi := a.ar(p)
	rq, _ := a.rss(q, phi)
	rp, _ := a.rss(p, phi)
	n := float64(len(a.y) - arOrder)
	return fz(rq-rp, rp, float64(p-q), n-float64(p)-1)
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

// fundamental walks from period p to the season it is a multiple or a
// harmonic of: down to p/f for a prime factor f when p adds nothing
// significant beyond p/f (nested F test), up to a multiple m*p when that
// adds significantly. Prime steps reach every divisor through multiples of
// it, so they suffice.
func (a *anova) fundamental(p, maxP int) int {
	for range 32 {
		moved := false
		for f := 2; f <= p/2 && !moved; f++ {
			if p%f == 0 && isPrime(f) && a.score(p/f).z >= zSeason && a.nested(p/f, p) < zNested {
				p, moved = p/f, true
			}
		}
		for m := 2; m <= maxMultiple && m*p <= maxP && !moved; m++ {
			if a.nested(p, m*p) >= zNested {
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
