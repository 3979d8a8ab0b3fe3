package holtwinters

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"

	"github.com/slapipe/slapipe/pkg/analysis/season"
)

// Parameter bounds: the usual region of Hyndman et al. (2008, section
// 10.2; forecast::ets defaults), 0 < beta < alpha, 0 < gamma < 1 - alpha,
// 0.8 <= phi <= 0.98, kept a little inside the open bounds.
const (
	parLo = 1e-4
	parHi = 1 - 1e-4
	phiLo = 0.8
	phiHi = 0.98
)

// fitted is a model with its estimated parameters and final states.
type fitted struct {
	md    model
	par   params
	init  states // before the first sample
	final states // after the last sample
	sse   float64
	evals int     // objective evaluations of the fit
	k     int     // estimated quantities: parameters, free states, variance
	aicc  float64 // corrected Akaike criterion of sse (floored)
}

// initial returns heuristic initial states (Hyndman et al. 2008, section
// 2.6.1): the given seasonal indices (see seasonIndices), then a
// least-squares line through the first seasonally adjusted samples for the
// level and trend. x must be gap-free.
func initial(x []float64, md model, indices []float64) states {
	n := len(x)
	var st states
	adj := func(t int) float64 { return x[t] }
	if md.seasonal {
		m := len(indices)
		st.season = slices.Clone(indices)
		adj = func(t int) float64 { return x[t] - indices[t%m] }
	}
	span := min(n, max(10, len(indices)))
	var tm, am float64
	for t := range span {
		tm += float64(t)
		am += adj(t)
	}
	tm /= float64(span)
	am /= float64(span)
	var stt, sta float64
	for t := range span {
		stt += (float64(t) - tm) * (float64(t) - tm)
		sta += (float64(t) - tm) * (adj(t) - am)
	}
	var slope float64
	if stt > 0 && md.trend {
		slope = sta / stt
	}
	// The line's value at t = 0 is the first one-step forecast, l + phi b.
	st.level = am - slope*tm - slope
	st.trend = slope
	return st
}

// seasonIndices returns the seasonal indices of the classical additive
// decomposition (seasonal_decompose) of the gap-free x with period m, the
// initial seasonal states of every seasonal model. They use every season,
// which is what estimating the states by least squares would approach,
// and a stable season then needs no large gamma. Should Decompose refuse x
// (Forecast only asks with m >= 2 and two seasons), the season starts
// flat.
func seasonIndices(x []float64, m int) []float64 {
	if d, err := season.Decompose(x, m); err == nil {
		return d.Indices
	}
	return make([]float64, m)
}

// recursion is sse or, for a gap-free series, sseFilled.
type recursion func(x []float64, md model, p params, st *states) float64

// fit estimates md's smoothing parameters by minimising the sum of squared
// one-step errors over x from the initial states init, as run computes it
// (sse, or sseFilled for a gap-free x), with gonum's Nelder-Mead simplex over an
// unconstrained logistic reparameterisation of the bounded region, starting
// from start (moved inside the region).
func fit(x []float64, run recursion, md model, init states, start params) *fitted {
	work := states{season: make([]float64, len(init.season))}
	objective := func(theta []float64) float64 {
		p := unpack(md, theta)
		work.level, work.trend = init.level, init.trend
		copy(work.season, init.season)
		v := run(x, md, p, &work)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.MaxFloat64
		}
		return v
	}
	// Minimize fails only on a malformed problem; an evaluation limit still
	// returns the best point found, and the start is a valid fallback.
	theta := pack(md, inside(start))
	evals := 0
	res, _ := optimize.Minimize(optimize.Problem{Func: objective}, theta, &optimize.Settings{
		// SSE to a relative 1e-6 moves AICc by n*1e-6, far below the
		// differences that decide between models.
		Converger:       &optimize.FunctionConverge{Relative: 1e-6, Iterations: 8},
		FuncEvaluations: 400,
	}, &optimize.NelderMead{SimplexSize: 0.5})
	if res != nil {
		theta, evals = res.X, res.FuncEvaluations
	}
	f := &fitted{md: md, evals: evals, init: init}
	f.par = unpack(md, theta)
	f.final = states{level: init.level, trend: init.trend, season: work.season}
	copy(f.final.season, init.season)
	f.sse = run(x, md, f.par, &f.final)
	return f
}

func logistic(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// unpack maps unconstrained coordinates to parameters in the region:
// alpha in [parLo, parHi], beta in [parLo, alpha], gamma in [parLo,
// 1-alpha], phi in [phiLo, phiHi] (1 without damping).
func unpack(md model, theta []float64) params {
	p := params{phi: 1}
	i := 0
	next := func(lo, hi float64) float64 {
		v := lo + (hi-lo)*logistic(theta[i])
		i++
		return v
	}
	p.alpha = next(parLo, parHi)
	if md.trend {
		p.beta = next(parLo, p.alpha)
	}
	if md.seasonal {
		p.gamma = next(parLo, 1-p.alpha)
	}
	if md.damped {
		p.phi = next(phiLo, phiHi)
	}
	return p
}

// inside moves p strictly inside the region, so that pack is finite and
// the simplex can move both ways.
func inside(p params) params {
	clamp := func(v, lo, hi float64) float64 {
		margin := 0.01 * (hi - lo)
		return math.Min(hi-margin, math.Max(lo+margin, v))
	}
	p.alpha = clamp(p.alpha, parLo, parHi)
	p.beta = clamp(p.beta, parLo, p.alpha)
	p.gamma = clamp(p.gamma, parLo, 1-p.alpha)
	p.phi = clamp(p.phi, phiLo, phiHi)
	return p
}

// pack is the inverse of unpack for parameters inside the region.
func pack(md model, p params) []float64 {
	var theta []float64
	add := func(v, lo, hi float64) { theta = append(theta, logit((v-lo)/(hi-lo))) }
	add(p.alpha, parLo, parHi)
	if md.trend {
		add(p.beta, parLo, p.alpha)
	}
	if md.seasonal {
		add(p.gamma, parLo, 1-p.alpha)
	}
	if md.damped {
		add(p.phi, phiLo, phiHi)
	}
	return theta
}

// sseFloor, times the number of samples, is the least SSE a fit counts:
// it keeps the AICc of an exact fit finite.
const sseFloor = 1e-24
