// Package series holds the small series helpers that package analysis and
// its engines (holtwinters, season) share: filling gaps the way the
// contract (docs/analyze.md) promises, testing for a constant series, and
// choosing FFT lengths, and standardising (MeanStd).
package series

import "math"

// FillGaps writes values with every NaN (gap) replaced into dst, reusing
// dst's storage when it is large enough, and returns it. Interior gaps are
// interpolated linearly between the neighbouring samples; leading and
// trailing gaps take the nearest sample. This is pandas'
// Series.interpolate(method="linear", limit_direction="both"), which calls
// np.interp: the arithmetic below is np.interp's, so the filled values are
// identical to pandas'. dst may be values itself (in place). A series with
// no sample at all is returned unchanged (all NaN).
func FillGaps(dst, values []float64) []float64 {
	n := len(values)
	if cap(dst) >= n {
		dst = dst[:n]
	} else {
		dst = make([]float64, n)
	}
	prev := -1 // index of the last sample seen
	for i := 0; i < n; i++ {
		v := values[i]
		if math.IsNaN(v) {
			continue
		}
		switch {
		case prev < 0:
			for j := 0; j < i; j++ {
				dst[j] = v
			}
		case prev < i-1:
			interpolate(dst, prev, i, values[prev], v)
		}
		dst[i] = v
		prev = i
	}
	if prev < 0 {
		copy(dst, values)
		return dst
	}
	last := values[prev]
	for j := prev + 1; j < n; j++ {
		dst[j] = last
	}
	return dst
}

// interpolate fills dst[lo+1:hi] on the line through (lo, ylo) and (hi, yhi)
// exactly as numpy's arr_interp evaluates it, including its retry from the
// right end when the left-anchored formula overflows to NaN.
func interpolate(dst []float64, lo, hi int, ylo, yhi float64) {
	xlo, xhi := float64(lo), float64(hi)
	slope := (yhi - ylo) / (xhi - xlo)
	for j := lo + 1; j < hi; j++ {
		// The explicit conversion forbids fusing into an FMA, which numpy
		// does not do either.
		v := float64(slope*(float64(j)-xlo)) + ylo
		if math.IsNaN(v) {
			v = float64(slope*(float64(j)-xhi)) + yhi
			if math.IsNaN(v) && ylo == yhi {
				v = ylo
			}
		}
		dst[j] = v
	}
}

// IsConstant reports whether every element of x equals the first (true for
// an empty x), the exact test statsref.py applies (np.all(x == x[0])) before
// the ADF test and the ACF. A NaN makes x non-constant.
func IsConstant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}

// NextRegular returns the smallest 5-smooth number (2^a·3^b·5^c) ≥ n, and 1
// for n < 1: FFT lengths gonum's FFTPACK port handles with its fast
// radix-2/3/4/5 passes.
func NextRegular(n int) int {
	if n <= 6 {
		return max(n, 1)
	}
	best := math.MaxInt
	for p5 := 1; p5 < best; p5 *= 5 {
		for p35 := p5; p35 < best; p35 *= 3 {
			// Smallest power of two times p35 that reaches n.
			v := p35
			for v < n {
				v *= 2
			}
			if v < best {
				best = v
			}
			if p35 >= n {
				break
			}
		}
		if p5 >= n {
			break
		}
	}
	return best
}

// MeanStd returns the mean and the population standard deviation of x
// (two passes); x must not be empty.
func MeanStd(x []float64) (mean, std float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		std += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(std / float64(len(x)))
}

// Z975 is the standard normal 97.5 % quantile: the half-width of a 95 %
// interval in standard deviations.
const Z975 = 1.959963984540054
