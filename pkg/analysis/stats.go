package analysis

import (
	"math"

	"github.com/slapipe/slapipe/pkg/analysis/internal/series"
)

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
// Series.interpolate(method="linear", limit_direction="both"), with
// np.interp's arithmetic, so the filled values are identical to pandas'.
// dst may be values itself (in place). A series with no sample at all is
// returned unchanged (all NaN).
func FillGaps(dst, values []float64) []float64 { return series.FillGaps(dst, values) }
