package analysis

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/slapipe/slapipe/pkg/analysis/internal/series"
)

// DefaultACFLags returns the number of autocorrelation lags reported for a
// series of n samples: min(⌊10·log10 n⌋, n-1), statsmodels' acf default.
// The small offset keeps exact powers of ten (where log10 may round just
// below an integer) on the integer; for every n below 4·10⁷ that is not a
// power of ten, 10·log10 n is at least 6e-9 away from an integer.
func DefaultACFLags(n int) int {
	if n < 2 {
		return 0
	}
	k := int(math.Floor(10*math.Log10(float64(n)) + 1e-9))
	return min(k, n-1)
}

// ACF returns the sample autocorrelation of the gap-free series x at lags
// 0..nlags (nlags is clipped to len(x)-1), the Box-Jenkins estimator
// r_k = c_k / c_0 with c_k = (1/n) Σ_{t<n-k} (x_t - x̄)(x_{t+k} - x̄): the
// definition of statsmodels' acf(x, nlags, fft=True, adjusted=False). Like
// statsmodels it computes the autocovariances through the FFT (gonum
// dsp/fourier): the series is demeaned (with numpy's summation order),
// zero-padded and transformed to |X(f)|² and back (Wiener-Khinchin).
// statsmodels pads to 2n+1 to get every lag; lags up to nlags only need
// n+nlags points for the circular correlation to equal the linear one, which
// halves the transform. ACF returns nil for a constant (or empty) series,
// whose autocorrelation is undefined.
func ACF(x []float64, nlags int) []float64 {
	n := len(x)
	if n == 0 || series.IsConstant(x) {
		return nil
	}
	nlags = max(0, min(nlags, n-1))
	size := series.NextRegular(n + nlags)
	buf := make([]float64, size)
	m := mean(x)
	for i, v := range x {
		buf[i] = v - m
	}
	fft := fourier.NewFFT(size)
	coeff := fft.Coefficients(nil, buf)
	for i, c := range coeff {
		re, im := real(c), imag(c)
		coeff[i] = complex(re*re+im*im, 0)
	}
	acov := fft.Sequence(buf, coeff) // unnormalised: size·n·c_k
	c0 := acov[0]
	if !(c0 > 0) || math.IsInf(c0, 0) {
		return nil
	}
	out := make([]float64, nlags+1)
	for k := range out {
		out[k] = acov[k] / c0
	}
	out[0] = 1
	return out
}
