package analysis

// The seasonal and forecasting engines live in their own packages; these
// adapters are the only place that knows their types.

import (
	"github.com/slapipe/slapipe/analysis/ensemble"
	"github.com/slapipe/slapipe/analysis/season"
)

// detectSeason finds the dominant season length of x (package season).
func detectSeason(x []float64) (int, bool) { return season.Detect(x) }

// decompose returns the additive seasonal indices of x for period and
// Hyndman's seasonal strength (package season).
func decompose(x []float64, period int) (indices []float64, strength float64, err error) {
	dec, err := season.Decompose(x, period)
	if err != nil || dec == nil {
		return nil, 0, err
	}
	return dec.Indices, dec.Strength(), nil
}

// predict forecasts horizon steps after the gap-free x (package
// ensemble); the seasonal models start from indices, the seasonal indices
// of x for period, or decompose x themselves when indices is nil.
func predict(x []float64, period, horizon int, indices []float64) (*Forecast, error) {
	fc, err := ensemble.Forecast(x, ensemble.Options{Period: period, Horizon: horizon, Indices: indices})
	if err != nil || fc == nil {
		return nil, err
	}
	return &Forecast{
		Horizon: horizon, Model: fc.Model, Members: fc.Members,
		Mean: fc.Mean, Lower: fc.Lower, Upper: fc.Upper,
		Interval: fc.Interval, NonNegative: fc.NonNegative,
		Sigma: fc.Sigma, AICc: fc.AICc, Params: fc.Params,
	}, nil
}
