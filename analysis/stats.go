package analysis

import "math"

// numpy's add.reduce walks a contiguous float64 array in buffers of 8192
// elements, sums each buffer pairwise (blocks of at most 128 with eight
// accumulators) and adds the buffer sums left to right. Reproducing that
// order makes our sums bit-identical to numpy's, which matters for series
// such as 1e12 + noise where a one-ulp difference in the mean is visible in
// the standard deviation and in the demeaned autocorrelation.
const (
	numpyBufSize   = 8192 // NPY_BUFSIZE
	numpyPairBlock = 128  // PW_BLOCKSIZE in numpy's loops_utils.h
)

// sampleSource yields the non-gap samples of a series in order, optionally
// as squared deviations from a mean, without copying them.
type sampleSource struct {
	v      []float64
	i      int
	mean   float64
	square bool
}

func (s *sampleSource) next() float64 {
	for math.IsNaN(s.v[s.i]) {
		s.i++
	}
	x := s.v[s.i]
	s.i++
	if s.square {
		d := x - s.mean
		return d * d
	}
	return x
}

// numpySum returns the sum of the next n samples of src in numpy's order
// (np.sum / np.add.reduce of a contiguous float64 array).
func numpySum(src *sampleSource, n int) float64 {
	res := 0.0
	for n > 0 {
		c := min(n, numpyBufSize)
		res += pairwiseSum(src, c)
		n -= c
	}
	return res
}

// pairwiseSum is numpy's DOUBLE_pairwise_sum over the next n samples.
func pairwiseSum(src *sampleSource, n int) float64 {
	switch {
	case n < 8:
		res := 0.0
		for range n {
			res += src.next()
		}
		return res
	case n <= numpyPairBlock:
		var r [8]float64
		for j := range r {
			r[j] = src.next()
		}
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += src.next()
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += src.next()
		}
		return res
	default:
		n2 := n / 2
		n2 -= n2 % 8
		left := pairwiseSum(src, n2)
		return left + pairwiseSum(src, n-n2)
	}
}

// mean returns numpy's x.mean() of a gap-free series.
func mean(x []float64) float64 {
	src := sampleSource{v: x}
	return numpySum(&src, len(x)) / float64(len(x))
}

// Summarize returns the count, minimum, maximum, mean and sample standard
// deviation (denominator n-1) of the non-NaN values; NaN marks a gap. The
// mean and deviation follow numpy's two-pass algorithm (mean, then the sum of
// squared deviations) with numpy's pairwise summation order, so they equal
// np.mean and np.std(ddof=1) of the non-gap samples bit for bit. With no
// samples every field is 0; with one, Stddev is 0. Summarize does not
// allocate.
func Summarize(values []float64) Stats {
	var st Stats
	for _, v := range values {
		if math.IsNaN(v) {
			continue
		}
		if st.Count == 0 || v < st.Min {
			st.Min = v
		}
		if st.Count == 0 || v > st.Max {
			st.Max = v
		}
		st.Count++
	}
	if st.Count == 0 {
		return st
	}
	src := sampleSource{v: values}
	st.Mean = numpySum(&src, st.Count) / float64(st.Count)
	if st.Count > 1 {
		sq := sampleSource{v: values, mean: st.Mean, square: true}
		st.Stddev = math.Sqrt(numpySum(&sq, st.Count) / float64(st.Count-1))
	}
	return st
}

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
