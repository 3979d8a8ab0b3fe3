package season

// The residual sums of squares sample by sample, for fits too close to
// exact for the differences of moments.go (see cancelLimit).

// autocovPass returns the autocovariances (sums of lagged products, lags 0
// to arOrder) of the residual of y's period-p model whose offsets
// phaseFit.offsets left in a.off and whose slope is b.
func (a *anova) autocovPass(p int, b float64) [arOrder + 1]float64 {
	off := a.off[:p]
	// Scalars, not an array: the compiler keeps them in registers.
	var r0, r1, r2, r3, r4 float64
	var u1, u2, u3, u4 float64 // u_(t-1) .. u_(t-4)
	var t float64
	for y := a.y; len(y) > 0; {
		seg := y[:min(p, len(y))]
		o := off[:len(seg)]
		for k, x := range seg {
			u := x - o[k] - b*t
			r0 += u * u
			r1 += u * u1
			r2 += u * u2
			r3 += u * u3
			r4 += u * u4
			u1, u2, u3, u4 = u, u1, u2, u3
			t++
		}
		y = y[len(seg):]
	}
	return [arOrder + 1]float64{r0, r1, r2, r3, r4}
}

// rssPass returns the residual sums of squares of rss, filtering y with
// phi on the fly, for the fit of the filtered series (mean zm) whose
// offsets phaseFit.offsets left in a.off and whose slope is b.
func (a *anova) rssPass(p int, phi *[arOrder]float64, b, zm float64) (rss, rss0 float64) {
	const m = arOrder
	y := a.y
	n := len(y) - m
	off := a.off[:p]
	p0, p1, p2, p3 := phi[0], phi[1], phi[2], phi[3]
	tm := float64(n-1) / 2
	var szz, stz, t float64
	for i := 0; i < n; i += p {
		w := min(p, n-i)
		y0, y1, y2, y3, y4 := y[i+4:i+4+w], y[i+3:i+3+w], y[i+2:i+2+w], y[i+1:i+1+w], y[i:i+w]
		o := off[:w]
		for k := range o {
			v := y0[k] - p0*y1[k] - p1*y2[k] - p2*y3[k] - p3*y4[k]
			r := v - o[k] - b*t
			rss += r * r
			szz += (v - zm) * (v - zm)
			stz += (t - tm) * (v - zm)
			t++
		}
	}
	// The trend-only model: the sum of squares of t about its mean is
	// n (n^2 - 1)/12.
	nf := float64(n)
	rss0 = szz
	if sxx := nf * (nf*nf - 1) / 12; sxx > 0 {
		rss0 -= stz * stz / sxx
	}
	return rss, rss0
}
