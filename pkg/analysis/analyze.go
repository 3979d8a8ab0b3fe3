package analysis

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// MaxAbsValue bounds the magnitude of a sample. Squares and sums of squares
// of values this large (and of their differences) stay far from overflow
// for any realistic length, which is what lets Analyze promise finite
// numbers; no metric comes near it.
const MaxAbsValue = 1e100

// ErrInvalidInput is wrapped by every error that rejects an Input or its JSON
// form; callers map it to "bad request" (gRPC InvalidArgument, exit status).
var ErrInvalidInput = errors.New("invalid input")

// ErrNoValues and ErrAllGaps are the two ways a series can have nothing to
// analyse; they are wrapped together with ErrInvalidInput so that the ETL can
// skip such series quietly.
var (
	ErrNoValues = errors.New("values is missing or empty")
	ErrAllGaps  = errors.New("every value is a gap (null)")
)

// invalid returns an error wrapping ErrInvalidInput with a one-line reason.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}

// Validate reports the first problem that keeps Analyze from running on in:
// a step that is not positive and finite, no values, an infinite value or one
// beyond ±MaxAbsValue, no value that is not a gap, a horizon outside
// 0..MaxHorizon (0 is DefaultHorizon), or a period other than 0 (detect) or
// 2..n/2 (seasonal decomposition needs two full seasons). Every error wraps
// ErrInvalidInput and names the field and the bad value.
func (in Input) Validate() error {
	if !(in.StepSeconds > 0) || math.IsInf(in.StepSeconds, 1) {
		return invalid("step_seconds must be a positive number (got %v)", in.StepSeconds)
	}
	n := len(in.Values)
	if n == 0 {
		return fmt.Errorf("%w: %w", ErrInvalidInput, ErrNoValues)
	}
	samples := 0
	for i, v := range in.Values {
		switch {
		case math.IsNaN(v):
			continue
		case math.IsInf(v, 0) || math.Abs(v) > MaxAbsValue:
			return invalid("values[%d] must be finite and within ±%g (got %v)", i, MaxAbsValue, v)
		}
		samples++
	}
	if samples == 0 {
		return fmt.Errorf("%w: %w", ErrInvalidInput, ErrAllGaps)
	}
	if in.Horizon < 0 || in.Horizon > MaxHorizon {
		return invalid("horizon must be between 1 and %d (got %d)", MaxHorizon, in.Horizon)
	}
	if in.Period != 0 && (in.Period < 2 || in.Period > n/2) {
		if n < 4 {
			return invalid("period %d needs at least %d values (got %d)", in.Period, 2*max(in.Period, 2), n)
		}
		return invalid("period must be between 2 and n/2 = %d (got %d)", n/2, in.Period)
	}
	return nil
}

// Analyze validates in and computes the full analysis of the series (see
// docs/analyze.md): summary statistics of the non-gap samples; then, on the
// series with gaps filled (FillGaps), the ADF test (Adfuller), the
// autocorrelation at lags 0..DefaultACFLags(n) (ACF), the additive seasonal
// decomposition with the given period or, when Period is 0, a detected one
// (package season), and the forecast for Horizon steps with that season
// (package ensemble: candidates chosen and combined by their out-of-sample
// error). ADF is nil when the test is undefined (a
// constant series, fewer than 4 samples, or a degenerate regression such as
// a noiseless line; see Adfuller), ACF for a constant series, Seasonality
// when no season is given or found, and Forecast only when the fitted output
// is not finite (ensemble forecasts every valid series, one too short to
// fit with its last value). Analyze returns an error only for invalid
// input (wrapping ErrInvalidInput); every number in the Result is finite, so
// it always encodes as JSON. Analyze does not modify in.Values and is safe
// for concurrent use; it runs the test and the autocorrelation on a second
// goroutine beside the season search and forecast, and returns after both.
func Analyze(in Input) (*Result, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	horizon := in.Horizon
	if horizon == 0 {
		horizon = DefaultHorizon
	}
	res := &Result{N: len(in.Values), Stats: Summarize(in.Values)}
	x := FillGaps(nil, in.Values)
	// The stages only read x; the test and the autocorrelation run beside
	// the season search and the forecast that depends on it.
	var wg sync.WaitGroup
	wg.Go(func() {
		res.ADF = Adfuller(x)
		res.ACF = ACF(x, DefaultACFLags(len(x)))
	})
	wg.Go(func() {
		res.Seasonality, res.SeasonCheck = seasonality(x, in.Period)
		period, indices := in.Period, []float64(nil)
		if s := res.Seasonality; s != nil {
			// The forecast starts from this decomposition rather than
			// running it again.
			period, indices = s.Period, s.Seasonal
		}
		res.Forecast = forecast(x, filledAt(in.Values), period, horizon, indices)
	})
	wg.Wait()
	return res, nil
}

// seasonality decomposes x with the given period, or with the detected one
// when period is 0; nil when there is none or the decomposition fails. It
// also says why the season was taken or not.
func seasonality(x []float64, period int) (*Seasonality, *SeasonCheck) {
	detected := false
	check := &SeasonCheck{Period: period, Candidate: period, Reason: "period given"}
	if period == 0 {
		check = detectSeason(x) // Period 0, or 2 <= Period <= len(x)/4
		if check.Period == 0 {
			return nil, check
		}
		period, detected = check.Period, true
	}
	indices, strength, err := decompose(x, period) // strength in [0, 1]
	if err != nil || len(indices) != period || !allFinite(indices) {
		check.Period, check.Reason = 0, "decomposition failed"
		return nil, check
	}
	return &Seasonality{
		Period:   period,
		Detected: detected,
		Seasonal: indices,
		Strength: strength,
	}, check
}

// forecast runs the forecast model selection, starting the seasonal
// models from indices when given; nil only when its output is not finite
// (ensemble returns a forecast for every series Validate accepts, a naive
// one for series too short to fit, so the error check is a guard).
func forecast(x []float64, filled []bool, period, horizon int, indices []float64) *Forecast {
	fc, err := predict(x, filled, period, horizon, indices)
	if err != nil || fc == nil {
		return nil
	}
	if len(fc.Mean) != horizon || len(fc.Lower) != horizon || len(fc.Upper) != horizon ||
		!allFinite(fc.Mean) || !allFinite(fc.Lower) || !allFinite(fc.Upper) ||
		!finite(fc.Sigma) || !finite(fc.AICc) {
		return nil
	}
	for _, v := range fc.Params {
		if !finite(v) {
			return nil
		}
	}
	return fc
}

// filledAt marks the gaps of values (nil when there is none).
func filledAt(values []float64) []bool {
	var out []bool
	for i, v := range values {
		if math.IsNaN(v) {
			if out == nil {
				out = make([]bool, len(values))
			}
			out[i] = true
		}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func allFinite(xs []float64) bool {
	for _, v := range xs {
		if !finite(v) {
			return false
		}
	}
	return true
}
