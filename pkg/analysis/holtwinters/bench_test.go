package holtwinters

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/slapipe/slapipe/pkg/analysis/internal/series"
)

// benchSeries is 12 h at 5 s (8640 samples): a slow trend, a period-720
// season when period > 0, and AR(1) noise.
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

// BenchmarkObjective is one evaluation of the objective on 8640 samples,
// per model: the general recursion (gaps) and the gap-free one. Neither
// allocates.
func BenchmarkObjective(b *testing.B) {
	x := benchSeries(120)
	p := params{alpha: 0.3, beta: 0.02, gamma: 0.05, phi: 0.95}
	for _, md := range candidates {
		init := states{level: 100, trend: 0.001}
		if md.seasonal {
			init.season = make([]float64, 120)
		}
		work := states{season: make([]float64, len(init.season))}
		for _, f := range []struct {
			name string
			run  func() float64
		}{
			{"gaps", func() float64 { return sse(x, md, p, &work) }},
			{"filled", func() float64 { return sseFilled(x, md, p, &work) }},
		} {
			b.Run(md.name+"/"+f.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					work.level, work.trend = init.level, init.trend
					copy(work.season, init.season)
					f.run()
				}
			})
		}
	}
}

// BenchmarkFit fits each model to the 8640 samples of the period-120
// benchmark series as Forecast does, from the default start, and reports
// the objective evaluations it takes.
func BenchmarkFit(b *testing.B) {
	x := benchSeries(120)
	loc, scale := series.MeanStd(x)
	z := make([]float64, len(x))
	for i, v := range x {
		z[i] = (v - loc) / scale
	}
	indices := seasonIndices(z, 120)
	start := params{alpha: 0.2, beta: 0.02, gamma: 0.05, phi: 0.95}
	for _, md := range candidates {
		init := initial(z, md, indices)
		b.Run(md.name, func(b *testing.B) {
			evals := 0
			for b.Loop() {
				evals += fit(z, sseFilled, md, init, start).evals
			}
			b.ReportMetric(float64(evals)/float64(b.N), "evals/op")
		})
	}
}
