package holtwinters

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestForecastVarianceBySimulation checks the point forecasts and the
// class 1 variance formulas (Hyndman et al. 2008, Table 6.1) against the
// mean and variance of simulated futures of each model.
func TestForecastVarianceBySimulation(t *testing.T) {
	const (
		paths  = 40000
		h      = 13
		m      = 4
		sigma2 = 2.0
	)
	par := params{alpha: 0.3, beta: 0.05, gamma: 0.1, phi: 0.9}
	for _, md := range candidates {
		t.Run(md.name, func(t *testing.T) {
			p := par
			if !md.damped {
				p.phi = 1
			}
			start := states{level: 10, trend: 1, season: []float64{1, -1, 2, -2}}
			if !md.seasonal {
				start.season = nil
			}
			if !md.trend {
				p.beta, start.trend = 0, 0
			}
			if !md.seasonal {
				p.gamma = 0
			}
			const n = 7 // samples before the forecast origin, for the phase
			mean := make([]float64, h)
			variance := make([]float64, h)
			st := start
			st.season = append([]float64(nil), start.season...)
			forecast(n, md, p, &st, mean, variance, sigma2)

			r := rand.New(rand.NewPCG(11, 13))
			var sum, sum2 [h]float64
			sim := states{season: make([]float64, len(start.season))}
			path := make([]float64, h)
			for range paths {
				sim.level, sim.trend = start.level, start.trend
				copy(sim.season, start.season)
				for j := range path {
					path[j] = math.NaN()
				}
				// Draw the future by running the model on its own
				// forecasts plus Gaussian errors.
				simulate(n, md, p, &sim, path, r, math.Sqrt(sigma2))
				for j, y := range path {
					sum[j] += y
					sum2[j] += y * y
				}
			}
			for j := range h {
				em := sum[j] / paths
				ev := sum2[j]/paths - em*em
				se := math.Sqrt(variance[j] / paths)
				if math.Abs(em-mean[j]) > 5*se {
					t.Errorf("h=%d: mean %v, simulated %v", j+1, mean[j], em)
				}
				// The variance of a sample variance is about 2 v^2/paths.
				if math.Abs(ev-variance[j]) > 5*variance[j]*math.Sqrt(2.0/paths) {
					t.Errorf("h=%d: variance %v, simulated %v", j+1, variance[j], ev)
				}
			}
		})
	}
}

// simulate draws y for the len(path) steps after sample n from the
// model's equations with N(0, sd^2) errors.
func simulate(n int, md model, p params, st *states, path []float64, r *rand.Rand, sd float64) {
	phi := p.phi
	if !md.trend {
		phi = 0
	}
	for j := range path {
		var s float64
		k := 0
		if md.seasonal {
			k = (n + j) % len(st.season)
			s = st.season[k]
		}
		e := sd * r.NormFloat64()
		pb := phi * st.trend
		path[j] = st.level + pb + s + e
		st.level += pb + p.alpha*e
		st.trend = pb + p.beta*e
		if md.seasonal {
			st.season[k] = s + p.gamma*e
		}
	}
}
