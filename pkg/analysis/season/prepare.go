package season

import "math"

// The preparation of a series for detection: rate, spikes, trend.

// rate returns a copy of x in buf (reallocated when short), differenced
// when x is monotone: a counter's season is in its rate. A few resets
// (decreases) are allowed.
func rate(x, buf []float64) []float64 {
	n := len(x)
	var pos, neg int
	for i := 1; i < n; i++ {
		// Two ifs rather than a switch compile to conditional moves: the
		// signs of a noisy series' differences defeat branch prediction.
		d := x[i] - x[i-1]
		if d > 0 {
			pos++
		}
		if d < 0 {
			neg++
		}
	}
	if min(pos, neg) > n/1000 || max(pos, neg) == 0 {
		y := grow(buf, n)
		copy(y, x)
		return y
	}
	y := grow(buf, n-1)
	for i := range y {
		y[i] = x[i+1] - x[i]
	}
	return y
}

// despike replaces every isolated one-sample outlier by the mean of its
// neighbours and returns the outliers' indices. The scale is the MAD of
// first differences, robust to both the spikes and a season; when most
// differences are zero, any lone departure from two equal neighbours is a
// spike; differences within eps, the rounding of the input, count as
// zero. Outliers are a minority: each makes two outlying differences, and
// the MAD only stands for the rest while they are under half of them. When
// a quarter of the samples or more would be outliers, they are the signal
// (a sharp season whose differences take a few values, such as 1 2 3 2
// repeated, has a MAD of zero), and y is left as it is. tmp is scratch of
// at least len(y) samples.
func despike(y []float64, eps float64, tmp []float64) []int {
	n := len(y)
	if n < 5 {
		return nil
	}
	d := tmp[:n-1]
	for i := range d {
		d[i] = y[i+1] - y[i]
	}
	med := median(d)
	for i := range d {
		d[i] = math.Abs(d[i] - med)
	}
	limit := max(spikeZ*1.4826*median(d)/math.Sqrt2, eps)
	var at []int
	var was []float64 // the replaced values, to undo
	for i := 1; i < n-1; i++ {
		mid := 0.5 * (y[i-1] + y[i+1])
		// The neighbours must agree with each other, otherwise this is a
		// step or a burst, not a lone spike.
		if math.Abs(y[i]-mid) > limit && math.Abs(y[i+1]-y[i-1]) <= limit {
			was = append(was, y[i])
			y[i] = mid
			at = append(at, i)
		}
	}
	if 4*len(at) >= n {
		for k, i := range at {
			y[i] = was[k]
		}
		return nil
	}
	return at
}

// spikeTrain returns the spacing of spikes that recur at a constant
// interval (within one sample), at least three of them, when it is at most
// maxP.
func spikeTrain(at []int, maxP int) (int, bool) {
	if len(at) < 3 {
		return 0, false
	}
	gaps := make([]float64, len(at)-1)
	for i := range gaps {
		gaps[i] = float64(at[i+1] - at[i])
	}
	p := int(math.Round(median(gaps)))
	for _, g := range gaps {
		if math.Abs(g-float64(p)) > 1 {
			return 0, false
		}
	}
	if p < 2 || p > maxP {
		return 0, false
	}
	return p, true
}

// detrend subtracts the least-squares line from y in place. Subtracting the
// mean first is exact for a series far from zero (Sterbenz), so the
// remainder keeps its precision whatever the level.
func detrend(y []float64) {
	n := float64(len(y))
	tm := (n - 1) / 2
	var sy, sty, stt float64
	for _, v := range y {
		sy += v
	}
	ym := sy / n
	for i, v := range y {
		t := float64(i) - tm
		sty += t * (v - ym)
		stt += t * t
	}
	b := sty / stt
	for i := range y {
		y[i] = (y[i] - ym) - b*(float64(i)-tm)
	}
}

// roundoff is the error, in absolute terms, that rounding leaves in the
// prepared series of an input whose largest magnitude is scale: a few
// dozen units in the last place of scale (a counter's rate rounds to its
// counter's precision).
func roundoff(scale float64) float64 {
	const ulps = 64
	return ulps * 0x1p-52 * scale
}

// isConstant reports whether the detrended series y varies by no more than
// eps, the rounding of the input: a constant or a straight line, with
// nothing left to find a season in.
func isConstant(y []float64, eps float64) bool {
	lo, hi := y[0], y[0]
	for _, v := range y { // finite: plain comparisons, not math.Min
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return hi-lo <= eps
}

// median returns the median of v, reordering v (Hoare's selection, O(n)
// expected).
func median(v []float64) float64 {
	m := len(v) / 2
	hi := selectK(v, m)
	if len(v)%2 == 1 {
		return hi
	}
	lo := v[0] // after selectK, v[:m] holds the m smallest
	for _, x := range v[1:m] {
		if x > lo {
			lo = x
		}
	}
	return 0.5 * (lo + hi)
}

// selectK reorders v so that v[k] is its k-th smallest value, smaller
// values before it, and returns it.
func selectK(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		pivot := v[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}
