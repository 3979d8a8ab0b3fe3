// Package holtwinters forecasts an evenly sampled series with exponential
// smoothing state space models with additive errors: simple exponential
// smoothing, Holt's linear and damped trends, and their additive-season
// (Holt-Winters) forms. Each candidate is fitted by minimising the sum of
// squared one-step errors over the usual parameter region, the one with
// the lowest AICc gives the point forecast, and its analytic forecast
// variance gives a 95 % prediction interval.
//
// References:
//   - Hyndman, Koehler, Ord & Snyder (2008), Forecasting with Exponential
//     Smoothing: The State Space Approach, Springer: the models (Table 2.3),
//     initial states (section 2.6.1), AICc (section 7.2), parameter region
//     (section 10.2) and forecast variances (Table 6.1, class 1).
//   - Hyndman & Athanasopoulos, Forecasting: Principles and Practice, 3rd
//     ed. (FPP3), chapter 8.
//   - Nelder & Mead (1965), A simplex method for function minimization,
//     with the steps of Lagarias, Reeds, Wright & Wright (1998) and the
//     coefficients of Gao & Han (2012): gonum's optimize.NelderMead, which
//     fits the parameters.
//   - statsmodels 0.13.5 ExponentialSmoothing, the reference it is measured
//     against.
package holtwinters

import (
	"errors"
	"fmt"
	"math"

	"github.com/slapipe/slapipe/pkg/analysis/internal/series"
)

// ErrInput reports an unusable series or options.
var ErrInput = errors.New("invalid forecast input")

// Options configures Forecast.
type Options struct {
	// Period is the season length in samples; 0 means no season. A season
	// is only fitted when the series holds at least two of them.
	Period int
	// Horizon is the number of steps to forecast; it must be positive.
	Horizon int
	// Indices optionally gives the additive seasonal indices of x for
	// Period (Period finite values, as season.Decompose returns them for
	// the gap-filled x); the seasonal models start from them instead of
	// decomposing x again. nil: Forecast decomposes x itself.
	Indices []float64
}

// Result is a forecast with its 95 % prediction interval.
type Result struct {
	// Model names the chosen model: "ses", "holt", "damped", "seasonal",
	// "holt_winters", "damped_seasonal" (ETS(A,N,N), (A,A,N), (A,Ad,N),
	// (A,N,A), (A,A,A), (A,Ad,A)), or "naive" (last value, random walk
	// interval) for series too short to fit any of them.
	Model string
	// Mean, Lower and Upper have Horizon values: the point forecast and the
	// 95 % prediction interval.
	Mean, Lower, Upper []float64
	// Sigma is the standard deviation of the one-step errors,
	// sqrt(SSE/(n-k)) with k the estimated quantities; 0 for a constant
	// series.
	Sigma float64
	// AICc is the chosen model's corrected Akaike criterion (0 for constant
	// and naive forecasts, which fit nothing).
	AICc float64
	// Params holds the fitted "alpha", "beta", "gamma" and "phi" that the
	// model has (beta in the state space form, alpha*beta* of Holt's).
	Params map[string]float64
}

// Forecast fits the candidate models to the series x and returns
// the forecast of the one with the lowest AICc. Candidates: simple
// exponential smoothing and Holt's linear and damped trends, or, when
// opts.Period >= 2 and x holds at least two seasons, their additive
// Holt-Winters forms. The season is not left to AICc: the one-step errors
// AICc weighs barely see a smooth season when the level follows the data
// closely (alpha near 1), while forecasts many steps ahead depend on it; a
// given or detected period is the evidence for the season, and AICc picks
// the trend (none, linear or damped).
//
// A NaN in x is a missing sample: the models forecast through it without
// an error or an update. This only helps callers that pass their gaps as
// NaN: a gap filled beforehand (as analysis.Analyze fills every gap, see
// docs/analyze.md) is fitted like any sample, and an edge filled with its
// nearest value looks like a flat stretch to the model. Infinities are
// rejected.
//
// The series is centred and scaled internally, so counters and byte
// counts of any magnitude fit alike; a constant series gives a flat
// forecast with a zero-width interval.
func Forecast(x []float64, opts Options) (*Result, error) {
	n := len(x)
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: empty series", ErrInput)
	case opts.Horizon < 1:
		return nil, fmt.Errorf("%w: horizon %d: must be at least 1", ErrInput, opts.Horizon)
	case opts.Period < 0 || opts.Period == 1:
		return nil, fmt.Errorf("%w: period %d: must be 0 or at least 2", ErrInput, opts.Period)
	case opts.Indices != nil && len(opts.Indices) != opts.Period:
		return nil, fmt.Errorf("%w: %d seasonal indices for period %d", ErrInput, len(opts.Indices), opts.Period)
	}
	for j, v := range opts.Indices {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: seasonal index %d is %v", ErrInput, j, v)
		}
	}
	obs := make([]float64, 0, n) // the observed samples
	for i, v := range x {
		if math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: sample %d is %v", ErrInput, i, v)
		}
		if !math.IsNaN(v) {
			obs = append(obs, v)
		}
	}
	if len(obs) == 0 {
		return nil, fmt.Errorf("%w: no observed sample", ErrInput)
	}
	loc, scale := series.MeanStd(obs)
	if series.IsConstant(obs) || !(scale > 0) {
		return flat(obs[len(obs)-1], 0, opts.Horizon, "ses"), nil
	}
	if len(obs) < 4 {
		return naive(obs, opts.Horizon), nil
	}
	// Fit on (x - loc)/scale: the models are equivariant, and the
	// recursions then run on numbers of order one. NaN stays NaN.
	z := make([]float64, n)
	for i, v := range x {
		z[i] = (v - loc) / scale
	}
	m := opts.Period
	var best *fitted
	if m >= 2 && n >= 2*m {
		var indices []float64 // of z: the decomposition is linear in x
		if opts.Indices != nil {
			indices = make([]float64, m)
			for j, v := range opts.Indices {
				indices[j] = v / scale
			}
		}
		best = choose(z, len(obs), m, true, indices)
	}
	if best == nil { // no season, or too few samples for its states
		best = choose(z, len(obs), m, false, nil)
	}
	if best == nil {
		return naive(obs, opts.Horizon), nil
	}
	return best.result(n, len(obs), opts.Horizon, loc, scale), nil
}

// choose fits the seasonal or the non-seasonal candidates to z (nObs
// observed samples) and returns the one with the lowest finite AICc, or
// nil when there are too few samples for any (see fitAll).
func choose(z []float64, nObs, m int, seasonal bool, indices []float64) *fitted {
	var best *fitted
	for _, f := range fitAll(z, nObs, m, seasonal, indices) {
		if f.aicc < math.Inf(1) && (best == nil || f.aicc < best.aicc) {
			best = f
		}
	}
	return best
}

// fitAll fits the seasonal or the non-seasonal candidates that have
// enough of the nObs observed samples of z. The seasonal candidates start from indices, the seasonal
// indices of z, or when nil from seasonIndices of the gap-filled z.
func fitAll(z []float64, nObs, m int, seasonal bool, indices []float64) []*fitted {
	// A gap-free series (as analysis.Analyze passes them) takes the faster
	// recursion and is its own gap-filled form.
	filled, run := z, recursion(sseFilled)
	if nObs < len(z) {
		filled, run = series.FillGaps(nil, z), sse
	}
	if seasonal && indices == nil {
		indices = seasonIndices(filled, m)
	}
	var out []*fitted
	// Each model starts from the parameters of the simpler one before it:
	// they nest, so the optimum is usually close.
	start := params{alpha: 0.2, beta: 0.02, gamma: 0.05, phi: 0.95}
	for _, md := range candidates {
		if md.seasonal != seasonal {
			continue
		}
		k := md.nParams() + md.nStates(m) + 1 // + 1: the error variance
		if nObs-k-1 <= 0 {
			continue
		}
		f := fit(z, run, md, initial(filled, md, indices), start)
		start = f.par
		if !md.trend {
			start.beta = 0.1 * start.alpha
		}
		if !md.damped {
			start.phi = 0.95
		}
		// The floor keeps a series the model fits exactly finite.
		f.k, f.aicc = k, aicc(math.Max(f.sse, sseFloor*float64(nObs)), nObs, k)
		out = append(out, f)
	}
	return out
}

// result converts a model fitted to the n samples (nObs observed) of the
// scaled series into the forecast.
func (f *fitted) result(n, nObs, horizon int, loc, scale float64) *Result {
	md := f.md
	dof := nObs - f.k // >= 2: fitAll only fits models with nObs-k-1 > 0
	sigma2 := f.sse / float64(dof)
	r := &Result{
		Model: md.name,
		Mean:  make([]float64, horizon),
		Lower: make([]float64, horizon),
		Upper: make([]float64, horizon),
		Sigma: math.Sqrt(sigma2) * scale,
		// AICc of the scaled series; shifting by n log(scale^2) gives that
		// of x, the same for every candidate.
		AICc:   f.aicc + float64(nObs)*math.Log(scale*scale),
		Params: f.paramMap(),
	}
	variance := make([]float64, horizon)
	forecast(n, md, f.par, &f.final, r.Mean, variance, sigma2)
	for h := range r.Mean {
		mu := loc + scale*r.Mean[h]
		half := series.Z975 * scale * math.Sqrt(variance[h])
		r.Mean[h], r.Lower[h], r.Upper[h] = mu, mu-half, mu+half
	}
	return r
}

// flat is a constant forecast at level with an interval of half-width
// series.Z975*sigma*sqrt(h) (a random walk's) or zero; it fits nothing, so its
// AICc is 0.
func flat(level, sigma float64, horizon int, name string) *Result {
	r := &Result{
		Model: name,
		Mean:  make([]float64, horizon),
		Lower: make([]float64, horizon),
		Upper: make([]float64, horizon),
		Sigma: sigma,
	}
	for h := range r.Mean {
		half := series.Z975 * sigma * math.Sqrt(float64(h+1))
		r.Mean[h], r.Lower[h], r.Upper[h] = level, level-half, level+half
	}
	return r
}

// naive forecasts a series too short to fit with its last value and the
// random walk's interval, sigma being the root mean square of its steps.
func naive(x []float64, horizon int) *Result {
	var s float64
	for i := 1; i < len(x); i++ {
		d := x[i] - x[i-1]
		s += d * d
	}
	sigma := 0.0
	if len(x) > 1 {
		sigma = math.Sqrt(s / float64(len(x)-1))
	}
	return flat(x[len(x)-1], sigma, horizon, "naive")
}
