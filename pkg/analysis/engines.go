package analysis

// The seasonal and forecasting engines live in their own packages; these
// adapters are the only place that knows their types.

import (
	"github.com/slapipe/slapipe/pkg/analysis/ensemble"
	"github.com/slapipe/slapipe/pkg/analysis/season"
)

// detectSeason finds the dominant season length of x and says why it was
// or was not accepted (package season).
func detectSeason(x []float64) *SeasonCheck {
	r := season.Explain(x)
	for _, v := range []*float64{&r.Z, &r.Agreement, &r.Strength} {
		if !finite(*v) { // so that the result always encodes as JSON
			*v = 0
		}
	}
	return &SeasonCheck{
		Period: r.Period, Candidate: r.Candidate, Cycles: r.Cycles,
		Z: r.Z, Agreement: r.Agreement, Strength: r.Strength, Reason: r.Reason,
	}
}

// decompose returns the additive seasonal indices of x for period and
// Hyndman's seasonal strength (package season).
func decompose(x []float64, period int) (indices []float64, strength float64, err error) {
	dec, err := season.Decompose(x, period)
	if err != nil || dec == nil {
		return nil, 0, err
	}
	return dec.Indices, dec.Strength(), nil
}

// predict forecasts horizon steps after the gap-free x whose filled gaps
// are marked in filled (package ensemble); the seasonal models start from indices, the seasonal indices
// of x for period, or decompose x themselves when indices is nil.
func predict(x []float64, filled []bool, period, horizon int, indices []float64) (*Forecast, error) {
	fc, err := ensemble.Forecast(x, ensemble.Options{Period: period, Horizon: horizon, Indices: indices, Filled: filled})
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
