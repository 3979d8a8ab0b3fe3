package analysis

import (
	"math"
	"path/filepath"
	"sort"
	"testing"

	"github.com/slapipe/slapipe/internal/testing/testkit/refcase"
)

// realCase is one held-out cut of a real server metric (testdata/real: SMD
// and NAB, see their READMEs) with the forecasts of the anchors a user
// would otherwise pick: the last value, and R forecast 8.20's ets().
type realCase struct {
	Name    string        `json:"name"`
	Group   string        `json:"group"`
	Input   refcase.Input `json:"input"`
	Future  []float64     `json:"future"`
	Anchors struct {
		Naive struct {
			Mean []float64 `json:"mean"`
		} `json:"naive"`
		RETS struct {
			Mean  []float64 `json:"mean"`
			Lower []float64 `json:"lower"`
			Upper []float64 `json:"upper"`
		} `json:"r_ets"`
	} `json:"anchors"`
}

// groupScore holds the figures of score.py for one set of cases.
type groupScore struct {
	cases                  int
	logVsNaive, logVsETS   float64
	inside, values         int
	msis, msisETS          []float64
	negative, seasonsFound int
}

// TestRealServerMetrics scores the forecast on held-out futures of real
// server metrics as testdata/real/score.py does, per source: the geometric
// mean over series of the MAE ratio against the naive forecast and against
// R's ets() must be at most 0.95; the pooled coverage of the 95 % interval
// between 90 % and 98 %; the mean (and the median) scaled interval score
// (M4's MSIS) no worse than R ets'; and, since these metrics are never
// negative, no forecast or bound below zero.
func TestRealServerMetrics(t *testing.T) {
	for _, src := range []string{"smd", "nab"} {
		t.Run(src, func(t *testing.T) {
			cases := refcase.Load[realCase](t, filepath.Join("testdata", "real", src, "*.json"))
			if len(cases) < 40 {
				t.Fatalf("%d cases in testdata/real/%s, want at least 40", len(cases), src)
			}
			var g groupScore
			for _, f := range cases {
				scoreRealCase(t, f.Case, &g)
			}
			check(t, src, &g)
		})
	}
}

func scoreRealCase(t *testing.T, c realCase, g *groupScore) {
	t.Helper()
	in := Input{StepSeconds: c.Input.StepSeconds, Horizon: c.Input.Horizon, Values: refcase.Values(c.Input.Values)}
	res, err := Analyze(in)
	if err != nil || res.Forecast == nil {
		t.Fatalf("%s: Analyze: %v (forecast %v)", c.Name, err, res)
	}
	fc, y := res.Forecast, c.Future
	ours := mae(fc.Mean, y)
	naive, ets := mae(c.Anchors.Naive.Mean, y), mae(c.Anchors.RETS.Mean, y)
	if ours == 0 || naive == 0 || ets == 0 {
		t.Fatalf("%s: a zero MAE (ours %g, naive %g, ets %g) leaves the ratio undefined", c.Name, ours, naive, ets)
	}
	g.cases++
	g.logVsNaive += math.Log(ours / naive)
	g.logVsETS += math.Log(ours / ets)
	scale := naiveStepMAE(in.Values)
	g.msis = append(g.msis, msis(fc.Lower, fc.Upper, y)/scale)
	g.msisETS = append(g.msisETS, msis(c.Anchors.RETS.Lower, c.Anchors.RETS.Upper, y)/scale)
	for i, v := range y {
		if v >= fc.Lower[i] && v <= fc.Upper[i] {
			g.inside++
		}
		if fc.Mean[i] < 0 || fc.Lower[i] < 0 {
			g.negative++
		}
	}
	g.values += len(y)
	if res.Seasonality != nil {
		g.seasonsFound++
	}
}

func check(t *testing.T, src string, g *groupScore) {
	n := float64(g.cases)
	vsNaive, vsETS := math.Exp(g.logVsNaive/n), math.Exp(g.logVsETS/n)
	cover := float64(g.inside) / float64(g.values)
	m, mETS := meanOf(g.msis), meanOf(g.msisETS)
	med, medETS := medianOf(g.msis), medianOf(g.msisETS)
	t.Logf("%s: %d series: MAE ratio vs naive %.4f, vs R ets %.4f; coverage %.3f; MSIS mean %.3f (R ets %.4g), median %.3f (R ets %.3f); %d seasons; %d values below zero",
		src, g.cases, vsNaive, vsETS, cover, m, mETS, med, medETS, g.seasonsFound, g.negative)
	if vsNaive > 0.95 || vsETS > 0.95 {
		t.Errorf("%s: MAE ratio vs naive %.4f, vs R ets %.4f: want both <= 0.95", src, vsNaive, vsETS)
	}
	if cover < 0.90 || cover > 0.98 {
		t.Errorf("%s: 95 %% interval coverage %.3f, want 0.90 to 0.98", src, cover)
	}
	if m > mETS || med > medETS {
		t.Errorf("%s: MSIS mean %.3f median %.3f, R ets %.4g and %.3f: want no worse", src, m, med, mETS, medETS)
	}
	if g.negative > 0 {
		t.Errorf("%s: %d forecast values or lower bounds below zero on never-negative metrics", src, g.negative)
	}
}

func mae(f, y []float64) float64 {
	var s float64
	for i := range y {
		s += math.Abs(f[i] - y[i])
	}
	return s / float64(len(y))
}

// msis is M4's interval score at 95 % before scaling.
func msis(lo, up, y []float64) float64 {
	var s float64
	for i, v := range y {
		s += up[i] - lo[i]
		if v < lo[i] {
			s += 40 * (lo[i] - v)
		}
		if v > up[i] {
			s += 40 * (v - up[i])
		}
	}
	return s / float64(len(y))
}

// naiveStepMAE is the mean absolute step of the observed history, MSIS's
// scale.
func naiveStepMAE(x []float64) float64 {
	var s float64
	c := 0
	prev := math.NaN()
	for _, v := range x {
		if math.IsNaN(v) {
			continue
		}
		if !math.IsNaN(prev) {
			s += math.Abs(v - prev)
			c++
		}
		prev = v
	}
	return s / float64(c)
}

func meanOf(xs []float64) float64 {
	var s float64
	for _, v := range xs {
		s += v
	}
	return s / float64(len(xs))
}

func medianOf(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
