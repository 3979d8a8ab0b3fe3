package season

import (
	"math"
	"math/rand/v2"
	"testing"
)

// noiseFamilies are the reference families with no season by construction.
var noiseFamilies = map[string]bool{"white_noise": true, "ar1": true, "random_walk": true}

// TestDetectReferenceCases: on every case generated with a season of at
// least four cycles, Detect finds it, unless that season is not
// statistically visible in the data (its own F test, the one Detect
// applies, is not significant), which the test then checks and logs; where
// the series holds fewer cycles, Detect never reports that season (it may
// report a shorter one with four cycles: fs_avail_1_003, two cycles of 360
// over a random walk, shows a recurring pattern of 150 in all four of its
// cycles); on white noise, AR(1) and random walks it finds none.
func TestDetectReferenceCases(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.file, func(t *testing.T) {
			p, ok := Detect(c.x)
			switch {
			case c.Input.Period != nil:
				want := *c.Input.Period
				if len(c.x) < minCycles*want {
					if ok && p == want {
						t.Fatalf("%s: %d cycles of %d: Detect = %d, want another period or none: fewer than %d cycles are no evidence", c.Family, len(c.x)/want, want, p, minCycles)
					}
					t.Logf("%s: %d cycles of %d: detected %d (ok=%v)", c.Family, len(c.x)/want, want, p, ok)
					return
				}
				if ok && p == want {
					t.Logf("%s: detected %d", c.Family, p)
					return
				}
				y, _, _ := new(detector).prepare(c.x)
				if want > len(c.x)/2 {
					t.Fatalf("true period %d beyond half the series", want)
				}
				z := newAnova(y, len(c.x)/2).score(want).z
				if z >= zSeason {
					t.Fatalf("%s: Detect = %d (ok=%v), want %d (its F test z-score %.1f is significant)", c.Family, p, ok, want, z)
				}
				t.Logf("%s: detected %d (ok=%v); the true season %d is not significant (z-score %.2f < %.0f)", c.Family, p, ok, want, z, zSeason)
			case noiseFamilies[c.Family]:
				if ok {
					t.Fatalf("%s: Detect = %d, want no season", c.Family, p)
				}
			default:
				t.Logf("%s without a given period: detected %d (ok=%v)", c.Family, p, ok)
			}
		})
	}
}

func TestDetectKnownByConstruction(t *testing.T) {
	sine := func(period, n int, amp float64, r *rand.Rand) []float64 {
		x := seasonal(r, sineShape, gaussNoise, n, period, amp)
		return x
	}
	r := rand.New(rand.NewPCG(5, 5))
	cases := []struct {
		name string
		x    []float64
		want int // 0: none
	}{
		{"pure sine 720", sine(720, 8640, 1e6, r), 720},
		{"pure sine 24", sine(24, 240, 1e6, r), 24},
		{"pure sine four seasons", sine(360, 1440, 1e6, r), 360},
		{"pure sine three seasons", sine(360, 1080, 1e6, r), 0},
		{"alternating", alternating(100, r), 2},
		{"too short", []float64{1, 2, 3, 1, 2, 3, 1}, 0},
		{"constant", make([]float64, 500), 0},
		{"line", seasonal(r, sineShape, gaussNoise, 500, 50, 0), 0},
		{"spike every 30", spikes(600, 30, 3), 30},
		{"three stray spikes", spikes(500, 0, 75, 312, 463), 0},
	}
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

// alternating is +-3 plus unit white noise: period 2, which a sampled sine
// cannot show.
func alternating(n int, r *rand.Rand) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 3*float64(1-2*(i%2)) + r.NormFloat64()
	}
	return x
}

// spikes is a constant series with a one-sample spike every `every` samples
// from `first`, or at the listed positions when every is 0.
func spikes(n, every int, at ...int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 42
	}
	if every > 0 {
		for i := at[0]; i < n; i += every {
			x[i] = 44.5
		}
		return x
	}
	for _, i := range at {
		x[i] = 44.5
	}
	return x
}

// TestDetectNoSeasonInNoise: white (Gaussian and skewed), AR(1) and random
// walk noise of several lengths must almost never show a season.
func TestDetectNoSeasonInNoise(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 5
	}
	total, found := 0, 0
	for _, kind := range []noiseKind{gaussNoise, skewNoise, ar1Noise, ar1SlowNoise, walkNoise, walkWhiteNoise} {
		for _, n := range []int{100, 720, 2160, 8640} {
			hits := map[int]int{}
			for seed := range seeds {
				r := rand.New(rand.NewPCG(uint64(seed), uint64(n)))
				if p, ok := Detect(noise(r, kind, n)); ok {
					hits[p]++
					found++
				}
				total++
			}
			if len(hits) > 0 {
				t.Logf("%s n=%d: seasons found %v", noiseNames[kind], n, hits)
			}
		}
	}
	rate := float64(found) / float64(total)
	t.Logf("false detections: %d of %d noise series (%.2f %%)", found, total, 100*rate)
	if rate > 0.01 {
		t.Errorf("false detection rate %.2f %%, want <= 1 %%", 100*rate)
	}
}

// TestDetectSynthetic: clear seasons (amplitude 3 noise standard
// deviations) of four shapes, lengths of 4 to 72 seasons, in white or
// skewed noise, must be found at their true period; the harder mixes
// (autocorrelated or wandering noise) are logged. Two or three cycles are
// too few to tell a season from events that lined up: the true period may
// not be reported there.
func TestDetectSynthetic(t *testing.T) {
	seeds := 10
	if testing.Short() {
		seeds = 2
	}
	sizes := []struct{ n, period int }{{720, 360}, {2160, 720}, {8640, 720}, {8640, 120}, {2160, 60}, {1000, 97}, {600, 24}}
	for _, hard := range []bool{false, true} {
		kinds := []noiseKind{gaussNoise, skewNoise}
		if hard {
			kinds = []noiseKind{ar1Noise, walkWhiteNoise}
		}
		total, right := 0, 0
		for _, shape := range []shapeKind{sineShape, pulseShape, sawShape, counterShape} {
			for _, kind := range kinds {
				for _, tc := range sizes {
					wrong := map[int]int{}
					want := tc.period
					if tc.n < minCycles*tc.period {
						want = 0
					}
					for seed := range seeds {
						r := rand.New(rand.NewPCG(uint64(seed), uint64(tc.n+tc.period)))
						p, _ := Detect(seasonal(r, shape, kind, tc.n, tc.period, 3))
						if want == 0 && p == tc.period {
							t.Errorf("%s+%s n=%d P=%d: the season reported in %d cycles", shapeNames[shape], noiseNames[kind], tc.n, tc.period, tc.n/p)
						}
						if want == 0 {
							continue
						}
						total++
						if p == want {
							right++
						} else {
							wrong[p]++
						}
					}
					if len(wrong) > 0 {
						t.Logf("%s+%s n=%d P=%d: wrong %v", shapeNames[shape], noiseNames[kind], tc.n, tc.period, wrong)
					}
				}
			}
		}
		share := float64(right) / float64(total)
		t.Logf("hard=%v: %d of %d seasons found (%.1f %%)", hard, right, total, 100*share)
		if !hard && share < 0.95 {
			t.Errorf("clear seasons found %.1f %%, want >= 95 %%", 100*share)
		}
	}
}

// TestDetectOddInputs: short, constant, monotone, spiky or non-finite
// inputs return without a panic and with a period in range.
func TestDetectOddInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for n := 0; n <= 40; n++ {
		inputs := map[string][]float64{
			"random":    make([]float64, n),
			"constant":  make([]float64, n),
			"ramp":      make([]float64, n),
			"one spike": make([]float64, n),
		}
		for i := range n {
			inputs["random"][i] = r.NormFloat64()
			inputs["ramp"][i] = float64(i * i)
		}
		if n > 0 {
			inputs["one spike"][n/2] = 1e300
		}
		for name, x := range inputs {
			if p, ok := Detect(x); ok && (p < 2 || p > n/2) {
				t.Fatalf("%s n=%d: Detect = %d, out of [2, %d]", name, n, p, n/2)
			}
		}
	}
	if p, ok := Detect([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, math.NaN()}); ok {
		t.Errorf("series with NaN: Detect = %d, want none", p)
	}
}
