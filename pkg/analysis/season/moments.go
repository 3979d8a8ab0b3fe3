package season

import "math"

// cancelLimit is the smallest share of the sums of squares it is computed
// from that a residual sum of squares obtained by difference (total minus
// explained) may have. Above it, the rounding of the total (relative
// 1e-16, a little more from its n terms), amplified at most 1e4 times,
// stays near 1e-11 of the result: 3e-11 at worst against sums sample by
// sample, over 30 000 fits of the test corpora. Below it, the residual is
// summed sample by sample (passes.go): only very strong seasons, the model
// explaining 99.99 % of the variance or more, take that path.
const cancelLimit = 1e-4

// moments computes the sums of y that every period's fit combines: sum,
// sum of t y_t and of squares, lagged products and their restrictions to
// the filtered series' window.
func (a *anova) moments() {
	const m = arOrder
	y := a.y
	n := len(y)
	var sy, ty, l0, l1, l2, l3, l4 float64
	var y1, y2, y3, y4 float64 // y_(t-1) .. y_(t-4), zero before the start
	for t, v := range y {
		sy += v
		ty += float64(t) * v
		l0 += v * v
		l1 += v * y1
		l2 += v * y2
		l3 += v * y3
		l4 += v * y4
		y1, y2, y3, y4 = v, y1, y2, y3
	}
	a.sy, a.ty, a.tss = sy, ty, l0
	a.lag = [m + 1]float64{l0, l1, l2, l3, l4}
	a.cross, a.tdot = [m + 1][m + 1]float64{}, [m + 1]float64{}
	w := n - m // the filtered series' length
	if w <= 0 {
		return
	}
	// The window of y_(i+d), i in [0, w), is [d, w+d): the full sums less
	// the few samples outside it, the first d and the last m-d.
	for d := range m + 1 {
		s, st := sy, ty
		for _, t := range edges(0, n, d, w+d) {
			s -= y[t]
			st -= float64(t) * y[t]
		}
		a.tdot[d] = st - float64(d)*s
		for e := d; e <= m; e++ {
			// y_(i+e) y_(i+d) is the lag-g product at t = i+e in [e, w+e).
			g := e - d
			c := a.lag[g]
			for _, t := range edges(g, n, e, w+e) {
				c -= y[t] * y[t-g]
			}
			a.cross[d][e], a.cross[e][d] = c, c
		}
	}
}

// edges returns the integers of [lo, hi) outside [in, out), at most
// 2 arOrder of them, in an array: no allocation.
func edges(lo, hi, in, out int) []int {
	var at [2 * arOrder]int
	k := 0
	for t := lo; t < min(in, hi); t++ {
		at[k], k = t, k+1
	}
	for t := max(out, lo); t < hi; t++ {
		at[k], k = t, k+1
	}
	return at[:k]
}

// phaseSums returns the per-phase sums of y for period p (phase t mod p),
// followed by arOrder entries wrapped around.
func (a *anova) phaseSums(p int) []float64 {
	ext := a.sums[:p+arOrder]
	if a.sumsP == p {
		return ext
	}
	s := ext[:p]
	clear(s)
	y := a.y
	// Four cycles at a time: a quarter of the read-modify-writes of s,
	// whose latency bounds the loop when p is short.
	for ; len(y) >= 4*p; y = y[4*p:] {
		y0, y1, y2, y3 := y[:p], y[p:2*p], y[2*p:3*p], y[3*p:4*p]
		for k := range s {
			s[k] += (y0[k] + y1[k]) + (y2[k] + y3[k])
		}
	}
	for len(y) > 0 {
		seg := y[:min(p, len(y))]
		s := s[:len(seg)]
		for k, v := range seg {
			s[k] += v
		}
		y = y[len(seg):]
	}
	for k := p; k < len(ext); k++ {
		ext[k] = ext[k-p]
	}
	a.sumsP = p
	return ext
}

// phaseRun is a range of phases [lo, hi) holding c samples each.
type phaseRun struct{ lo, hi, c int }

// runs splits the p phases of n samples 0..n-1 (phase i mod p) by their
// number of samples: the first n mod p phases hold one more. Phase k's
// samples k, k+p, ... have times of mean k + p (c-1)/2.
func runs(p, n int) [2]phaseRun {
	q, r := n/p, n%p
	return [2]phaseRun{{0, r, q + 1}, {r, p, q}}
}

// phaseFit is the least-squares fit of v_i = s_(i mod p) + b i to n
// samples i = 0..n-1 (phase means plus the pooled within-phase slope),
// from the per-phase sums of v. The times are known: phase k's c samples
// k, k+p, ... have the mean time k + p (c-1)/2 and a sum of squared
// deviations about it of p^2 (c^3 - c)/12, so only v is summed.
type phaseFit struct {
	n, p     int
	b        float64
	sxy, sxx float64 // within-phase sums of (t - mean)(v - mean) and (t - mean)^2
	between  float64 // sum over phases of sum^2/count
}

// fitSums fits the n samples of v whose per-phase sums are sum (p =
// len(sum)) and whose sum of i v_i is stv.
func fitSums(sum []float64, n int, stv float64) phaseFit {
	p := len(sum)
	f := phaseFit{n: n, p: p}
	// Local accumulators: the compiler keeps them in registers, not the
	// struct's fields.
	var mix, between float64 // sums over phases of mean time times sum, of sum^2/count
	for _, r := range runs(p, n) {
		if r.c == 0 {
			continue
		}
		// Phase lo+i has the mean time lo + h + i.
		h, inv := float64(r.lo)+float64(p*(r.c-1))/2, 1/float64(r.c)
		seg := sum[r.lo:r.hi]
		// Two sums of each, even and odd phases, halve the chains of
		// dependent additions.
		var rm0, rm1, rb0, rb1 float64
		i := 0
		for ; i+1 < len(seg); i += 2 {
			s0, s1 := seg[i], seg[i+1]
			rm0 += (float64(i) + h) * s0
			rm1 += (float64(i+1) + h) * s1
			rb0 += s0 * s0
			rb1 += s1 * s1
		}
		if i < len(seg) {
			s0 := seg[i]
			rm0 += (float64(i) + h) * s0
			rb0 += s0 * s0
		}
		mix += rm0 + rm1
		between += (rb0 + rb1) * inv
		c := float64(r.c)
		f.sxx += float64(r.hi-r.lo) * float64(p) * float64(p) * (c - 1) * c * (c + 1) / 12
	}
	f.between, f.sxy = between, stv-mix
	if f.sxx > 0 {
		f.b = f.sxy / f.sxx
	}
	return f
}

// explained is the sum of squares (about zero) the fit explains: the
// residual sum of squares is the sum of v_i^2 less it.
func (f phaseFit) explained() float64 { return f.between + f.b*f.sxy }

// offsets sets off[k] to the fitted s_k, k < p, from the per-phase sums,
// and wraps arOrder more entries around (off[p+i] = off[i mod p]): the
// residual of sample i is v_i - off[i mod p] - b i.
func (f phaseFit) offsets(sum, off []float64) {
	p := f.p
	for _, r := range runs(p, f.n) {
		o := off[r.lo:r.hi]
		if r.c == 0 {
			clear(o)
			continue
		}
		h, inv := float64(r.lo)+float64(p*(r.c-1))/2, 1/float64(r.c)
		b := f.b
		for i, s := range sum[r.lo:r.hi] {
			o[i] = s*inv - b*(float64(i)+h)
		}
	}
	for i := range arOrder {
		off[p+i] = off[i%p]
	}
}

// autocov returns the autocovariances (sums of lagged products, lags 0 to
// arOrder) of the residual u of y's period-p model. With g_t = s_(t mod
// p) + b t the fitted values, extended to any t, the lag-k sum over t in
// [k, n) of (y_t - g_t)(y_(t-k) - g_(t-k)) is y's lagged product less the
// full sums of y_t g_(t-k) and y_t g_(t+k) plus that of g_t g_(t-k), less
// the few products outside [k, n). Those full sums are sums over phases;
// by the normal equations (c_j s_j = S_j - b T_j, with S_j and T_j the
// phase's sums of y and of t), what remains of them is the sum over
// phases j of S_j s_(j+k), and terms in b.
func (a *anova) autocov(p int) [arOrder + 1]float64 {
	const m = arOrder
	y, n := a.y, len(a.y)
	s := a.phaseSums(p)[:p]
	f := fitSums(s, n, a.ty)
	off := a.off[:p+m]
	f.offsets(s, off)
	b := f.b
	var d0, d1, d2, d3, d4 float64
	for j, sj := range s {
		o := off[j : j+m+1]
		d0 += sj * o[0]
		d1 += sj * o[1]
		d2 += sj * o[2]
		d3 += sj * o[3]
		d4 += sj * o[4]
	}
	d := [m + 1]float64{d0, d1, d2, d3, d4}
	nf := float64(n)
	st, stt := nf*(nf-1)/2, (nf-1)*nf*(2*nf-1)/6
	// The sums over t of s_(t mod p) and of t s_(t mod p).
	sOff := a.sy - b*st
	tOff := a.ty - f.sxy - b*(stt-f.sxx)
	g := func(t int) float64 { return off[(t%p+p)%p] + b*float64(t) }
	var r [m + 1]float64
	for k := range r {
		kf := float64(k)
		rk := a.lag[k] - d[k] - 2*b*a.ty + b*(tOff-kf*sOff) + b*b*(stt-kf*st)
		for t := range k {
			rk += y[t]*g(t-k) + y[n-1-t]*g(n-1-t+k) - g(t)*g(t-k)
		}
		r[k] = rk
	}
	if r[0] >= cancelLimit*a.tss {
		return r
	}
	return a.autocovPass(p, b)
}

// rawRSS returns the residual sum of squares of y's period-p model (phase
// means and a common trend), unfiltered.
func (a *anova) rawRSS(p int) float64 {
	s := a.phaseSums(p)[:p]
	f := fitSums(s, len(a.y), a.ty)
	if rss := a.tss - f.explained(); rss >= cancelLimit*a.tss {
		return rss
	}
	f.offsets(s, a.off)
	return a.autocovPass(p, f.b)[0]
}

// rss filters y into z_i = y_(i+m) - sum_k phi_k y_(i+m-k), m = arOrder,
// and returns the residual sums of squares of z's period-p model (phase
// means and trend) and of its trend-only model. With the season s filtered
// too, c_j = s_j - sum_k phi_k s_(j-k), the model keeps p free means and a
// trend, so this is an ordinary analysis of covariance. The sum of squares
// of z is a quadratic form in y's cross products, and its per-phase sums
// combine those of y.
func (a *anova) rss(p int, phi *[arOrder]float64) (rss, rss0 float64) {
	const m = arOrder
	n := len(a.y) - m
	w := [m + 1]float64{-phi[3], -phi[2], -phi[1], -phi[0], 1} // z_i = sum_d w_d y_(i+d)
	fs, sz, stz := a.filteredSums(p, &w)
	f := fitSums(fs, n, stz)
	var zz, scale float64
	for d, wd := range w {
		for e, we := range w {
			zz += wd * we * a.cross[d][e]
		}
		scale += math.Abs(wd) * math.Sqrt(a.cross[d][d])
	}
	nf := float64(n)
	sxx0, sxy0 := nf*(nf*nf-1)/12, stz-(nf-1)/2*sz
	rss, rss0 = zz-f.explained(), zz-sz*sz/nf
	if sxx0 > 0 {
		rss0 -= sxy0 * sxy0 / sxx0
	}
	// scale^2 bounds the sum of the magnitudes of zz's terms.
	if rss >= cancelLimit*scale*scale {
		return rss, rss0
	}
	f.offsets(fs, a.off)
	return a.rssPass(p, phi, f.b, sz/nf)
}

// filteredSums returns the per-phase sums (phase i mod p) of the filtered
// series z_i = sum_d w_d y_(i+d), i in [0, n-arOrder), with their total
// and the sum of i z_i. Phase k of z gathers phase k+d of y through its
// lag term d, less the samples of y outside that term's window.
func (a *anova) filteredSums(p int, w *[arOrder + 1]float64) (fs []float64, sz, stz float64) {
	const m = arOrder
	y := a.y
	n := len(y)
	sum := a.phaseSums(p)
	fs = a.fsum[:p]
	w0, w1, w2, w3, w4 := w[0], w[1], w[2], w[3], w[4] // not reloaded after each store
	for k := range fs {
		s := sum[k : k+m+1]
		v := w4*s[4] + w3*s[3] + w2*s[2] + w1*s[1] + w0*s[0]
		fs[k] = v
		sz += v
	}
	for d, wd := range w {
		for t := range d {
			fs[((t-d)%p+p)%p] -= wd * y[t]
			sz -= wd * y[t]
		}
		for t := n - m + d; t < n; t++ {
			fs[(t-d)%p] -= wd * y[t]
			sz -= wd * y[t]
		}
		stz += wd * a.tdot[d]
	}
	return fs, sz, stz
}
