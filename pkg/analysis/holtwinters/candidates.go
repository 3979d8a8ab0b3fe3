package holtwinters

import (
	"fmt"
	"math"
	"slices"
)

// Candidate is one model fitted by Fit: its name (as Result.Model), its
// AICc and the variance of its one-step errors, and what Paths needs to
// forecast from any point of the series it was fitted to.
type Candidate struct {
	// Model names the model, as Result.Model does.
	Model string
	// AICc is the model's corrected Akaike criterion on the series.
	AICc float64
	// Sigma2 is the variance of the one-step errors, SSE/(n-k).
	Sigma2 float64
	// Params are the fitted smoothing parameters, as Result.Params.
	Params map[string]float64

	f *fitted
}

// Fit fits the candidate models of Forecast to the gap-free series z and
// returns every one that has enough samples, with the seasonal models
// (period >= 2, z at least two seasons long) started from indices, the
// seasonal indices of z, or from its decomposition when indices is nil.
// Unlike Forecast it neither centres nor scales z: callers that want the
// fit to be scale-free pass a standardised series. It returns an error for
// an empty z, a gap or an infinity in it, or indices that do not match
// period.
func Fit(z []float64, period int, indices []float64) ([]*Candidate, error) {
	n := len(z)
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: empty series", ErrInput)
	case period < 0 || period == 1:
		return nil, fmt.Errorf("%w: period %d: must be 0 or at least 2", ErrInput, period)
	case indices != nil && len(indices) != period:
		return nil, fmt.Errorf("%w: %d seasonal indices for period %d", ErrInput, len(indices), period)
	}
	for i, v := range z {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: sample %d is %v: the series must be gap-free and finite", ErrInput, i, v)
		}
	}
	var out []*Candidate
	for _, f := range fitAll(z, n, period, period >= 2 && n >= 2*period, indices) {
		c := &Candidate{
			Model:  f.md.name,
			AICc:   f.aicc,
			Sigma2: f.sse / float64(n-f.k),
			Params: f.paramMap(),
			f:      f,
		}
		out = append(out, c)
	}
	return out, nil
}

// paramMap returns the fitted smoothing parameters the model has, by
// name (alpha, and beta, gamma, phi as the model estimates them).
func (f *fitted) paramMap() map[string]float64 {
	p := map[string]float64{"alpha": f.par.alpha}
	if f.md.trend {
		p["beta"] = f.par.beta
	}
	if f.md.seasonal {
		p["gamma"] = f.par.gamma
	}
	if f.md.damped {
		p["phi"] = f.par.phi
	}
	return p
}

// Paths writes the model's point forecasts of z[t], ..., z[t+h-1] made
// from the states after z[:t], for every origin t in origins (ascending,
// 1 <= t <= len(z)), into out[i*h:(i+1)*h] for the i-th origin: the
// forecasts the model, with its fitted parameters, would have made at
// those points. z must be the series the candidate was fitted to; out
// holds len(origins)*h values. Each one-step error is clipped at ±clip
// before it updates the states (+Inf: the model as fitted), the robust
// filter of Gelper, Fried & Croux (2010) with a fixed bound: one outlier
// then moves the states by at most the smoothing weights times clip.
func (c *Candidate) Paths(z []float64, origins []int, h int, out []float64, clip float64) {
	f := c.f
	md, p := f.md, f.par
	l, b := f.init.level, f.init.trend
	phi := p.phi
	if !md.trend {
		b, phi = 0, 0
	}
	s := slices.Clone(f.init.season)
	m := len(s)
	t := 0
	for i, o := range origins {
		for ; t < o; t++ {
			var sv float64
			if m > 0 {
				sv = s[t%m]
			}
			u := l + phi*b
			e := math.Max(-clip, math.Min(clip, z[t]-sv-u))
			b = phi*b + p.beta*e
			l = u + p.alpha*e
			if m > 0 {
				s[t%m] = sv + p.gamma*e
			}
		}
		dst := out[i*h : (i+1)*h]
		var phiH float64
		pw := 1.0
		for k := 1; k <= h; k++ {
			pw *= phi
			phiH += pw
			v := l + phiH*b
			if m > 0 {
				v += s[(o-1+k)%m]
			}
			dst[k-1] = v
		}
	}
}

// Variances returns the analytic variances of the model's forecast errors
// 1..h steps after the end of the series it was fitted to (as Forecast's
// interval uses them, Hyndman et al. 2008, Table 6.1).
func (c *Candidate) Variances(h int) []float64 {
	f := c.f
	mean, variance := make([]float64, h), make([]float64, h)
	st := f.final
	st.season = slices.Clone(f.final.season)
	forecast(0, f.md, f.par, &st, mean, variance, c.Sigma2)
	return variance
}
