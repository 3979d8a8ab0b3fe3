package season

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// exactCase is a series whose season (0: none) is known by construction.
type exactCase struct {
	name string
	x    []float64
	want int
}

// TestDetectExactSeasons: noiseless seasons, seasons whose noise is below
// the precision of their level, and noise close to the exact-fit tolerance
// have their true period, not a divisor or a multiple; noiseless series
// without a season (lines, curves, constants with rounding noise) have
// none.
func TestDetectExactSeasons(t *testing.T) {
	pat := []float64{1, 2, 3, 2}
	var cases []exactCase
	add := func(name string, x []float64, want int) {
		cases = append(cases, exactCase{name, x, want})
	}
	for _, n := range []int{16, 24, 40, 100} {
		add(fmt.Sprintf("1 2 3 2, n=%d", n), tile(pat, n), 4)
		add(fmt.Sprintf("1 2 3 2 + N(0, 0.001), n=%d", n), plusNoise(tile(pat, n), 1e-3, uint64(n)), 4)
	}
	// Around the exact-fit tolerance, on both of its sides.
	for _, sd := range []float64{1e-5, 3e-5, 1e-4, 3e-4} {
		for seed := range uint64(4) {
			add(fmt.Sprintf("1 2 3 2 + N(0, %g), seed %d", sd, seed), plusNoise(tile(pat, 100), sd, seed), 4)
			add(fmt.Sprintf("sine 24 + N(0, %g), seed %d", sd, seed), plusNoise(sineWave(24, 240), sd, seed), 24)
		}
	}
	add("sawtooth t mod 5, n=50", sawtooth(5, 50), 5)
	add("sawtooth t mod 7, n=70", sawtooth(7, 70), 7)
	add("sawtooth t mod 24, n=240", sawtooth(24, 240), 24)
	for _, p := range []int{7, 12, 24, 60} {
		add(fmt.Sprintf("sine %d, 10 seasons", p), sineWave(p, 10*p), p)
	}
	add("sine 720 over 8640", sineWave(720, 8640), 720)
	add("square wave 10", tile([]float64{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}, 100), 10)
	add("alternation 0 1, n=16", tile([]float64{0, 1}, 16), 2)
	add("alternation 0 1, n=101", tile([]float64{0, 1}, 101), 2)
	add("pulse every 12", tile([]float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}, 120), 12)
	add("1 2 3 2 on a line", plusLine(tile(pat, 100), 5, 0.37), 4)
	add("1 2 3 2 on a steep line (a counter)", plusLine(tile(pat, 100), 1e6, 2), 4)
	add("1 2 3 2 on a falling line", plusLine(tile(pat, 100), 0, -0.1), 4)
	add("1 2 3 2 at 1e9", plusLine(tile(pat, 100), 1e9, 0), 4)
	add("sine 24 at 1e9", plusLine(sineWave(24, 600), 1e9, 0), 24)
	// At 1e12 a unit is about 8000 units in the last place: the noise
	// rounds away and the values repeat.
	add("sine 24 at 1e12, noise below its precision", plusLine(plusNoise(sineWave(24, 600), 3e-6, 4), 1e12, 0), 24)
	add("pulse every 12 at 1e12, noise below its precision",
		plusLine(plusNoise(tile([]float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}, 300), 3e-5, 1), 1e12, 0), 12)
	// A weak component at the full period is real, however small next to
	// the half-period one, as long as the season is measured exactly.
	half := sineWave(12, 240)
	for i, v := range sineWave(24, 240) {
		half[i] += 0.01 * v
	}
	add("period 24 dominated by its 12 harmonic", half, 24)
	pattern := plusNoise(make([]float64, 50), 1, 7)
	add("a random pattern seen exactly four times", tile(pattern, 200), 50)
	// Fewer than minCycles cycles are no evidence of a season, however
	// exact.
	add("a random pattern seen exactly three times", tile(pattern, 150), 0)

	add("constant", plusLine(make([]float64, 500), 7, 0), 0)
	add("constant + N(0, 1e-9)", plusNoise(plusLine(make([]float64, 500), 7, 0), 1e-9, 1), 0)
	add("constant + N(0, 1e-15)", plusNoise(plusLine(make([]float64, 500), 7, 0), 1e-15, 2), 0)
	add("1e9 + N(0, 1e-6)", plusNoise(plusLine(make([]float64, 500), 1e9, 0), 1e-6, 3), 0)
	for _, n := range []int{100, 720, 8640} {
		add(fmt.Sprintf("line 3 + 0.7 t, n=%d", n), plusLine(make([]float64, n), 3, 0.7), 0)
		add(fmt.Sprintf("line 0.1 t, n=%d", n), plusLine(make([]float64, n), 0, 0.1), 0)
		add(fmt.Sprintf("line 1e6 - 0.37 t, n=%d", n), plusLine(make([]float64, n), 1e6, -0.37), 0)
	}
	curve := func(n int, f func(u float64) float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = f(float64(i) / float64(n))
		}
		return x
	}
	add("parabola", curve(720, func(u float64) float64 { return (u - 0.5) * (u - 0.5) }), 0)
	add("exponential growth", curve(720, func(u float64) float64 { return math.Exp(3 * u) }), 0)
	add("one step", curve(720, func(u float64) float64 { return math.Floor(3 * u) }), 0)
	add("one cycle of a sine", curve(720, func(u float64) float64 { return math.Sin(2 * math.Pi * u) }), 0)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ok := Detect(c.x)
			if c.want == 0 && ok {
				t.Fatalf("Detect = %d, want no season", p)
			}
			if c.want != 0 && (!ok || p != c.want) {
				t.Fatalf("Detect = %d (ok=%v), want %d", p, ok, c.want)
			}
		})
	}
}

// TestDespikeLeavesSharpSeasons: a season whose first differences take a
// few values (MAD zero) is the signal, not outliers; lone spikes on a flat
// series still are.
func TestDespikeLeavesSharpSeasons(t *testing.T) {
	cases := []struct {
		name   string
		x      []float64
		spikes int
	}{
		{"1 2 3 2", tile([]float64{1, 2, 3, 2}, 100), 0},
		{"1 2 3 2 + N(0, 0.001)", plusNoise(tile([]float64{1, 2, 3, 2}, 100), 1e-3, 1), 0},
		{"alternation", tile([]float64{0, 1}, 101), 0},
		{"three stray spikes", spikes(500, 0, 75, 312, 463), 3},
		{"spike every 30", spikes(600, 30, 3), 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y := append([]float64(nil), c.x...)
			at := despike(y, roundoff(1), make([]float64, len(y)))
			if len(at) != c.spikes {
				t.Fatalf("despike found %d spikes, want %d", len(at), c.spikes)
			}
			if c.spikes == 0 {
				for i := range y {
					if y[i] != c.x[i] {
						t.Fatalf("sample %d changed from %g to %g", i, c.x[i], y[i])
					}
				}
			}
		})
	}
}

// tile repeats pattern over n samples.
func tile(pattern []float64, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = pattern[i%len(pattern)]
	}
	return x
}

func sawtooth(period, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i % period)
	}
	return x
}

func sineWave(period, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Sin(2 * math.Pi * float64(i) / float64(period))
	}
	return x
}

// plusNoise adds N(0, sd^2) noise to x in place and returns it.
func plusNoise(x []float64, sd float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 11))
	for i := range x {
		x[i] += sd * r.NormFloat64()
	}
	return x
}

// plusLine adds level + slope*t to x in place and returns it.
func plusLine(x []float64, level, slope float64) []float64 {
	for i := range x {
		x[i] += level + slope*float64(i)
	}
	return x
}
