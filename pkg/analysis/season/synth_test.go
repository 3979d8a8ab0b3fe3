package season

import (
	"math"
	"math/rand/v2"
)

// Synthetic series known by construction, for detection rates beyond the
// reference cases. Each generator is deterministic in its seed.

type noiseKind int

const (
	gaussNoise     noiseKind = iota
	skewNoise                // exponential: positive, skewed, like latencies
	ar1Noise                 // phi = 0.9
	ar1SlowNoise             // phi = 0.99
	walkNoise                // random walk
	walkWhiteNoise           // random walk plus white noise (ARIMA(0,1,1))
)

var noiseNames = map[noiseKind]string{
	gaussNoise: "white", skewNoise: "skewed", ar1Noise: "ar1(0.9)",
	ar1SlowNoise: "ar1(0.99)", walkNoise: "walk", walkWhiteNoise: "walk+white",
}

func noise(r *rand.Rand, kind noiseKind, n int) []float64 {
	x := make([]float64, n)
	var s float64
	for i := range x {
		e := r.NormFloat64()
		switch kind {
		case gaussNoise:
			x[i] = e
		case skewNoise:
			x[i] = r.ExpFloat64()
		case ar1Noise:
			s = 0.9*s + e
			x[i] = s
		case ar1SlowNoise:
			s = 0.99*s + e
			x[i] = s
		case walkNoise:
			s += e
			x[i] = s
		case walkWhiteNoise:
			s += 0.3 * e
			x[i] = s + r.NormFloat64()
		}
	}
	return x
}

type shapeKind int

const (
	sineShape    shapeKind = iota
	pulseShape             // a burst over the first 2 % of every season
	sawShape               // slow rise, sudden drop
	counterShape           // a counter whose rate is 1 + 0.5 sin
)

var shapeNames = map[shapeKind]string{sineShape: "sine", pulseShape: "pulse", sawShape: "saw", counterShape: "counter"}

// seasonal returns amp times a unit season of the given shape and period
// plus noise, and a small linear trend.
func seasonal(r *rand.Rand, shape shapeKind, kind noiseKind, n, period int, amp float64) []float64 {
	x := noise(r, kind, n)
	phase := r.IntN(period)
	var c float64
	for i := range x {
		f := float64((i+phase)%period) / float64(period)
		switch shape {
		case sineShape:
			x[i] += amp * math.Sin(2*math.Pi*f)
		case pulseShape:
			if f < 0.02 {
				x[i] += 5 * amp
			}
		case sawShape:
			x[i] += amp * 2 * (f - 0.5)
		case counterShape:
			c += 100 * (1 + 0.5*math.Sin(2*math.Pi*f) + 0.1*math.Abs(x[i]))
			x[i] = c
			continue
		}
		x[i] += 0.001 * float64(i)
	}
	return x
}
