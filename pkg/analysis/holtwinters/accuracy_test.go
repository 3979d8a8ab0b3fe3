package holtwinters

import (
	"math"
	"testing"

	"github.com/slapipe/slapipe/pkg/analysis/season"
)

func mae(f, y []float64) float64 {
	var s float64
	for i := range y {
		s += math.Abs(f[i] - y[i])
	}
	return s / float64(len(y))
}

// TestAccuracyAgainstStatsmodels forecasts every reference case's held-out
// future and compares the mean absolute error, geometric mean over cases,
// with statsmodels' damped Holt-Winters and simple exponential smoothing,
// and checks the pooled coverage of the 95 % intervals.
func TestAccuracyAgainstStatsmodels(t *testing.T) {
	t.Run("filled", func(t *testing.T) { checkAccuracy(t, filled) })
	t.Run("nan_gaps", func(t *testing.T) { checkAccuracy(t, nanGaps) })
	t.Run("given_indices", func(t *testing.T) { checkAccuracy(t, givenIndices) })
}

// accuracyInput is how a case's series reaches Forecast.
type accuracyInput int

const (
	filled       accuracyInput = iota // gaps filled as the contract says
	nanGaps                           // gaps left as NaN for Forecast to skip
	givenIndices                      // filled, with Options.Indices as analysis.Analyze passes them
)

// checkAccuracy runs the comparison on the series given as mode says. The
// geometric means
// leave out cases where a forecast is exact (MAE 0, which ours is on a
// series that ends on a long constant run): a zero would decide the mean
// alone, and leaving it out only costs us.
func checkAccuracy(t *testing.T, mode accuracyInput) {
	var logOurs, logHW, logSES float64
	var inside, total, n, exact int
	// Per source: the analysis package's cases, this package's.
	var logRatio [2]float64
	var count [2]int
	for _, c := range loadCases(t) {
		period := 0
		if c.Input.Period != nil {
			period = *c.Input.Period
		}
		h := len(c.Future)
		x := c.x
		opts := Options{Period: period, Horizon: h}
		switch mode {
		case nanGaps:
			x = c.raw
		case givenIndices:
			if d, err := season.Decompose(x, period); err == nil {
				opts.Indices = d.Indices
			}
		}
		r, err := Forecast(x, opts)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		ours := mae(r.Mean, c.Future)
		hw := mae(c.Reference.Forecasts.HoltWinters, c.Future)
		ses := mae(c.Reference.Forecasts.SES, c.Future)
		in := 0
		for i, y := range c.Future {
			if y >= r.Lower[i] && y <= r.Upper[i] {
				in++
			}
		}
		inside += in
		total += h
		t.Logf("%-36s %-16s MAE ours %-10.4g statsmodels HW %-10.4g SES %-10.4g ratio %.3f cover %3d/%d",
			c.file, r.Model, ours, hw, ses, ours/hw, in, h)
		if ours == 0 || hw == 0 || ses == 0 {
			exact++
			continue
		}
		logOurs += math.Log(ours)
		logHW += math.Log(hw)
		logSES += math.Log(ses)
		n++
		src := 0
		if c.own {
			src = 1
		}
		logRatio[src] += math.Log(ours / hw)
		count[src]++
	}
	t.Logf("geometric mean of ours/HW MAE ratios: %.3f over %d analysis cases, %.3f over %d holtwinters cases",
		math.Exp(logRatio[0]/float64(count[0])), count[0], math.Exp(logRatio[1]/float64(count[1])), count[1])
	gOurs, gHW, gSES := math.Exp(logOurs/float64(n)), math.Exp(logHW/float64(n)), math.Exp(logSES/float64(n))
	cover := float64(inside) / float64(total)
	t.Logf("geometric mean MAE over %d cases (%d exact ones left out): ours %.6g, statsmodels Holt-Winters %.6g (ours/HW %.3f), SES %.6g (ours/SES %.3f); 95 %% interval coverage %.1f %% of %d values",
		n, exact, gOurs, gHW, gOurs/gHW, gSES, gOurs/gSES, 100*cover, total)
	if gOurs > gHW {
		t.Errorf("geometric mean MAE %.6g above statsmodels Holt-Winters' %.6g", gOurs, gHW)
	}
	if gOurs > 0.8*gSES {
		t.Errorf("geometric mean MAE %.6g not well below SES' %.6g", gOurs, gSES)
	}
	if cover < 0.85 || cover > 0.99 {
		t.Errorf("95 %% interval coverage %.1f %%, want 85-99 %%", 100*cover)
	}
}
