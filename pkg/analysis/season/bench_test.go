package season

import (
	"math/rand/v2"
	"testing"
)

// benchSeries is 12 h at 5 s (8640 samples): a period-720 sine in AR(1)
// noise, or the noise alone.
func benchSeries(period int) []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	if period == 0 {
		return noise(r, ar1Noise, 8640)
	}
	return seasonal(r, sineShape, gaussNoise, 8640, period, 3)
}

func BenchmarkDecompose8640P720(b *testing.B) {
	x := benchSeries(720)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decompose(x, 720); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetect8640P720(b *testing.B) {
	x := benchSeries(720)
	b.ReportAllocs()
	for b.Loop() {
		if p, ok := Detect(x); !ok || p != 720 {
			b.Fatalf("Detect = %d, %v", p, ok)
		}
	}
}

func BenchmarkDetect8640None(b *testing.B) {
	x := benchSeries(0)
	b.ReportAllocs()
	for b.Loop() {
		if p, ok := Detect(x); ok {
			b.Fatalf("Detect = %d", p)
		}
	}
}

// BenchmarkDetect8640Exact is a noiseless period-720 sine: the exact-fit
// path.
func BenchmarkDetect8640Exact(b *testing.B) {
	x := sineWave(720, 8640)
	b.ReportAllocs()
	for b.Loop() {
		if p, ok := Detect(x); !ok || p != 720 {
			b.Fatalf("Detect = %d, %v", p, ok)
		}
	}
}
