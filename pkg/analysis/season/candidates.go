package season

import (
	"math"
	"slices"
	"sort"
	"sync"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/slapipe/slapipe/pkg/analysis/internal/series"
)

// candidates returns the sorted, distinct candidate periods in [2, maxP]:
// periodogram peaks refined on the autocorrelation, and autocorrelation
// peaks (see Detect). Both come from one zero-padded FFT of y, the
// autocorrelation through a DCT of its power spectrum.
func candidates(y []float64, maxP int) []int {
	n := len(y)
	// Zero padding to n+maxP makes the circular correlation linear up to lag
	// maxP.
	size := series.NextRegular(n + maxP + 1)
	sp := getSpectrum(size)
	defer putSpectrum(sp)
	buf := sp.buf
	clear(buf[copy(buf, y):])
	coef := sp.fft.Coefficients(sp.coef, buf)
	power := sp.power
	for j, c := range coef {
		power[j] = real(c)*real(c) + imag(c)*imag(c)
	}
	// Lags up to size/2 at least, which exceeds maxP+1, the largest used.
	acf := sp.autocorrelation()[:min(n, len(power))]
	if acf[0] > 0 {
		inv := 1 / acf[0]
		for k := range acf {
			acf[k] *= inv
		}
	}

	base := make([]int, 0, 4*perSource+perSource) // with repeats
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
			raw.add(peak{j, power[j]})
			// The weight is at most 1: a peak that white would refuse
			// unweighted needs no sine.
			if white.accepts(power[j]) {
				s := math.Sin(math.Pi * float64(j) / float64(size))
				white.add(peak{j, power[j] * s * s})
			}
		}
	}
	for _, ps := range [][]peak{raw.peaks(), white.peaks()} {
		for _, pk := range ps {
			p0 := float64(size) / float64(pk.at)
			if r := min(maxP, int(math.Round(p0))); r >= 2 {
				base = append(base, r)
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
				base = append(base, bestK)
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
	for _, pk := range hills.peaks() {
		base = append(base, pk.at)
	}
	slices.Sort(base)
	return slices.Compact(base)
}

// spectrum holds what candidates needs for one transform length: the
// plans, whose set-up costs about as much as a transform, and buffers.
type spectrum struct {
	fft *fourier.FFT
	// dct turns the power spectrum into the autocorrelation at half the
	// cost of an inverse FFT; nil for an odd length.
	dct   *fourier.DCT
	buf   []float64 // the padded series
	coef  []complex128
	power []float64
	acf   []float64
}

func newSpectrum(size int) *spectrum {
	sp := &spectrum{
		fft:   fourier.NewFFT(size),
		buf:   make([]float64, size),
		coef:  make([]complex128, size/2+1),
		power: make([]float64, size/2+1),
	}
	if size%2 == 0 {
		sp.dct = fourier.NewDCT(size/2 + 1)
		sp.acf = make([]float64, size/2+1)
	}
	return sp
}

// autocorrelation returns the unnormalised autocorrelation of the padded
// series (size times its circular autocovariance) from its power spectrum
// sp.power, at lags 0 to size/2 or more. The power spectrum is real and
// even: for an even size, its inverse transform at lag k, P_0 + (-1)^k
// P_(size/2) + 2 sum_j P_j cos(2 pi j k/size), is the DCT-I of P_0 ..
// P_(size/2).
func (sp *spectrum) autocorrelation() []float64 {
	if sp.dct != nil {
		return sp.dct.Transform(sp.acf, sp.power)
	}
	for j, p := range sp.power {
		sp.coef[j] = complex(p, 0)
	}
	return sp.fft.Sequence(sp.buf, sp.coef)
}

// spectra keeps the spectrums of the last few transform lengths for
// reuse: Analyze detects the seasons of many series of one or two lengths
// (a counter's rate is one sample shorter than a gauge), from several
// goroutines. Not a sync.Pool, which every garbage collection empties: a
// plan costs about as much as a transform to rebuild. At most
// maxSpectra lengths and perSize spectrums of each are kept, a few
// megabytes for 12 h at 5 s.
var spectra = struct {
	sync.Mutex
	free map[int][]*spectrum
}{free: map[int][]*spectrum{}}

const (
	maxSpectra = 4
	perSize    = 2
)

// getSpectrum returns a spectrum for transform length size, kept or new,
// to be given back with putSpectrum.
func getSpectrum(size int) *spectrum {
	spectra.Lock()
	if list := spectra.free[size]; len(list) > 0 {
		sp := list[len(list)-1]
		spectra.free[size] = list[:len(list)-1]
		spectra.Unlock()
		return sp
	}
	spectra.Unlock()
	return newSpectrum(size) // outside the lock: as long as a transform
}

func putSpectrum(sp *spectrum) {
	size := sp.fft.Len()
	spectra.Lock()
	defer spectra.Unlock()
	list, ok := spectra.free[size]
	if !ok && len(spectra.free) >= maxSpectra {
		clear(spectra.free)
	}
	if len(list) < perSize {
		spectra.free[size] = append(list, sp)
	}
}

// peak is a local maximum of a spectrum or correlogram.
type peak struct {
	at    int
	score float64
}

// topK keeps the perSource highest-scoring peaks, best first.
type topK struct {
	n   int
	top [perSource]peak
}

func (t *topK) peaks() []peak { return t.top[:t.n] }

// accepts reports whether add would keep a peak of that score.
func (t *topK) accepts(score float64) bool {
	return t.n < perSource || score > t.top[perSource-1].score
}

func (t *topK) add(p peak) {
	if !t.accepts(p.score) {
		return
	}
	i := sort.Search(t.n, func(i int) bool { return t.top[i].score < p.score })
	if t.n < perSource {
		t.n++
	}
	copy(t.top[i+1:t.n], t.top[i:t.n-1])
	t.top[i] = p
}
