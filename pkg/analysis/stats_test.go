package analysis

import (
	"math"
	"slices"
	"testing"
)

var nan = math.NaN()

func TestSummarize(t *testing.T) {
	cases := []struct {
		name string
		in   []float64
		want Stats
	}{
		{"empty", nil, Stats{}},
		{"all gaps", []float64{nan, nan}, Stats{}},
		{"one sample", []float64{nan, 7, nan}, Stats{Count: 1, Min: 7, Max: 7, Mean: 7}},
		// mean 5, squared deviations 9+1+1+9 = 20, /3.
		{"gaps skipped", []float64{2, nan, 4, 6, nan, 8}, Stats{Count: 4, Min: 2, Max: 8, Mean: 5, Stddev: math.Sqrt(20.0 / 3)}},
		{"negative", []float64{-1, -3}, Stats{Count: 2, Min: -3, Max: -1, Mean: -2, Stddev: math.Sqrt2}},
		{"constant", []float64{4.5, 4.5, 4.5}, Stats{Count: 3, Min: 4.5, Max: 4.5, Mean: 4.5}},
		// Huge offset: a naive sum-of-squares would cancel to garbage; the
		// two-pass deviation from the exact mean 1e12+1 is exact.
		{"huge offset", []float64{1e12, 1e12 + 1, 1e12 + 2}, Stats{Count: 3, Min: 1e12, Max: 1e12 + 2, Mean: 1e12 + 1, Stddev: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Summarize(c.in); got != c.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", c.in, got, c.want)
			}
		})
	}
}

// Summarize follows numpy's summation order (8192-element buffers, each
// summed pairwise), so on every reference case the mean and standard
// deviation are not just close to numpy's but the same float64; the 8640
// sample cases cross a buffer boundary and the 1e12 + noise case would show
// any other order in its last digits.
func TestSummarizeBitIdenticalToNumpy(t *testing.T) {
	for _, c := range loadCases(t) {
		in := caseInput(t, c)
		got, want := Summarize(in.Values), c.Reference.Stats
		if got.Mean != want.Mean || got.Stddev != want.Stddev {
			t.Errorf("%s: mean, stddev = %.17g, %.17g, want %.17g, %.17g", c.Name, got.Mean, got.Stddev, want.Mean, want.Stddev)
		}
	}
}

func TestSummarizeDoesNotAllocate(t *testing.T) {
	x := make([]float64, 20000)
	for i := range x {
		x[i] = float64(i)
		if i%10 == 0 {
			x[i] = nan
		}
	}
	if allocs := testing.AllocsPerRun(10, func() { Summarize(x) }); allocs != 0 {
		t.Errorf("Summarize allocates %v times per call", allocs)
	}
}

func TestFillGaps(t *testing.T) {
	cases := []struct {
		name     string
		in, want []float64
	}{
		{"no gaps", []float64{1, 2, 3}, []float64{1, 2, 3}},
		{"interior", []float64{0, nan, nan, 3}, []float64{0, 1, 2, 3}},
		{"edges take nearest", []float64{nan, nan, 5, nan, 7, nan}, []float64{5, 5, 5, 6, 7, 7}},
		{"single sample", []float64{nan, 2, nan}, []float64{2, 2, 2}},
		{"descending", []float64{10, nan, nan, nan, 2}, []float64{10, 8, 6, 4, 2}},
		{"all gaps stay gaps", []float64{nan, nan}, []float64{nan, nan}},
		{"empty", []float64{}, []float64{}},
	}
	same := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) })
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := FillGaps(nil, c.in); !same(got, c.want) {
				t.Errorf("FillGaps(%v) = %v, want %v", c.in, got, c.want)
			}
			inPlace := slices.Clone(c.in)
			if got := FillGaps(inPlace, inPlace); !same(got, c.want) || !same(inPlace, c.want) {
				t.Errorf("in place: %v, want %v", got, c.want)
			}
		})
	}
}

func TestFillGapsReusesDst(t *testing.T) {
	dst := make([]float64, 0, 8)
	got := FillGaps(dst, []float64{1, nan, 3})
	if &got[0] != &dst[:1][0] {
		t.Error("FillGaps allocated although dst had room")
	}
	if allocs := testing.AllocsPerRun(10, func() { FillGaps(dst, []float64{1, nan, 3}) }); allocs != 0 {
		t.Errorf("FillGaps allocates %v times with a large enough dst", allocs)
	}
}

func TestMackinnonP(t *testing.T) {
	// statsmodels 0.13.5 mackinnonp(stat, "c", 1).
	cases := []struct{ stat, want float64 }{
		{-20, 0},
		{-18.83, 2.022123723345286e-30},
		{-5, 2.2193154713956276e-05},
		{-3, 0.034894400275345266},
		{-1.61, 0.4779756525941893},
		{-1.6, 0.4835934696535866},
		{0, 0.958532086060056},
		{2, 0.9986729511999243},
		{2.74, 0.9990880801041981},
		{3, 1},
	}
	for _, c := range cases {
		if got := mackinnonP(c.stat); !closeTo(got, c.want, 1e-12, 1) {
			t.Errorf("mackinnonP(%v) = %.17g, want %.17g", c.stat, got, c.want)
		}
	}
}

func TestMackinnonCrit(t *testing.T) {
	// statsmodels 0.13.5 mackinnoncrit(1, "c", nobs).
	cases := []struct {
		nobs int
		want [3]float64
	}{
		{4, [3]float64{-7.355440625, -4.474365000000001, -3.1269325}},
		{50, [3]float64{-3.568485864, -2.92135992, -2.5986616}},
		{719, [3]float64{-3.439477677285233, -2.865568186630048, -2.5689150720653977}},
		{8602, [3]float64{-3.4311104339084104, -2.861876060538507, -2.5669488800920677}},
	}
	for _, c := range cases {
		got := mackinnonCrit(c.nobs)
		for i := range got {
			if !closeTo(got[i], c.want[i], 1e-12, 1) {
				t.Errorf("mackinnonCrit(%d)[%d] = %.17g, want %.17g", c.nobs, i, got[i], c.want[i])
			}
		}
	}
}

func TestDefaultACFLags(t *testing.T) {
	// min(int(10*np.log10(n)), n-1) from numpy.
	cases := []struct{ n, want int }{
		{1, 0}, {2, 1}, {9, 8}, {10, 9}, {11, 10}, {99, 19}, {100, 20}, {101, 20},
		{999, 29}, {1000, 30}, {1001, 30}, {10000, 40}, {100000, 50}, {1000000, 60},
	}
	for _, c := range cases {
		if got := DefaultACFLags(c.n); got != c.want {
			t.Errorf("DefaultACFLags(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func TestACFByConstruction(t *testing.T) {
	// x = 1..5: deviations -2..2, c0 = 10/5, c1 = (-2·-1 + -1·0 + 0·1 + 1·2)/5
	// = 4/5, c2 = (-2·0 + -1·1 + 0·2)/5 = -1/5, so r = 1, 0.4, -0.1.
	got := ACF([]float64{1, 2, 3, 4, 5}, 2)
	want := []float64{1, 0.4, -0.1}
	if len(got) != len(want) {
		t.Fatalf("ACF = %v, want %v", got, want)
	}
	for i := range want {
		if !closeTo(got[i], want[i], 1e-12, 1) {
			t.Errorf("ACF[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if got := ACF([]float64{3, 3, 3}, 2); got != nil {
		t.Errorf("ACF of a constant = %v, want nil", got)
	}
	if got := ACF([]float64{1, 2}, 10); len(got) != 2 {
		t.Errorf("ACF with nlags beyond n-1 has %d lags, want 2", len(got))
	}
}
