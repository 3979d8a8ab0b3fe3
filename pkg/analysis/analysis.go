// Package analysis is slapipe's time-series engine: summary statistics, the
// Augmented Dickey-Fuller test, autocorrelation, additive seasonal
// decomposition with season detection, and a forecast (the best few of
// naive, exponential smoothing and Holt-Winters models on the series' own
// recent past) with a prediction interval from its out-of-sample errors. It reproduces statsmodels 0.13.5 where the
// contract (docs/analyze.md) names a reference. It knows nothing of
// Prometheus, Kafka or SQL: slices in, structs out.
package analysis

// DefaultHorizon is the forecast length used when none is given (`slapipe
// analyze`, docs/analyze.md). The ETL always gives one: the steps that cover
// slapipev1.ForecastHorizon at its step.
const DefaultHorizon = 120

// MaxHorizon bounds the forecast length so a typo cannot ask for gigabytes.
const MaxHorizon = 100000

// Input is one series at a fixed step, oldest first. NaN marks a gap.
type Input struct {
	// StepSeconds is the sampling step; it must be positive.
	StepSeconds float64
	// Values holds the samples; NaN is a gap.
	Values []float64
	// Period is the season length in samples; 0 means detect it.
	Period int
	// Horizon is the number of forecast steps; 0 means DefaultHorizon.
	Horizon int
}

// Result is the full analysis of one series. Its JSON form is the output of
// `slapipe analyze` (see docs/analyze.md).
type Result struct {
	N           int          `json:"n"`
	Stats       Stats        `json:"stats"`
	ADF         *ADF         `json:"adf"`
	ACF         []float64    `json:"acf"`
	Seasonality *Seasonality `json:"seasonality"`
	SeasonCheck *SeasonCheck `json:"season_check"`
	Forecast    *Forecast    `json:"forecast"`
}

// Stats summarises the non-gap samples of a series.
type Stats struct {
	// Count is the number of non-gap samples.
	Count  int     `json:"count"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"` // sample standard deviation (n-1); 0 for fewer than 2 samples
}

// ADF is the outcome of the Augmented Dickey-Fuller test with a constant and
// the lag chosen by AIC, as statsmodels' adfuller(x, regression="c",
// autolag="AIC") returns it.
type ADF struct {
	Statistic      float64            `json:"statistic"`
	PValue         float64            `json:"pvalue"`
	UsedLag        int                `json:"used_lag"`
	NObs           int                `json:"nobs"`
	CriticalValues map[string]float64 `json:"critical_values"` // keys "1%", "5%", "10%"
	ICBest         float64            `json:"ic_best"`
	Stationary     bool               `json:"stationary"` // PValue < 0.05
}

// Seasonality describes the season used by the decomposition and forecast.
type Seasonality struct {
	Period   int       `json:"period"`
	Detected bool      `json:"detected"` // true when found, false when given
	Seasonal []float64 `json:"seasonal"` // Period additive seasonal indices
	Strength float64   `json:"strength"` // Hyndman's F_S in [0,1]
}

// SeasonCheck is the evidence for or against a season: the period
// accepted (0: none) and, when detection ran, the best period it tested
// and why it was taken or refused. A season needs at least four full
// cycles, a significant F test of its phase means (Z >= 5), cycles that
// agree with the others' profile (Agreement >= 0.75 and beyond chance)
// and a seasonal strength of at least 0.1, both measured on the series
// whitened as the F test sees it (see docs/analyze.md).
type SeasonCheck struct {
	Period    int     `json:"period"`
	Candidate int     `json:"candidate"`
	Cycles    int     `json:"cycles"`
	Z         float64 `json:"z"`
	Agreement float64 `json:"agreement"`
	Strength  float64 `json:"strength"`
	Reason    string  `json:"reason"`
}

// Forecast is the point forecast and 95 % prediction interval for Horizon
// steps after the last sample.
type Forecast struct {
	Horizon int `json:"horizon"`
	// Model names the forecast: one model ("naive", "ses_0.1",
	// "robust_ses_0.05", "median_120", "damped_seasonal", ...) or
	// "combination(a,b)" of the models averaged (see docs/analyze.md).
	Model string `json:"model"`
	// Members are the models averaged, best first.
	Members []string  `json:"members"`
	Mean    []float64 `json:"mean"`
	Lower   []float64 `json:"lower"`
	Upper   []float64 `json:"upper"`
	// Interval says how the interval was made: "empirical" (quantiles of
	// the forecast's own rolling-origin errors) or "analytic" (the ETS
	// variance, for series too short to evaluate).
	Interval string `json:"interval"`
	// NonNegative is true when the series was never negative and the
	// forecast and interval were kept at zero or above.
	NonNegative bool `json:"non_negative"`
	// Sigma is the residual standard deviation of the fitted model (one step).
	Sigma float64 `json:"sigma"`
	// AICc of the chosen model.
	AICc float64 `json:"aicc"`
	// Params are the fitted smoothing parameters (alpha, beta, gamma, phi as
	// applicable).
	Params map[string]float64 `json:"params,omitempty"`
}
