package season

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDecomposeSeasonalTilesIndices checks on every seasonal reference case
// that the seasonal component repeats the indices (their values against
// statsmodels are checked by analysis' TestReferenceSeasonal).
func TestDecomposeSeasonalTilesIndices(t *testing.T) {
	n := 0
	for _, c := range loadCases(t) {
		ref := c.Reference.Seasonality
		if ref == nil {
			continue
		}
		n++
		t.Run(c.file, func(t *testing.T) {
			d, err := Decompose(c.x, ref.Period)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Indices) != ref.Period || len(d.Seasonal) != len(c.x) {
				t.Fatalf("%d indices and %d seasonal values, want %d and %d", len(d.Indices), len(d.Seasonal), ref.Period, len(c.x))
			}
			for i, v := range d.Seasonal {
				if v != d.Indices[i%ref.Period] {
					t.Fatalf("Seasonal[%d] = %v, want index %v", i, v, d.Indices[i%ref.Period])
				}
			}
		})
	}
	if n == 0 {
		t.Fatal("no seasonal reference case")
	}
}

// TestDecomposeKnownByConstruction: the centred moving average of a pure
// sine over whole periods is its level (the 2xP filter's half weights on
// both ends add up to one full weight on one phase), so the indices are the
// sine's values at each phase, the residual is zero, the strength is one.
func TestDecomposeKnownByConstruction(t *testing.T) {
	cases := []struct {
		name   string
		period int
		n      int
		level  float64
	}{
		{"odd period", 7, 70, 3},
		{"even period", 24, 240, -5},
		{"long even period", 720, 8640, 0.5},
		{"two seasons exactly", 360, 720, 100},
		{"huge level", 120, 1000, 5e10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := make([]float64, c.n)
			for i := range x {
				x[i] = c.level + math.Sin(2*math.Pi*float64(i)/float64(c.period))
			}
			d, err := Decompose(x, c.period)
			if err != nil {
				t.Fatal(err)
			}
			// Relative to the level: its rounding is the floor.
			tol := 1e-12 * math.Max(1, math.Abs(c.level))
			for j, got := range d.Indices {
				if want := math.Sin(2 * math.Pi * float64(j) / float64(c.period)); math.Abs(got-want) > tol {
					t.Fatalf("index %d = %v, want %v", j, got, want)
				}
			}
			half := c.period / 2
			for i := range x {
				undefined := i < half || i >= c.n-half
				if math.IsNaN(d.Trend[i]) != undefined || math.IsNaN(d.Resid[i]) != undefined {
					t.Fatalf("sample %d: trend %v resid %v, want NaN exactly on the %d edge samples", i, d.Trend[i], d.Resid[i], half)
				}
				if !undefined && (math.Abs(d.Trend[i]-c.level) > tol || math.Abs(d.Resid[i]) > tol) {
					t.Fatalf("sample %d: trend %v resid %v, want %v and 0", i, d.Trend[i], d.Resid[i], c.level)
				}
			}
			if s := d.Strength(); math.Abs(s-1) > 1e-9 {
				t.Errorf("strength %v, want 1", s)
			}
		})
	}
}

func TestDecomposeRejectsBadInput(t *testing.T) {
	cases := []struct {
		name   string
		x      []float64
		period int
	}{
		{"period one", make([]float64, 10), 1},
		{"period zero", make([]float64, 10), 0},
		{"one season", make([]float64, 10), 6},
		{"NaN", []float64{1, 2, math.NaN(), 4, 5, 6}, 2},
		{"Inf", []float64{1, 2, math.Inf(-1), 4, 5, 6}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if d, err := Decompose(c.x, c.period); err == nil {
				t.Fatalf("Decompose = %+v, want an error", d)
			}
		})
	}
	if _, err := Decompose(make([]float64, 10), 6); !errors.Is(err, ErrTooShort) {
		t.Errorf("one season: error %v, want ErrTooShort", err)
	}
}

// TestStrength checks F_S on series whose season explains a known share:
// seasonal variance 1/2 (unit sine) against noise variance v gives about
// 1 - v/(v + 1/2).
func TestStrength(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name  string
		noise float64 // standard deviation
		want  float64
		tol   float64
	}{
		{"noise only", math.Inf(1), 0, 0.05},
		{"strong", 0.1, 1 - 0.01/0.51, 0.02},
		{"even", math.Sqrt(0.5), 0.5, 0.05},
		{"weak", 2, 1 - 4/4.5, 0.05},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := make([]float64, 8640)
			for i := range x {
				if math.IsInf(c.noise, 1) {
					x[i] = r.NormFloat64()
					continue
				}
				x[i] = math.Sin(2*math.Pi*float64(i)/24) + c.noise*r.NormFloat64()
			}
			d, err := Decompose(x, 24)
			if err != nil {
				t.Fatal(err)
			}
			if s := d.Strength(); math.Abs(s-c.want) > c.tol || s < 0 || s > 1 {
				t.Errorf("strength %.4f, want %.4f ± %.2f", s, c.want, c.tol)
			}
		})
	}
}
