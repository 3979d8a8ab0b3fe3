package season

import (
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/slapipe/slapipe/analysis/internal/series"
)

// candidates returns the sorted, distinct candidate periods in [2, maxP]:
// periodogram peaks refined on the autocorrelation, and autocorrelation
// peaks (see Detect). Both come from one zero-padded FFT of y.
func candidates(y []float64, maxP int) []int {
	n := len(y)
	// Zero padding to n+maxP makes the circular correlation linear up to lag
	// maxP.
	size := series.NextRegular(n + maxP + 1)
	fft := fourier.NewFFT(size)
	buf := make([]float64, size)
	copy(buf, y)
	coef := fft.Coefficients(nil, buf)
	power := make([]float64, len(coef))
	for j, c := range coef {
		power[j] = real(c)*real(c) + imag(c)*imag(c)
		coef[j] = complex(power[j], 0)
	}
	acf := fft.Sequence(buf, coef)[:n]
	if acf[0] > 0 {
		inv := 1 / acf[0]
		for k := range acf {
			acf[k] *= inv
		}
	}

	base := map[int]bool{}
	// Periodogram peaks. Bin j of the padded transform is the period
	// size/j; the second ranking weights by the gain of differencing,
	// 4 sin^2(omega/2), which whitens a random walk's spectrum.
	// From the bin just below frequency 1/maxP: its peak may be at maxP.
	jlo := max(1, int(math.Floor(float64(size)/float64(maxP))))
	var raw, white topK
	for j := jlo; j < len(power); j++ {
		// The last bin, at or just below the Nyquist frequency, has no
		// right neighbour.
		if power[j] >= power[j-1] && (j == len(power)-1 || power[j] > power[j+1]) {
			s := math.Sin(math.Pi * float64(j) / float64(size))
			raw.add(peak{j, power[j]})
			white.add(peak{j, power[j] * s * s})
		}
	}
	for _, ps := range [][]peak{raw.peaks, white.peaks} {
		for _, pk := range ps {
			p0 := float64(size) / float64(pk.at)
			if r := min(maxP, int(math.Round(p0))); r >= 2 {
				base[r] = true
			}
			// The autocorrelation maximum within the bin's resolution.
			lo := max(2, int(math.Floor(float64(size)/float64(pk.at+1))))
			hi := maxP
			if pk.at > 1 {
				hi = min(maxP, int(math.Ceil(float64(size)/float64(pk.at-1))))
			}
			if lo <= hi {
				bestK := lo
				for k := lo; k <= hi; k++ {
					if acf[k] > acf[bestK] {
						bestK = k
					}
				}
				base[bestK] = true
			}
		}
	}
	// Autocorrelation peaks.
	var hills topK
	for k := 2; k <= maxP && k+1 < n; k++ {
		if acf[k] > 0 && acf[k] >= acf[k-1] && acf[k] > acf[k+1] {
			hills.add(peak{k, acf[k]})
		}
	}
	for _, pk := range hills.peaks {
		base[pk.at] = true
	}

	cands := make([]int, 0, len(base))
	for p := range base {
		cands = append(cands, p)
	}
	slices.Sort(cands)
	return cands
}

// peak is a local maximum of a spectrum or correlogram.
type peak struct {
	at    int
	score float64
}

// topK keeps the perSource highest-scoring peaks, best first.
type topK struct{ peaks []peak }

func (t *topK) add(p peak) {
	if len(t.peaks) == perSource && p.score <= t.peaks[perSource-1].score {
		return
	}
	i := sort.Search(len(t.peaks), func(i int) bool { return t.peaks[i].score < p.score })
	if len(t.peaks) < perSource {
		t.peaks = append(t.peaks, peak{})
	}
	copy(t.peaks[i+1:], t.peaks[i:])
	t.peaks[i] = p
}
