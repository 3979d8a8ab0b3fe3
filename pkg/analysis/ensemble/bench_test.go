package ensemble

import (
	"math"
	"math/rand/v2"
	"testing"
)

// benchSeries is 12 h at 5 s (8640 samples), the series of the
// holtwinters benchmarks: a slow trend, a season when period > 0, and
// AR(1) noise; their figures side by side give the cost of the evaluation
// and combination over the Holt-Winters selection alone.
func benchSeries(period int) []float64 {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, 8640)
	var ar float64
	for i := range x {
		ar = 0.7*ar + r.NormFloat64()
		x[i] = 100 + 0.001*float64(i) + ar
		if period > 0 {
			x[i] += 5 * math.Sin(2*math.Pi*float64(i)/float64(period))
		}
	}
	return x
}

func benchForecast(b *testing.B, period int) {
	x := benchSeries(period)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Forecast(x, Options{Period: period, Horizon: 120}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForecast8640P720(b *testing.B) { benchForecast(b, 720) }

func BenchmarkForecast8640P120(b *testing.B) { benchForecast(b, 120) }

func BenchmarkForecast8640None(b *testing.B) { benchForecast(b, 0) }
