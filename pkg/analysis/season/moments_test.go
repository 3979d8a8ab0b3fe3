package season

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/slapipe/slapipe/pkg/analysis/internal/series"
)

// momentCase is a prepared series for the closed forms of moments.go.
type momentCase struct {
	name     string
	y        []float64
	closeFit bool // some period fits within cancelLimit: the sample-by-sample path
}

// momentCases are noise, which the differences of moments handle, and a
// fit close to exact, which falls back to sums sample by sample.
func momentCases() []momentCase {
	r := rand.New(rand.NewPCG(21, 22))
	prep := func(x []float64) []float64 {
		y, _, _ := new(detector).prepare(x)
		return y
	}
	return []momentCase{
		{"white noise", prep(noise(r, gaussNoise, 1000)), false},
		{"random walk", prep(noise(r, walkNoise, 2000)), false},
		{"saw 24 in ar(1)", prep(seasonal(r, sawShape, ar1Noise, 720, 24, 3)), false},
		{"short", prep(noise(r, skewNoise, 11)), false},
		// Not detrended: the terms in the sums of y and t y weigh.
		{"noise on a line", plusLine(noise(r, gaussNoise, 500), 5, 0.01), false},
		{"sine 24, noise 1e-4", prep(plusNoise(sineWave(24, 480), 1e-4, 3)), true},
	}
}

// directFit is the least-squares fit of v_i = s_(i mod p) + b i summed
// sample by sample: per-phase sums of t, t^2, v and t v.
func directFit(v []float64, p int) (b float64, off []float64) {
	var st, stt, sv, stv, c [64]float64
	for i, x := range v {
		t, j := float64(i), i%p
		c[j]++
		st[j] += t
		stt[j] += t * t
		sv[j] += x
		stv[j] += t * x
	}
	var sxx, sxy float64
	for j := range p {
		if c[j] > 0 {
			sxx += stt[j] - st[j]*st[j]/c[j]
			sxy += stv[j] - st[j]*sv[j]/c[j]
		}
	}
	if sxx > 0 {
		b = sxy / sxx
	}
	off = make([]float64, p)
	for j := range p {
		if c[j] > 0 {
			off[j] = (sv[j] - b*st[j]) / c[j]
		}
	}
	return b, off
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// TestPhaseFitMatchesDirectFit: the fit from per-phase sums and the known
// sums of the times is the least-squares fit summed sample by sample.
func TestPhaseFitMatchesDirectFit(t *testing.T) {
	for _, c := range momentCases() {
		for _, p := range []int{2, 3, 7, 24, len(c.y) / 2} {
			if p < 2 || p > 64 || p > len(c.y)/2 {
				continue
			}
			t.Run(fmt.Sprintf("%s p=%d", c.name, p), func(t *testing.T) {
				a := newAnova(c.y, len(c.y)/2)
				s := a.phaseSums(p)[:p]
				f := fitSums(s, len(c.y), a.ty)
				f.offsets(s, a.off)
				b, off := directFit(c.y, p)
				scale := math.Sqrt(a.tss / float64(len(c.y)))
				if !near(f.b*float64(len(c.y)), b*float64(len(c.y)), 1e-9*scale) {
					t.Errorf("slope %g, want %g", f.b, b)
				}
				for j := range p {
					if !near(a.off[j], off[j], 1e-9*scale) {
						t.Fatalf("offset %d: %g, want %g", j, a.off[j], off[j])
					}
				}
				for i := range arOrder {
					if a.off[p+i] != a.off[i%p] {
						t.Fatalf("wrapped offset %d: %g, want %g", p+i, a.off[p+i], a.off[i%p])
					}
				}
			})
		}
	}
}

// TestClosedFormsMatchPasses: the residual autocovariances and the
// filtered model's sums of squares obtained from moments agree with the
// same sums taken sample by sample, and near-exact fits take the latter.
func TestClosedFormsMatchPasses(t *testing.T) {
	for _, c := range momentCases() {
		maxP := len(c.y) / 2
		closeFits := 0
		for _, p := range []int{2, 3, 7, 24, maxP - 1, maxP} {
			if p < 2 || p > maxP {
				continue
			}
			t.Run(fmt.Sprintf("%s p=%d", c.name, p), func(t *testing.T) {
				a := newAnova(c.y, maxP)
				r := a.autocov(p)
				s := a.phaseSums(p)[:p]
				f := fitSums(s, len(c.y), a.ty)
				if a.tss-f.explained() < cancelLimit*a.tss {
					closeFits++
				}
				f.offsets(s, a.off)
				want := a.autocovPass(p, f.b)
				for k := range r {
					if !near(r[k], want[k], 1e-9*want[0]) {
						t.Errorf("lag %d: %g, want %g", k, r[k], want[k])
					}
				}
				if got := a.rawRSS(p); !near(got, want[0], 1e-9*want[0]) {
					t.Errorf("rawRSS %g, want %g", got, want[0])
				}

				phi := a.ar(p)
				rss, rss0 := a.rss(p, &phi)
				const m = arOrder
				w := [m + 1]float64{-phi[3], -phi[2], -phi[1], -phi[0], 1}
				fs, sz, stz := a.filteredSums(p, &w)
				g := fitSums(fs, len(c.y)-m, stz)
				g.offsets(fs, a.off)
				wantRSS, wantRSS0 := a.rssPass(p, &phi, g.b, sz/float64(len(c.y)-m))
				if !near(rss, wantRSS, 1e-9*wantRSS) || !near(rss0, wantRSS0, 1e-9*wantRSS0) {
					t.Errorf("rss %g, %g, want %g, %g", rss, rss0, wantRSS, wantRSS0)
				}
			})
		}
		if c.closeFit && closeFits == 0 {
			t.Errorf("%s: no period fits within cancelLimit; the sample-by-sample path is untested", c.name)
		}
	}
}

// TestAutocorrelation: the autocorrelation from the power spectrum, by DCT
// (even transform lengths) or inverse FFT (odd), is the lagged sum of
// products of the series, times the length.
func TestAutocorrelation(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, n := range []int{8, 9, 50, 97, 300} {
		y := noise(r, gaussNoise, n)
		maxP := n / 2
		size := series.NextRegular(n + maxP + 1)
		t.Run(fmt.Sprintf("n=%d size=%d", n, size), func(t *testing.T) {
			sp := newSpectrum(size)
			copy(sp.buf, y)
			for j, c := range sp.fft.Coefficients(sp.coef, sp.buf) {
				sp.power[j] = real(c)*real(c) + imag(c)*imag(c)
			}
			acf := sp.autocorrelation()
			if len(acf) < maxP+2 {
				t.Fatalf("%d lags, want %d", len(acf), maxP+2)
			}
			var tss float64
			for _, v := range y {
				tss += v * v
			}
			for k := range maxP + 2 {
				var want float64
				for i := k; i < n; i++ {
					want += y[i] * y[i-k]
				}
				if got := acf[k] / float64(size); !near(got, want, 1e-9*tss) {
					t.Fatalf("lag %d: %g, want %g", k, got, want)
				}
			}
		})
	}
}

// TestAnchors: the anchors are the first indices of the numAnchors largest
// magnitudes, ties included.
func TestAnchors(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 7))
	for _, n := range []int{3, 8, 9, 100, 1000} {
		for _, ties := range []bool{false, true} {
			v := make([]float64, n)
			for i := range v {
				v[i] = r.NormFloat64()
				if ties {
					v[i] = float64(r.IntN(5) - 2)
				}
			}
			mags := make([]float64, n)
			for i, x := range v {
				mags[i] = math.Abs(x)
			}
			sort.Sort(sort.Reverse(sort.Float64Slice(mags)))
			var want []int
			for i, x := range v {
				if (n <= numAnchors || math.Abs(x) >= mags[numAnchors-1]) && len(want) < numAnchors {
					want = append(want, i)
				}
			}
			if got := anchors(v); !slices.Equal(got, want) {
				t.Errorf("n=%d ties=%v: anchors %v, want %v", n, ties, got, want)
			}
		}
	}
}

// TestDetectReusesNothingStale: detections interleaved over more series
// lengths than the plans kept (maxSpectra) give what each gives alone, so
// reused buffers and plans carry nothing from one series to the next.
func TestDetectReusesNothingStale(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	var xs [][]float64
	for _, n := range []int{600, 601, 1000, 1440, 2000, 2881} {
		xs = append(xs, seasonal(r, sineShape, gaussNoise, n, 60, 1), noise(r, ar1Noise, n))
	}
	want := make([]int, len(xs))
	for i, x := range xs {
		want[i], _ = Detect(x)
	}
	if want[0] != 60 {
		t.Fatalf("Detect = %d on a clear season 60", want[0])
	}
	for round := range 3 {
		for i := range xs {
			j := (i*7 + round) % len(xs)
			if got, _ := Detect(xs[j]); got != want[j] {
				t.Fatalf("round %d, series %d: Detect = %d, alone %d", round, j, got, want[j])
			}
		}
	}
}
