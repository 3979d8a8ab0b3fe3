package holtwinters

import "math"

// model is one exponential smoothing state space model with additive errors
// (Hyndman et al. 2008, Table 2.3): ETS(A,N,N), ETS(A,A,N), ETS(A,Ad,N) and
// their additive-season counterparts.
type model struct {
	name     string
	trend    bool // additive trend
	damped   bool // damping phi estimated in [phiLo, phiHi]; 1 otherwise
	seasonal bool // additive season of period m
}

// The candidates, in the order of Hyndman et al. (2008, section 2.5.1).
var candidates = []model{
	{name: "ses"},
	{name: "holt", trend: true},
	{name: "damped", trend: true, damped: true},
	{name: "seasonal", seasonal: true},
	{name: "holt_winters", trend: true, seasonal: true},
	{name: "damped_seasonal", trend: true, damped: true, seasonal: true},
}

// nParams is the number of smoothing parameters the model estimates.
func (md model) nParams() int {
	k := 1 // alpha
	if md.trend {
		k++ // beta
	}
	if md.damped {
		k++ // phi
	}
	if md.seasonal {
		k++ // gamma
	}
	return k
}

// nStates is the number of free initial states: the level, the trend, and
// m-1 seasonal states (they sum to zero).
func (md model) nStates(m int) int {
	k := 1
	if md.trend {
		k++
	}
	if md.seasonal {
		k += m - 1
	}
	return k
}

// params are the smoothing parameters in the state space form of Hyndman
// et al. (2008, eq. 2.5): beta is alpha*beta* of the textbook Holt form.
type params struct {
	alpha, beta, gamma, phi float64
}

// states holds the initial (then final) state: level, trend and the m
// seasonal states, s[j] being the latest state of phase j (t mod m).
type states struct {
	level, trend float64
	season       []float64
}

// sse runs the ETS recursion of Hyndman et al. (2008, Table 2.3, additive
// errors) over x from the states st, which it leaves at their final values,
// and returns the sum of squared one-step errors. A NaN sample is missing:
// the states move on as forecast, without an error (the state space
// treatment of missing observations). It does not allocate; sseFilled is
// the faster form for a gap-free x.
//
//	yhat_t = l + phi b + s_(t-m)
//	l_t = l + phi b + alpha e_t
//	b_t = phi b + beta e_t
//	s_t = s_(t-m) + gamma e_t
func sse(x []float64, md model, p params, st *states) float64 {
	// Written as l_t = (1-alpha) u + alpha (y - s) with u = l + phi b, and
	// b_t = phi (1-beta) b + beta (y - s - l), the loop-carried dependency is
	// two floating point operations deep instead of four.
	l, b := st.level, st.trend
	phi := p.phi
	if !md.trend {
		b, phi = 0, 0
	}
	a1, a := 1-p.alpha, p.alpha
	pb1, be := phi*(1-p.beta), p.beta
	var total float64
	s := st.season
	m := len(s)
	k := 0
	for _, y := range x {
		var sv float64
		if m > 0 {
			sv = s[k]
		}
		u := l + phi*b
		if math.IsNaN(y) { // missing: predict through without updating
			l = u
			b *= phi
		} else {
			ys := y - sv
			e := ys - u
			total += e * e
			b = pb1*b + be*(ys-l)
			l = a1*u + a*ys
			if m > 0 {
				s[k] = sv + p.gamma*e
			}
		}
		if k++; k == m {
			k = 0
		}
	}
	st.level = l
	if md.trend {
		st.trend = b
	}
	return total
}

// forecast writes the point forecasts for 1..len(mean) steps after the n
// samples that left the final states st (Hyndman et al. 2008, eq. 2.5:
// l + phi_h b + s), and their variances (Table 6.1, class 1 models):
//
//	v_h = sigma2 (1 + sum_(j=1)^(h-1) c_j^2), c_j = alpha + beta phi_j + gamma d_(j,m)
//
// where phi_j = phi + ... + phi^j (j without damping) and d_(j,m) is 1 when
// j is a multiple of m.
func forecast(n int, md model, p params, st *states, mean, variance []float64, sigma2 float64) {
	phi := p.phi
	if !md.trend {
		phi = 0
	}
	var phiH float64 // phi + ... + phi^h
	pw := 1.0
	var sumC2 float64
	m := len(st.season)
	for h := 1; h <= len(mean); h++ {
		pw *= phi
		phiH += pw
		f := st.level
		if md.trend {
			f += phiH * st.trend
		}
		if md.seasonal {
			f += st.season[(n-1+h)%m]
		}
		mean[h-1] = f
		variance[h-1] = sigma2 * (1 + sumC2)
		// c_h enters the variance of the next horizon.
		c := p.alpha
		if md.trend {
			c += p.beta * phiH
		}
		if md.seasonal && h%m == 0 {
			c += p.gamma
		}
		sumC2 += c * c
	}
}

// aicc is the corrected Akaike criterion of a model with k estimated
// quantities (parameters, initial states and the variance) fitted to n
// samples with sum of squared errors sse (Hyndman et al. 2008, section
// 7.2: -2 log L = n log(SSE/n) up to a constant common to all models).
func aicc(sse float64, n, k int) float64 {
	if n-k-1 <= 0 {
		return math.Inf(1)
	}
	nf, kf := float64(n), float64(k)
	return nf*math.Log(sse/nf) + 2*kf + 2*kf*(kf+1)/(nf-kf-1)
}
