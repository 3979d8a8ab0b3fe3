package ensemble

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func noise(seed uint64, n int, level, sd float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, n)
	for i := range x {
		x[i] = level + sd*r.NormFloat64()
	}
	return x
}

// TestForecastBadInput: empty series, gaps, infinities and a horizon
// below one are refused with ErrInput.
func TestForecastBadInput(t *testing.T) {
	cases := map[string]struct {
		x []float64
		h int
	}{
		"empty":     {nil, 10},
		"nan":       {[]float64{1, math.NaN(), 3}, 10},
		"inf":       {[]float64{1, math.Inf(1), 3}, 10},
		"horizon 0": {[]float64{1, 2, 3}, 0},
	}
	for name, c := range cases {
		if _, err := Forecast(c.x, Options{Horizon: c.h}); !errors.Is(err, ErrInput) {
			t.Errorf("%s: err = %v, want ErrInput", name, err)
		}
	}
}

// TestForecastNeverNegative: a series that was never negative, near zero
// and noisy, gets no forecast or bound below zero; the same noise unfolded
// is not clipped.
func TestForecastNeverNegative(t *testing.T) {
	x := noise(1, 1000, 0.3, 0.5)
	for i := range x {
		x[i] = math.Abs(x[i])
	}
	r, err := Forecast(x, Options{Horizon: 30})
	if err != nil {
		t.Fatal(err)
	}
	if !r.NonNegative {
		t.Fatal("NonNegative = false for a series never below zero")
	}
	for i := range r.Mean {
		if r.Mean[i] < 0 || r.Lower[i] < 0 || r.Upper[i] < r.Lower[i] {
			t.Fatalf("step %d: mean %g, interval [%g, %g]", i, r.Mean[i], r.Lower[i], r.Upper[i])
		}
	}
	// The same noise, not folded: a quarter of it below zero.
	r, err = Forecast(noise(1, 1000, 0.3, 0.5), Options{Horizon: 30})
	if err != nil {
		t.Fatal(err)
	}
	if r.NonNegative || r.Lower[29] >= 0 {
		t.Errorf("a series with negative samples: NonNegative %v, last lower bound %g: want false and below zero", r.NonNegative, r.Lower[29])
	}
}

// TestForecastIgnoresOneSpike: a spike of 1000 noise deviations at the end
// of a flat series does not carry into the forecast (the robust and median
// candidates win the evaluation, as the spike's like never came before).
func TestForecastIgnoresOneSpike(t *testing.T) {
	x := noise(2, 2016, 100, 5)
	x[2010] = 5000
	r, err := Forecast(x, Options{Horizon: 12})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range r.Mean {
		if math.Abs(v-100) > 10 {
			t.Fatalf("step %d: forecast %g after a spike on a level of 100 (model %s)", i, v, r.Model)
		}
	}
}

// TestForecastLine: a line with little noise is forecast along the line:
// the trend models win.
func TestForecastLine(t *testing.T) {
	x := noise(3, 1500, 0, 0.01)
	for i := range x {
		x[i] += 10 + 0.5*float64(i)
	}
	r, err := Forecast(x, Options{Horizon: 20})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.Mean {
		want := 10 + 0.5*float64(1500+k)
		if math.Abs(v-want) > 0.5 {
			t.Fatalf("step %d: forecast %g, want %g ± 0.5 (model %s)", k+1, v, want, r.Model)
		}
	}
}

// TestForecastCoverage: on white noise, AR(1) and a random walk, the
// empirical 95 % interval covers 90 to 99 % of the held-out values pooled
// over seeds, and MAE is no worse than the naive forecast's on white noise.
func TestForecastCoverage(t *testing.T) {
	const n, h = 1200, 24
	for _, kind := range []string{"white", "ar1", "walk"} {
		inside, total := 0, 0
		for seed := range 40 {
			r := rand.New(rand.NewPCG(uint64(seed), 9))
			y := make([]float64, n+h)
			prev := 0.0
			for i := range y {
				e := r.NormFloat64()
				switch kind {
				case "white":
					y[i] = 50 + e
				case "ar1":
					prev = 0.8*prev + e
					y[i] = 50 + prev
				case "walk":
					prev += e
					y[i] = 50 + prev
				}
			}
			fc, err := Forecast(y[:n], Options{Horizon: h})
			if err != nil {
				t.Fatal(err)
			}
			if fc.Interval != IntervalEmpirical {
				t.Fatalf("%s: interval %q, want %q", kind, fc.Interval, IntervalEmpirical)
			}
			for k, v := range y[n:] {
				if v >= fc.Lower[k] && v <= fc.Upper[k] {
					inside++
				}
			}
			total += h
		}
		cover := float64(inside) / float64(total)
		t.Logf("%s: coverage %.3f", kind, cover)
		if cover < 0.90 || cover > 0.99 {
			t.Errorf("%s: coverage %.3f, want 0.90 to 0.99", kind, cover)
		}
	}
}

// TestForecastTrailingGaps: samples filled after the last observed one are
// forecast over, not from: a line whose last five samples were filled flat
// is forecast along the line.
func TestForecastTrailingGaps(t *testing.T) {
	const n = 1000
	x := noise(4, n, 0, 0.01)
	filled := make([]bool, n)
	for i := range x {
		x[i] += float64(i)
	}
	for i := n - 5; i < n; i++ {
		x[i], filled[i] = x[n-6], true // filled with the nearest value
	}
	r, err := Forecast(x, Options{Horizon: 10, Filled: filled})
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(n); math.Abs(r.Mean[0]-want) > 0.5 {
		t.Errorf("first step %g, want %g (the line, not the filled flat tail)", r.Mean[0], want)
	}
}

// TestForecastShortSeries: a series too short for the evaluation gets the
// analytic interval of the exponential smoothing model.
func TestForecastShortSeries(t *testing.T) {
	r, err := Forecast(noise(5, 40, 10, 1), Options{Horizon: 10})
	if err != nil {
		t.Fatal(err)
	}
	if r.Interval != IntervalAnalytic || len(r.Mean) != 10 {
		t.Errorf("interval %q with %d steps, want %q with 10", r.Interval, len(r.Mean), IntervalAnalytic)
	}
}

// TestModelNameLength: the longest name Forecast can give fits the 64
// characters the store keeps.
func TestModelNameLength(t *testing.T) {
	// Noisy enough for the robust candidates, whose names are the longest.
	ev := newEvaluation(noise(6, 50, 0, 1), nil, 1, math.Inf(-1), nil)
	ev.addSimple()
	longest := []string{"damped_seasonal", "holt_winters"}
	robust := 0
	for _, name := range ev.names {
		longest = append(longest, name)
		if strings.HasPrefix(name, "robust_") {
			robust++
		}
	}
	if robust != len(alphas) {
		t.Fatalf("%d robust candidates among %v, want %d", robust, ev.names, len(alphas))
	}
	var names []string
	for range maxMembers {
		best := ""
		for _, n := range longest {
			if len(n) > len(best) {
				best = n
			}
		}
		names = append(names, best)
	}
	if s := "combination(" + strings.Join(names, ",") + ")"; len(s) > 64 {
		t.Errorf("%q is %d characters, want at most 64", s, len(s))
	}
}
