package holtwinters

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// textbook runs the equations of Hyndman et al. (2008, Table 2.3, additive
// errors) as written there, the oracle for both recursions.
func textbook(x []float64, md model, p params, st *states) float64 {
	phi := p.phi
	if !md.trend {
		phi = 0
	}
	var total float64
	m := len(st.season)
	for t, y := range x {
		var s float64
		if m > 0 {
			s = st.season[t%m]
		}
		e := y - (st.level + phi*st.trend + s)
		total += e * e
		st.level += phi*st.trend + p.alpha*e
		if md.trend {
			st.trend = phi*st.trend + p.beta*e
		}
		if m > 0 {
			st.season[t%m] = s + p.gamma*e
		}
	}
	return total
}

// TestRecursionsMatchTextbook runs sse and sseFilled against the textbook
// equations over series of known shape, for every model, a few parameter
// sets and lengths (odd ones end on a single step; periods 2 and 3 wrap
// around every pair or so), and checks the sum of squared errors and the
// final states. A noiseless line from its own states has no error at all.
func TestRecursionsMatchTextbook(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	walk := make([]float64, 1001)
	for i := 1; i < len(walk); i++ {
		walk[i] = walk[i-1] + r.NormFloat64()
	}
	seriesCases := []struct {
		name string
		x    []float64
	}{
		{"walk", walk},
		{"walk odd", walk[:999]},
		{"sine plus line", func() []float64 {
			x := make([]float64, 730)
			for i := range x {
				x[i] = 3 + 0.01*float64(i) + math.Sin(2*math.Pi*float64(i)/12) + 0.1*r.NormFloat64()
			}
			return x
		}()},
		{"one sample", []float64{1.5}},
		{"two samples", []float64{1.5, -0.5}},
	}
	parCases := []params{
		{alpha: 0.2, beta: 0.02, gamma: 0.05, phi: 0.95},
		{alpha: 0.99, beta: 0.5, gamma: 0.009, phi: 0.8},
		{alpha: 1e-4, beta: 1e-4, gamma: 0.9, phi: 0.98},
	}
	for _, md := range candidates {
		for _, m := range []int{2, 3, 12, 50} {
			if !md.seasonal && m > 2 {
				continue
			}
			for _, sc := range seriesCases {
				for pi, p := range parCases {
					if !md.damped {
						p.phi = 1
					}
					t.Run(fmt.Sprintf("%s/m%d/%s/p%d", md.name, m, sc.name, pi), func(t *testing.T) {
						init := states{level: 0.3, trend: 0.01}
						if md.seasonal {
							for j := range m {
								init.season = append(init.season, math.Cos(float64(j)))
							}
						}
						clone := func() states {
							c := init
							c.season = slices.Clone(init.season)
							return c
						}
						want := clone()
						wantSSE := textbook(sc.x, md, p, &want)
						for _, f := range []struct {
							name string
							run  func(*states) float64
						}{
							{"sse", func(st *states) float64 { return sse(sc.x, md, p, st) }},
							{"sseFilled", func(st *states) float64 { return sseFilled(sc.x, md, p, st) }},
						} {
							got := clone()
							gotSSE := f.run(&got)
							scale := 1 + wantSSE
							if d := math.Abs(gotSSE - wantSSE); d > 1e-11*scale {
								t.Errorf("%s: SSE %v, textbook %v", f.name, gotSSE, wantSSE)
							}
							gotAll := append([]float64{got.level, got.trend}, got.season...)
							wantAll := append([]float64{want.level, want.trend}, want.season...)
							for j := range gotAll {
								if d := math.Abs(gotAll[j] - wantAll[j]); d > 1e-9*(1+math.Abs(wantAll[j])) {
									t.Errorf("%s: state %d = %v, textbook %v", f.name, j, gotAll[j], wantAll[j])
								}
							}
						}
					})
				}
			}
		}
	}
	// A line a + b t is forecast without error by every trend model
	// starting from l = a - phi b, b (then l_t = a + b t, b_t = b with no
	// damping), whatever the parameters.
	for _, md := range candidates {
		if !md.trend || md.damped {
			continue
		}
		x := make([]float64, 501)
		for i := range x {
			x[i] = 2 + 0.25*float64(i)
		}
		st := states{level: 2 - 0.25, trend: 0.25}
		if md.seasonal {
			st.season = make([]float64, 7)
		}
		if got := sseFilled(x, md, params{alpha: 0.3, beta: 0.1, gamma: 0.2, phi: 1}, &st); got > 1e-20 {
			t.Errorf("%s: SSE %v on a noiseless line, want 0", md.name, got)
		}
		if math.Abs(st.level-(2+0.25*500)) > 1e-9 || math.Abs(st.trend-0.25) > 1e-12 {
			t.Errorf("%s: final level %v, trend %v; want %v, 0.25", md.name, st.level, st.trend, 2+0.25*500)
		}
	}
}
