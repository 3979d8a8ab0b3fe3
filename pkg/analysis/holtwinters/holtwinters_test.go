package holtwinters

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func TestForecastRejectsBadInput(t *testing.T) {
	cases := []struct {
		name string
		x    []float64
		opts Options
	}{
		{"empty", nil, Options{Horizon: 1}},
		{"all missing", []float64{math.NaN(), math.NaN()}, Options{Horizon: 1}},
		{"infinite", []float64{1, math.Inf(1), 2}, Options{Horizon: 1}},
		{"zero horizon", []float64{1, 2, 3}, Options{}},
		{"negative period", []float64{1, 2, 3}, Options{Period: -1, Horizon: 1}},
		{"period one", []float64{1, 2, 3}, Options{Period: 1, Horizon: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Forecast(c.x, c.opts)
			if !errors.Is(err, ErrInput) {
				t.Fatalf("Forecast = %v, %v; want an ErrInput error", r, err)
			}
		})
	}
}

// checkFinite fails unless every forecast value is finite and the interval
// contains the mean.
func checkFinite(t *testing.T, r *Result, horizon int) {
	t.Helper()
	if len(r.Mean) != horizon || len(r.Lower) != horizon || len(r.Upper) != horizon {
		t.Fatalf("lengths %d/%d/%d, want %d", len(r.Mean), len(r.Lower), len(r.Upper), horizon)
	}
	for h := range r.Mean {
		for _, v := range []float64{r.Mean[h], r.Lower[h], r.Upper[h]} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("step %d: non-finite forecast %v [%v, %v]", h+1, r.Mean[h], r.Lower[h], r.Upper[h])
			}
		}
		if r.Lower[h] > r.Mean[h] || r.Upper[h] < r.Mean[h] {
			t.Fatalf("step %d: interval [%v, %v] misses the mean %v", h+1, r.Lower[h], r.Upper[h], r.Mean[h])
		}
	}
	if math.IsNaN(r.Sigma) || math.IsInf(r.Sigma, 0) || math.IsNaN(r.AICc) || math.IsInf(r.AICc, 0) {
		t.Fatalf("sigma %v, AICc %v: want finite", r.Sigma, r.AICc)
	}
}

// TestForecastKnownByConstruction checks series whose forecast is known
// without a reference: a constant stays flat with a zero-width interval, a
// noiseless line continues, a noiseless season repeats, whatever the
// magnitude.
func TestForecastKnownByConstruction(t *testing.T) {
	const h = 50
	line := func(a, b float64, n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = a + b*float64(i)
		}
		return x
	}
	sine := func(level, amp float64, period, n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = level + amp*math.Sin(2*math.Pi*float64(i)/float64(period))
		}
		return x
	}
	cases := []struct {
		name   string
		x      []float64
		period int
		want   func(step int) float64 // 1-based step after the series
		tol    float64                // absolute
		width  float64                // maximal interval width at h, absolute
	}{
		{"constant", line(7, 0, 100), 0, func(int) float64 { return 7 }, 0, 0},
		{"constant huge", line(5e10, 0, 100), 0, func(int) float64 { return 5e10 }, 0, 0},
		{"constant with period", line(-3, 0, 100), 10, func(int) float64 { return -3 }, 0, 0},
		{"line", line(10, 0.5, 200), 0, func(s int) float64 { return 10 + 0.5*float64(199+s) }, 1e-6, 1e-3},
		{"counter", line(1e12, 12345, 2000), 0, func(s int) float64 { return 1e12 + 12345*float64(1999+s) }, 1, 100},
		{"season", sine(100, 10, 24, 480), 24, func(s int) float64 {
			return 100 + 10*math.Sin(2*math.Pi*float64(479+s)/24)
		}, 1e-6, 1e-3},
		{"season on a huge level", sine(5e10, 1e6, 60, 600), 60, func(s int) float64 {
			return 5e10 + 1e6*math.Sin(2*math.Pi*float64(599+s)/60)
		}, 1, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Forecast(c.x, Options{Period: c.period, Horizon: h})
			if err != nil {
				t.Fatal(err)
			}
			checkFinite(t, r, h)
			for s := 1; s <= h; s++ {
				if got, want := r.Mean[s-1], c.want(s); math.Abs(got-want) > c.tol {
					t.Fatalf("%s: step %d forecast %v, want %v ± %v", r.Model, s, got, want, c.tol)
				}
				if w := r.Upper[s-1] - r.Lower[s-1]; w > c.width {
					t.Fatalf("%s: step %d interval width %v, want <= %v", r.Model, s, w, c.width)
				}
			}
		})
	}
}

// TestForecastIntervalWidens checks the variance formulas on a random walk,
// whose interval must widen like sqrt(h) (ETS(A,N,N) with alpha near 1:
// v_h = sigma^2 (1 + (h-1) alpha^2)).
func TestForecastIntervalWidens(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	x := make([]float64, 2000)
	for i := 1; i < len(x); i++ {
		x[i] = x[i-1] + r.NormFloat64()
	}
	res, err := Forecast(x, Options{Horizon: 100})
	if err != nil {
		t.Fatal(err)
	}
	checkFinite(t, res, 100)
	w1 := res.Upper[0] - res.Lower[0]
	w100 := res.Upper[99] - res.Lower[99]
	z975 := distuv.UnitNormal.Quantile(0.975) // gonum's, not the constant the code uses
	if math.Abs(w1/(2*z975)-res.Sigma) > 1e-9*res.Sigma {
		t.Errorf("one-step half-width %v, want z975*sigma = %v", w1/2, z975*res.Sigma)
	}
	if ratio := w100 / w1; ratio < 7 || ratio > 11 {
		t.Errorf("%s %v: width ratio h=100/h=1 = %.2f, want about sqrt(100) = 10", res.Model, res.Params, ratio)
	}
	if math.Abs(res.Sigma-1) > 0.1 {
		t.Errorf("sigma %v, want about 1 (the walk's step)", res.Sigma)
	}
}

func TestForecastShortSeries(t *testing.T) {
	cases := []struct {
		name string
		x    []float64
		want float64
	}{
		{"one sample", []float64{3}, 3},
		{"three samples", []float64{1, 2, 4}, 4},
		{"gaps around", []float64{math.NaN(), 5, math.NaN(), 6, math.NaN()}, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Forecast(c.x, Options{Horizon: 3, Period: 12})
			if err != nil {
				t.Fatal(err)
			}
			checkFinite(t, r, 3)
			if r.Mean[0] != c.want {
				t.Errorf("%s forecast %v, want the last value %v", r.Model, r.Mean[0], c.want)
			}
		})
	}
}

// TestForecastNoisyLine: a line in unit noise keeps rising: the first step
// near the line, and at least half of the line's rise over 20 steps (a
// damped trend rises less than the line, by construction).
func TestForecastNoisyLine(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	x := make([]float64, 500)
	for i := range x {
		x[i] = 10 + 0.5*float64(i) + r.NormFloat64()
	}
	res, err := Forecast(x, Options{Horizon: 20})
	if err != nil {
		t.Fatal(err)
	}
	checkFinite(t, res, 20)
	if want := 10 + 0.5*500.0; math.Abs(res.Mean[0]-want) > 2 {
		t.Errorf("%s %v: first step %v, want %v ± 2", res.Model, res.Params, res.Mean[0], want)
	}
	if rise := res.Mean[19] - res.Mean[0]; rise < 0.5*0.5*19 || rise > 1.2*0.5*19 {
		t.Errorf("%s %v: rise over 19 steps %v, want between %v and %v", res.Model, res.Params, rise, 0.25*19, 0.6*19)
	}
	if res.Model == "ses" {
		t.Errorf("model %s for a trending series", res.Model)
	}
}
