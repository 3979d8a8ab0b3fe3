package analysis

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slapipe/slapipe/internal/testing/testkit/refcase"
)

// refCase is one statsmodels 0.13.5 reference case (testdata/cases/*.json)
// with the reference computed by scripts/statsref.py; scripts/gen-cases.py
// generates more of them (the x_* shapes).
type refCase struct {
	Name      string          `json:"name"`
	Family    string          `json:"family"`
	Input     json.RawMessage `json:"input"`
	Reference struct {
		N     int `json:"n"`
		Stats struct {
			Min, Max, Mean, Stddev float64
		} `json:"stats"`
		ADF *struct {
			Statistic      float64            `json:"statistic"`
			PValue         float64            `json:"pvalue"`
			UsedLag        int                `json:"used_lag"`
			NObs           int                `json:"nobs"`
			CriticalValues map[string]float64 `json:"critical_values"`
			ICBest         float64            `json:"ic_best"`
		} `json:"adf"`
		ACF         []float64 `json:"acf"`
		Seasonality *struct {
			Period   int       `json:"period"`
			Seasonal []float64 `json:"seasonal"`
		} `json:"seasonality"`
		Forecasts *struct {
			HoltWinters []float64 `json:"holt_winters"`
		} `json:"reference_forecasts"`
	} `json:"reference"`
	Future []float64 `json:"future"`
}

// loadCases reads every reference case; the test fails if there are none, so
// a broken checkout cannot pass vacuously.
func loadCases(t testing.TB) []refCase {
	t.Helper()
	var cases []refCase
	for _, f := range refcase.Load[refCase](t, filepath.Join("testdata", "cases", "*.json")) {
		c := f.Case
		if c.Name == "" {
			c.Name = strings.TrimSuffix(f.Name, ".json")
		}
		cases = append(cases, c)
	}
	return cases
}

// caseInput decodes a case's input through DecodeInput, as `slapipe analyze`
// would.
func caseInput(t testing.TB, c refCase) Input {
	t.Helper()
	in, err := DecodeInput(bytes.NewReader(c.Input))
	if err != nil {
		t.Fatalf("decoding input: %v", err)
	}
	return in
}

// closeTo reports whether got is within tol of want, relative to scale
// (callers pass max(|want|, 1) for "relative, or absolute near zero").
func closeTo(got, want, tol, scale float64) bool {
	return math.Abs(got-want) <= tol*scale
}

func relScale(want float64) float64 { return math.Max(math.Abs(want), 1) }

// checkVector compares element-wise with a tolerance relative to the
// reference vector's largest magnitude (so entries near zero are compared
// absolutely at the vector's own scale).
func checkVector(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	worst, at := 0.0, -1
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > worst {
			worst, at = d, i
		}
	}
	if worst > tol*math.Max(scale, math.SmallestNonzeroFloat64) {
		t.Errorf("%s[%d] = %.17g, want %.17g (diff %.3g > %.0e·%.3g)", what, at, got[at], want[at], worst, tol, scale)
	}
}

func TestReferenceStats(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			in := caseInput(t, c)
			if len(in.Values) != c.Reference.N {
				t.Fatalf("n = %d, want %d", len(in.Values), c.Reference.N)
			}
			got := Summarize(in.Values)
			want := c.Reference.Stats
			for _, f := range []struct {
				name      string
				got, want float64
			}{
				{"min", got.Min, want.Min},
				{"max", got.Max, want.Max},
				{"mean", got.Mean, want.Mean},
				{"stddev", got.Stddev, want.Stddev},
			} {
				if !closeTo(f.got, f.want, 1e-9, relScale(f.want)) {
					t.Errorf("%s = %.17g, want %.17g", f.name, f.got, f.want)
				}
			}
		})
	}
}

func TestReferenceADF(t *testing.T) {
	for _, direct := range []bool{false, true} {
		name := "updated-refit"
		if direct {
			name = "direct-refit"
		}
		t.Run(name, func(t *testing.T) {
			forceDirectRefit = direct
			defer func() { forceDirectRefit = false }()
			for _, c := range loadCases(t) {
				t.Run(c.Name, func(t *testing.T) { checkADF(t, c) })
			}
		})
	}
}

func checkADF(t *testing.T, c refCase) {
	in := caseInput(t, c)
	got := Adfuller(FillGaps(nil, in.Values))
	want := c.Reference.ADF
	if want == nil || got == nil {
		if (want == nil) != (got == nil) {
			t.Fatalf("adf = %+v, want %+v", got, want)
		}
		return
	}
	if got.UsedLag != want.UsedLag || got.NObs != want.NObs {
		t.Fatalf("used_lag, nobs = %d, %d, want %d, %d", got.UsedLag, got.NObs, want.UsedLag, want.NObs)
	}
	if !closeTo(got.Statistic, want.Statistic, 1e-6, math.Abs(want.Statistic)) {
		t.Errorf("statistic = %.17g, want %.17g", got.Statistic, want.Statistic)
	}
	if !closeTo(got.ICBest, want.ICBest, 1e-6, math.Abs(want.ICBest)) {
		t.Errorf("ic_best = %.17g, want %.17g", got.ICBest, want.ICBest)
	}
	if !closeTo(got.PValue, want.PValue, 1e-4, 1) {
		t.Errorf("pvalue = %.17g, want %.17g", got.PValue, want.PValue)
	}
	if got.Stationary != (want.PValue < 0.05) {
		t.Errorf("stationary = %v with reference p-value %g", got.Stationary, want.PValue)
	}
	if len(got.CriticalValues) != 3 {
		t.Errorf("critical values %v, want keys 1%%, 5%%, 10%%", got.CriticalValues)
	}
	for k, w := range want.CriticalValues {
		g, ok := got.CriticalValues[k]
		if !ok || !closeTo(g, w, 1e-4, 1) {
			t.Errorf("critical value %s = %.17g, want %.17g", k, g, w)
		}
	}
}

func TestReferenceACF(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			in := caseInput(t, c)
			x := FillGaps(nil, in.Values)
			got := ACF(x, DefaultACFLags(len(x)))
			if c.Reference.ACF == nil {
				if got != nil {
					t.Fatalf("acf = %v, want null", got)
				}
				return
			}
			checkVector(t, "acf", got, c.Reference.ACF, 1e-9)
		})
	}
}

func TestReferenceSeasonal(t *testing.T) {
	checked := 0
	for _, c := range loadCases(t) {
		s := c.Reference.Seasonality
		if s == nil || len(s.Seasonal) == 0 {
			continue
		}
		checked++
		t.Run(c.Name, func(t *testing.T) {
			in := caseInput(t, c)
			indices, _, err := decompose(FillGaps(nil, in.Values), s.Period)
			if err != nil {
				t.Fatalf("decompose(period %d): %v", s.Period, err)
			}
			checkVector(t, "seasonal", indices, s.Seasonal, 1e-9)
		})
	}
	if checked == 0 {
		t.Fatal("no case has reference seasonal indices")
	}
}

// TestReferenceForecast: on the held-out futures of the synthetic reference
// cases, the forecast's mean absolute error is at most 0.8 times that of
// statsmodels' damped Holt-Winters (geometric mean over cases, leaving out
// exact forecasts, whose zero would decide the mean alone), and 85 to 99 %
// of the held-out values fall inside the 95 % interval.
func TestReferenceForecast(t *testing.T) {
	var logRatio float64
	var cases, inside, total int
	for _, c := range loadCases(t) {
		if c.Reference.Forecasts == nil || len(c.Future) == 0 {
			continue
		}
		res, err := Analyze(caseInput(t, c))
		if err != nil || res.Forecast == nil {
			t.Fatalf("%s: Analyze: %v", c.Name, err)
		}
		fc := res.Forecast
		ours, hw := mae(fc.Mean, c.Future), mae(c.Reference.Forecasts.HoltWinters, c.Future)
		for i, y := range c.Future {
			if y >= fc.Lower[i] && y <= fc.Upper[i] {
				inside++
			}
		}
		total += len(c.Future)
		t.Logf("%-36s %-50s MAE ratio %.3f", c.Name, fc.Model, ours/hw)
		if ours > 0 && hw > 0 {
			logRatio += math.Log(ours / hw)
			cases++
		}
	}
	ratio, cover := math.Exp(logRatio/float64(cases)), float64(inside)/float64(total)
	t.Logf("%d cases: MAE ratio to statsmodels' damped Holt-Winters %.4f, coverage %.3f", cases, ratio, cover)
	if cases < 20 || ratio > 0.8 {
		t.Errorf("MAE ratio %.4f over %d cases, want <= 0.8 over at least 20", ratio, cases)
	}
	if cover < 0.85 || cover > 0.99 {
		t.Errorf("coverage %.3f, want 0.85 to 0.99", cover)
	}
}
