package ensemble

import (
	"math"
	"slices"
	"sort"
	"strconv"
)

// evaluation holds, for every candidate, its forecasts from each origin
// and from the end of the series, all of the standardised series z.
type evaluation struct {
	z       []float64
	origins []int
	h       int
	floor   float64 // forecasts are clipped at it (-Inf: none)
	filled  []bool  // samples not to score (nil: none)
	// mad and wide are the robust scales of the series' steps (see
	// stepScales).
	mad, wide float64

	names  []string
	paths  [][]float64 // per candidate: len(origins)*h forecasts
	finals [][]float64 // per candidate: h forecasts from len(z)
	scores []float64   // per candidate: mean absolute error over paths
}

// pathFunc writes the forecasts from each origin, as
// holtwinters.Candidate.Paths does.
type pathFunc func(z []float64, origins []int, h int, out []float64)

func newEvaluation(z []float64, origins []int, h int, floor float64, filled []bool) *evaluation {
	ev := &evaluation{z: z, origins: origins, h: h, floor: floor, filled: filled}
	ev.mad, ev.wide = stepScales(z)
	return ev
}

// scored reports whether the sample at t counts in the evaluation.
func (ev *evaluation) scored(t int) bool { return ev.filled == nil || !ev.filled[t] }

// add evaluates one candidate.
func (ev *evaluation) add(name string, paths pathFunc) {
	o := len(ev.origins)
	buf := make([]float64, (o+1)*ev.h)
	all := append(ev.origins[:o:o], len(ev.z))
	paths(ev.z, all, ev.h, buf)
	for i, v := range buf {
		if v < ev.floor {
			buf[i] = ev.floor
		}
		if math.IsNaN(buf[i]) || math.IsInf(buf[i], 0) {
			return // a candidate that diverges takes no part
		}
	}
	p, final := buf[:o*ev.h], buf[o*ev.h:]
	ev.names = append(ev.names, name)
	ev.paths = append(ev.paths, p)
	ev.finals = append(ev.finals, final)
	ev.scores = append(ev.scores, ev.mae(p))
}

// mae is the mean absolute error of forecasts laid out as paths, over
// the samples that count.
func (ev *evaluation) mae(p []float64) float64 {
	var s float64
	c := 0
	for i, o := range ev.origins {
		for k, f := range p[i*ev.h : (i+1)*ev.h] {
			if ev.scored(o + k) {
				s += math.Abs(ev.z[o+k] - f)
				c++
			}
		}
	}
	if c == 0 {
		return 0
	}
	return s / float64(c)
}

// addSimple evaluates the candidates that need no fitting: the last
// value, simple exponential smoothing at each of alphas (plain and
// robust), and the median of the last samples.
func (ev *evaluation) addSimple() {
	ev.add("naive", naivePaths)
	sd := ev.mad
	for _, a := range alphas {
		// The robust form first: where no spike tells them apart, the
		// plain form is a duplicate, and the robust one is what the
		// forecast should follow if a spike comes last.
		tag := strconv.FormatFloat(a, 'f', -1, 64)
		if sd > 0 {
			ev.add("robust_ses_"+tag, sesPaths(a, clipZ*sd))
		}
		ev.add("ses_"+tag, sesPaths(a, math.Inf(1)))
	}
	w := max(5, ev.h)
	ev.add("median_"+strconv.Itoa(w), medianPaths(w))
}

// combination is the mean of some candidates' forecasts.
type combination struct {
	members []int // candidate indices, best first
	final   []float64
	paths   []float64
	score   float64
}

// combine returns the mean of the k best-scored candidates for the k in
// 1..maxMembers with the lowest rolling-origin error.
func (ev *evaluation) combine() combination {
	order := make([]int, len(ev.scores))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ev.scores[order[a]] < ev.scores[order[b]] })
	// A candidate that forecast the evaluation exactly as a better one did
	// adds nothing to a mean but weight.
	distinct := order[:0:0]
	for _, i := range order {
		if !slices.ContainsFunc(distinct, func(j int) bool { return slices.Equal(ev.paths[i], ev.paths[j]) }) {
			distinct = append(distinct, i)
		}
	}
	order = distinct
	var best combination
	for k := 1; k <= min(maxMembers, len(order)); k++ {
		c := ev.mean(order[:k])
		if k == 1 || c.score < best.score {
			best = c
		}
	}
	return best
}

// mean averages the members' forecasts and scores the average.
func (ev *evaluation) mean(members []int) combination {
	c := combination{
		members: append([]int(nil), members...),
		final:   make([]float64, ev.h),
		paths:   make([]float64, len(ev.paths[0])),
	}
	w := 1 / float64(len(members))
	for _, m := range members {
		for i, v := range ev.paths[m] {
			c.paths[i] += w * v
		}
		for i, v := range ev.finals[m] {
			c.final[i] += w * v
		}
	}
	c.score = ev.mae(c.paths)
	return c
}

// quantiles returns, for each step ahead, the lower and upper empirical
// quantiles of the combination's errors (actual minus forecast) at the
// interval's coverage, each widened to be at least as wide as the step
// before.
func (ev *evaluation) quantiles(c combination) (lo, hi []float64) {
	h, o := ev.h, len(ev.origins)
	lo, hi = make([]float64, h), make([]float64, h)
	errs := make([]float64, 0, o)
	for k := range h {
		errs = errs[:0]
		for i, org := range ev.origins {
			if ev.scored(org + k) {
				errs = append(errs, ev.z[org+k]-c.paths[i*h+k])
			}
		}
		sort.Float64s(errs)
		lo[k] = quantile(errs, (1-coverage)/2)
		hi[k] = quantile(errs, 1-(1-coverage)/2)
		if k > 0 {
			lo[k] = math.Min(lo[k], lo[k-1])
			hi[k] = math.Max(hi[k], hi[k-1])
		}
	}
	return lo, hi
}

// naivePaths forecasts the last value seen.
func naivePaths(z []float64, origins []int, h int, out []float64) {
	for i, o := range origins {
		fill(out[i*h:(i+1)*h], z[o-1])
	}
}

// sesPaths returns simple exponential smoothing with weight alpha whose
// one-step errors are clipped at ±clip (Inf: the plain form). It starts
// warmUp/alpha samples before the first origin, at the sample there: the
// start's weight has decayed to (1-alpha)^(warmUp/alpha) < e^-warmUp by
// then, and the samples before cost nothing.
func sesPaths(alpha, clip float64) pathFunc {
	return func(z []float64, origins []int, h int, out []float64) {
		start := 0
		if len(origins) > 0 {
			start = max(0, origins[0]-int(warmUp/alpha))
		}
		l := z[start]
		t := start + 1
		for i, o := range origins {
			for ; t < o; t++ {
				e := z[t] - l
				if e > clip {
					e = clip
				} else if e < -clip {
					e = -clip
				}
				l += alpha * e
			}
			fill(out[i*h:(i+1)*h], l)
		}
	}
}

// medianPaths forecasts the median of the last w samples.
func medianPaths(w int) pathFunc {
	return func(z []float64, origins []int, h int, out []float64) {
		buf := make([]float64, 0, w)
		for i, o := range origins {
			fill(out[i*h:(i+1)*h], median(z[max(0, o-w):o], buf))
		}
	}
}

// stepScales returns two scales of the series' last steps z[t]-z[t-1]
// (at most scaleSteps of them): mad, 1.4826 times their median absolute
// deviation (their standard deviation where they are normal), and wide,
// the larger of mad and their mean absolute value, which quantised
// metrics need: their steps are mostly zero, and a clip at a few MADs
// would clip every real move.
func stepScales(z []float64) (mad, wide float64) {
	if len(z) < 3 {
		return 0, 0
	}
	z = z[max(0, len(z)-1-scaleSteps):]
	d := make([]float64, len(z)-1)
	var meanAbs float64
	for i := range d {
		d[i] = z[i+1] - z[i]
		meanAbs += math.Abs(d[i])
	}
	meanAbs /= float64(len(d))
	sort.Float64s(d)
	med := quantile(d, 0.5)
	for i := range d {
		d[i] = math.Abs(d[i] - med)
	}
	sort.Float64s(d)
	mad = 1.4826 * quantile(d, 0.5)
	return mad, math.Max(mad, meanAbs)
}

func fill(dst []float64, v float64) {
	for i := range dst {
		dst[i] = v
	}
}
