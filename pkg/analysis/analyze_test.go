package analysis

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := []float64{1, 2, 3, 4, 5, 6}
	cases := []struct {
		name string
		in   Input
		msg  string // "" for valid
	}{
		{"valid", Input{StepSeconds: 5, Values: ok}, ""},
		{"valid with period and horizon", Input{StepSeconds: 5, Values: ok, Period: 3, Horizon: MaxHorizon}, ""},
		{"gaps are fine", Input{StepSeconds: 5, Values: []float64{nan, 1, nan}}, ""},
		{"zero step", Input{Values: ok}, "step_seconds must be a positive number (got 0)"},
		{"negative step", Input{StepSeconds: -1, Values: ok}, "step_seconds must be a positive number"},
		{"NaN step", Input{StepSeconds: nan, Values: ok}, "step_seconds must be a positive number (got NaN)"},
		{"infinite step", Input{StepSeconds: math.Inf(1), Values: ok}, "step_seconds must be a positive number (got +Inf)"},
		{"no values", Input{StepSeconds: 5}, "values is missing or empty"},
		{"all gaps", Input{StepSeconds: 5, Values: []float64{nan, nan}}, "every value is a gap"},
		{"infinite value", Input{StepSeconds: 5, Values: []float64{1, math.Inf(-1)}}, "values[1] must be finite"},
		{"huge value", Input{StepSeconds: 5, Values: []float64{2e100}}, "values[0] must be finite and within ±1e+100"},
		{"negative horizon", Input{StepSeconds: 5, Values: ok, Horizon: -1}, "horizon must be between 1 and 100000 (got -1)"},
		{"huge horizon", Input{StepSeconds: 5, Values: ok, Horizon: MaxHorizon + 1}, "horizon must be between"},
		{"period 1", Input{StepSeconds: 5, Values: ok, Period: 1}, "period must be between 2 and n/2 = 3 (got 1)"},
		{"negative period", Input{StepSeconds: 5, Values: ok, Period: -4}, "period must be between 2 and n/2"},
		{"period above n/2", Input{StepSeconds: 5, Values: ok, Period: 4}, "period must be between 2 and n/2 = 3 (got 4)"},
		{"period on 3 values", Input{StepSeconds: 5, Values: ok[:3], Period: 2}, "needs at least 4 values"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.in.Validate()
			_, aerr := Analyze(c.in)
			if c.msg == "" {
				if err != nil || aerr != nil {
					t.Fatalf("Validate: %v, Analyze: %v", err, aerr)
				}
				return
			}
			for _, e := range []error{err, aerr} {
				if e == nil {
					t.Fatalf("accepted, want %q", c.msg)
				}
				if !errors.Is(e, ErrInvalidInput) || !strings.Contains(e.Error(), c.msg) {
					t.Errorf("error %q, want ErrInvalidInput with %q", e, c.msg)
				}
			}
		})
	}
}

func TestAnalyzeConstant(t *testing.T) {
	res, err := Analyze(Input{StepSeconds: 5, Values: []float64{7, nan, 7, 7, 7, 7, 7, 7}})
	if err != nil {
		t.Fatal(err)
	}
	if res.N != 8 || res.Stats != (Stats{Count: 7, Min: 7, Max: 7, Mean: 7}) {
		t.Errorf("n %d, stats %+v", res.N, res.Stats)
	}
	if res.ADF != nil || res.ACF != nil {
		t.Errorf("adf %+v, acf %v: want nil for a constant series", res.ADF, res.ACF)
	}
	if _, err := json.Marshal(res); err != nil {
		t.Errorf("result does not encode: %v", err)
	}
}

func TestAnalyzeShortSeries(t *testing.T) {
	for n := 1; n <= 5; n++ {
		x := []float64{3, 1, 4, 1, 5}[:n]
		res, err := Analyze(Input{StepSeconds: 1, Values: x})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if (res.ADF != nil) != (n >= 4) {
			t.Errorf("n=%d: adf %+v", n, res.ADF)
		}
		checkResult(t, Input{StepSeconds: 1, Values: x}, res)
	}
}

// TestAnalyzeJSONFields pins the field names of docs/analyze.md.
func TestAnalyzeJSONFields(t *testing.T) {
	x := counts(400, 3)
	x[10], x[11] = nan, nan
	res, err := Analyze(Input{StepSeconds: 5, Values: x, Period: 20, Horizon: 12})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"n", "stats", "adf", "acf", "seasonality", "forecast"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("output lacks %q", k)
		}
	}
	stats := doc["stats"].(map[string]any)
	for _, k := range []string{"min", "max", "mean", "stddev"} {
		if _, ok := stats[k]; !ok {
			t.Errorf("stats lacks %q", k)
		}
	}
	adf, _ := doc["adf"].(map[string]any)
	for _, k := range []string{"statistic", "pvalue", "used_lag", "nobs", "critical_values", "ic_best", "stationary"} {
		if _, ok := adf[k]; !ok {
			t.Errorf("adf lacks %q", k)
		}
	}
	crit, _ := adf["critical_values"].(map[string]any)
	for _, k := range []string{"1%", "5%", "10%"} {
		if _, ok := crit[k]; !ok {
			t.Errorf("critical_values lacks %q", k)
		}
	}
	if res.Stats.Count != 398 || res.N != 400 {
		t.Errorf("count %d of n %d, want 398 of 400", res.Stats.Count, res.N)
	}
	s := res.Seasonality
	if s == nil {
		t.Fatal("period 20 given but no seasonality")
	}
	if s.Period != 20 || s.Detected || len(s.Seasonal) != 20 {
		t.Errorf("given period: seasonality %+v", s)
	}
	f := res.Forecast
	if f == nil {
		t.Fatal("no forecast")
	}
	if f.Horizon != 12 || len(f.Mean) != 12 {
		t.Errorf("forecast horizon %d with %d values, want 12", f.Horizon, len(f.Mean))
	}
}

// TestAnalyzeReference runs the entry point on every reference case and
// checks that it reports what the per-stage functions were checked to
// compute, plus the contract's shape.
func TestAnalyzeReference(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			in := caseInput(t, c)
			res, err := Analyze(in)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, in, res)
			if (res.ADF == nil) != (c.Reference.ADF == nil) || (res.ACF == nil) != (c.Reference.ACF == nil) {
				t.Fatalf("adf/acf presence differs from the reference")
			}
			if res.ADF != nil && res.ADF.UsedLag != c.Reference.ADF.UsedLag {
				t.Errorf("used_lag %d, want %d", res.ADF.UsedLag, c.Reference.ADF.UsedLag)
			}
			if in.Period != 0 && res.Seasonality == nil {
				t.Errorf("period %d given but no seasonality", in.Period)
			}
		})
	}
}
