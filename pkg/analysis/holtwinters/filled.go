package holtwinters

// The objective runs the recursion of sse some hundred times per forecast,
// and its cost is the latency of the loop-carried state update more than
// the arithmetic. On a gap-free series the level and trend are a linear map
// of their previous values plus a term in the input v_t = y_t - s_(t-m):
//
//	(l_t, b_t) = A (l_(t-1), b_(t-1)) + c v_t,
//	A = [[1-alpha, (1-alpha) phi], [-beta, phi (1-beta)]],  c = (alpha, beta)
//
// (from l_t = (1-alpha) u + alpha v_t and b_t = phi (1-beta) b + beta (v_t -
// l) with u = l + phi b, the forms sse uses). Two steps at a time,
//
//	x_(t+1) = A^2 x_(t-1) + (A c v_t + c v_(t+1)),
//
// the state passes through one multiply and two adds per two samples (one
// multiply and one add without a trend), the input terms and the errors
// being computed beside the chain: the one-step forecast of y_(t+1) is
// w x_t = (w A) x_(t-1) + (w c) v_t with w = (1, phi). The season is read
// m >= 2 samples after it is written, so a pair of steps never reads a state
// the pair writes. The sums differ from sse's in rounding only.
//
// The code leaves fusing a*b + c to the compiler (it does at GOAMD64=v3):
// math.FMA at the default GOAMD64=v1 checks the CPU at every call, and the
// call to its software fallback makes the compiler keep the loop's values
// on the stack: 1.5 times slower loops.

// stepCoef holds A, A^2, A c, w A and w c of the two-step recursion.
type stepCoef struct {
	a00, a01, a10, a11 float64 // A
	q00, q01, q10, q11 float64 // A^2
	c0, c1             float64 // c
	d0, d1             float64 // A c
	g0, g1, gc         float64 // w A, w c
	phi, gamma         float64
}

func newStepCoef(md model, p params) stepCoef {
	phi, beta := p.phi, p.beta
	if !md.trend {
		phi, beta = 0, 0
	}
	a1 := 1 - p.alpha
	k := stepCoef{
		a00: a1, a01: a1 * phi, a10: -beta, a11: phi * (1 - beta),
		c0: p.alpha, c1: beta,
		phi: phi, gamma: p.gamma,
	}
	k.q00 = k.a00*k.a00 + k.a01*k.a10
	k.q01 = k.a00*k.a01 + k.a01*k.a11
	k.q10 = k.a10*k.a00 + k.a11*k.a10
	k.q11 = k.a10*k.a01 + k.a11*k.a11
	k.d0 = k.a00*k.c0 + k.a01*k.c1
	k.d1 = k.a10*k.c0 + k.a11*k.c1
	k.g0 = k.a00 + phi*k.a10
	k.g1 = k.a01 + phi*k.a11
	k.gc = k.c0 + phi*k.c1
	return k
}

// sseFilled is sse for a gap-free x: the same recursion from the states
// st, which it leaves at their final values, and the same sum of squared
// one-step errors up to rounding. It does not allocate.
func sseFilled(x []float64, md model, p params, st *states) float64 {
	k := newStepCoef(md, p)
	if !md.seasonal {
		if md.trend {
			return levelTrend(x, &k, st)
		}
		return level(x, &k, st)
	}
	var total float64
	s := st.season
	for j := 0; len(x) > 0; {
		// A run of phases j, j+1, ... that does not wrap around.
		n := min(len(s)-j, len(x))
		if md.trend {
			total += levelTrendSeason(x[:n], s[j:j+n], &k, st)
		} else {
			total += levelSeason(x[:n], s[j:j+n], &k, st)
		}
		x = x[n:]
		if j += n; j == len(s) {
			j = 0
		}
	}
	return total
}

// level runs ETS(A,N,N): l_t = (1-alpha) l + alpha y.
func level(x []float64, k *stepCoef, st *states) float64 {
	l := st.level
	var total float64
	i := 0
	for ; i+1 < len(x); i += 2 {
		y0, y1 := x[i], x[i+1]
		e0 := y0 - l
		e1 := y1 - (k.a00*l + k.c0*y0)
		total += e0*e0 + e1*e1
		l = k.q00*l + (k.d0*y0 + k.c0*y1)
	}
	if i < len(x) {
		e := x[i] - l
		total += e * e
		l = k.a00*l + k.c0*x[i]
	}
	st.level = l
	return total
}

// levelTrend runs ETS(A,A,N) and ETS(A,Ad,N).
func levelTrend(x []float64, k *stepCoef, st *states) float64 {
	l, b := st.level, st.trend
	var total float64
	i := 0
	for ; i+1 < len(x); i += 2 {
		y0, y1 := x[i], x[i+1]
		e0 := y0 - (l + k.phi*b)
		e1 := y1 - (k.g0*l + k.g1*b + k.gc*y0)
		total += e0*e0 + e1*e1
		in0 := k.d0*y0 + k.c0*y1
		in1 := k.d1*y0 + k.c1*y1
		l, b = k.q00*l+(k.q01*b+in0), k.q11*b+(k.q10*l+in1)
	}
	if i < len(x) {
		y := x[i]
		e := y - (l + k.phi*b)
		total += e * e
		l, b = k.a00*l+(k.a01*b+k.c0*y), k.a11*b+(k.a10*l+k.c1*y)
	}
	st.level, st.trend = l, b
	return total
}

// levelSeason runs ETS(A,N,A) over x, whose phases are those of s (no
// wrap-around).
func levelSeason(x, s []float64, k *stepCoef, st *states) float64 {
	s = s[:len(x)]
	l := st.level
	var total float64
	i := 0
	for ; i+1 < len(x); i += 2 {
		v0, v1 := x[i]-s[i], x[i+1]-s[i+1]
		e0 := v0 - l
		e1 := v1 - (k.a00*l + k.c0*v0)
		total += e0*e0 + e1*e1
		s[i] += k.gamma * e0
		s[i+1] += k.gamma * e1
		l = k.q00*l + (k.d0*v0 + k.c0*v1)
	}
	if i < len(x) {
		v := x[i] - s[i]
		e := v - l
		total += e * e
		s[i] += k.gamma * e
		l = k.a00*l + k.c0*v
	}
	st.level = l
	return total
}

// levelTrendSeason runs ETS(A,A,A) and ETS(A,Ad,A) over x, whose phases are
// those of s (no wrap-around).
func levelTrendSeason(x, s []float64, k *stepCoef, st *states) float64 {
	s = s[:len(x)]
	l, b := st.level, st.trend
	var total float64
	i := 0
	for ; i+1 < len(x); i += 2 {
		v0, v1 := x[i]-s[i], x[i+1]-s[i+1]
		e0 := v0 - (l + k.phi*b)
		e1 := v1 - (k.g0*l + k.g1*b + k.gc*v0)
		total += e0*e0 + e1*e1
		s[i] += k.gamma * e0
		s[i+1] += k.gamma * e1
		in0 := k.d0*v0 + k.c0*v1
		in1 := k.d1*v0 + k.c1*v1
		l, b = k.q00*l+(k.q01*b+in0), k.q11*b+(k.q10*l+in1)
	}
	if i < len(x) {
		v := x[i] - s[i]
		e := v - (l + k.phi*b)
		total += e * e
		s[i] += k.gamma * e
		l, b = k.a00*l+(k.a01*b+k.c0*v), k.a11*b+(k.a10*l+k.c1*v)
	}
	st.level, st.trend = l, b
	return total
}
