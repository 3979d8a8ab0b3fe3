package season

import (
	"math/rand/v2"
	"testing"
)

// bursts returns n samples of noise with a burst of width samples every
// period samples, each burst of its own random height.
func bursts(r *rand.Rand, n, period, width int, base, minH, maxH float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = base + r.NormFloat64()
	}
	for start := period / 3; start < n; start += period {
		h := minH + (maxH-minH)*r.Float64()
		for i := start; i < min(n, start+width); i++ {
			x[i] += h
		}
	}
	return x
}

// TestDetectBurstsOfVaryingHeight: a job that runs every period samples
// with a load that differs from run to run has that period, not a multiple
// of it: a multiple fits the differing heights better, but what it adds does
// not recur.
func TestDetectBurstsOfVaryingHeight(t *testing.T) {
	cases := []struct {
		n, period, width int
	}{
		{8640, 360, 12}, {8640, 720, 30}, {8640, 120, 6}, {2016, 288, 12}, {4320, 360, 20},
	}
	for _, c := range cases {
		wrong, misses := map[int]int{}, 0
		for seed := range 10 {
			r := rand.New(rand.NewPCG(uint64(seed), uint64(c.period)))
			x := bursts(r, c.n, c.period, c.width, 50, 5, 40)
			if p, _ := Detect(x); p != c.period {
				wrong[p]++
				misses++
			}
		}
		// Five cycles of a multiple all agree by chance one time in 32.
		if misses > 1 {
			t.Errorf("bursts every %d (n=%d, width %d): wrong periods %v in 10 series, want at most 1", c.period, c.n, c.width, wrong)
		}
	}
}

// TestDetectOneOffEvents: one spike, one burst and one level shift on
// noise are not seasons, however significant their phase means are.
func TestDetectOneOffEvents(t *testing.T) {
	for seed := range 20 {
		r := rand.New(rand.NewPCG(uint64(seed), 77))
		n := 2016
		mk := func() []float64 {
			x := make([]float64, n)
			for i := range x {
				x[i] = 100 + r.NormFloat64()
			}
			return x
		}
		spike := mk()
		spike[700] += 400
		burst := mk()
		for i := 900; i < 930; i++ {
			burst[i] += 60
		}
		shift := mk()
		for i := 1300; i < n; i++ {
			shift[i] += 15
		}
		twoBursts := mk()
		for _, at := range []int{300, 1500} {
			for i := at; i < at+20; i++ {
				twoBursts[i] += 80
			}
		}
		for name, x := range map[string][]float64{"spike": spike, "burst": burst, "shift": shift, "two bursts": twoBursts} {
			if r := Explain(x); r.Period != 0 {
				t.Errorf("seed %d, %s: season %d reported (%+v)", seed, name, r.Period, r)
			}
		}
	}
}
