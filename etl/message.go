package etl

import (
	"math"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/pkg/analysis"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// HistoryLen is how many transformed samples before the forecast a message
// carries for charts.
const HistoryLen = 120

// analyzeFunc is the analysis engine's entry point.
type analyzeFunc func(analysis.Input) (*analysis.Result, error)

// defaultAnalyze is the engine every run uses; tests swap ETL.analyze.
var defaultAnalyze analyzeFunc = analysis.Analyze

// ts converts t to a protobuf timestamp at the millisecond precision the
// store keeps, so a stored and re-read message compares equal.
func ts(t time.Time) *timestamppb.Timestamp {
	return timestamppb.New(t.Truncate(time.Millisecond))
}

// seriesMessage is what can be said of s without the analysis engine:
// identity, range and the window statistics.
func seriesMessage(runID string, s *promsource.Series, computedAt time.Time) *slapipev1.SeriesAnalysis {
	gaps := 0
	for _, v := range s.Values {
		if math.IsNaN(v) {
			gaps++
		}
	}
	m := &slapipev1.SeriesAnalysis{
		RunId:       runID,
		SeriesId:    s.ID,
		Metric:      s.Metric,
		Labels:      s.Labels,
		Transform:   s.Transform,
		MetricType:  s.Type,
		ComputedAt:  ts(computedAt),
		RangeStart:  ts(s.Start),
		RangeEnd:    ts(s.End()),
		StepSeconds: s.Step.Seconds(),
		Samples:     int64(len(s.Values)),
		Gaps:        int64(gaps),
	}
	for _, w := range slapipev1.Windows {
		k := min(len(s.Values), int(w.Duration/s.Step))
		st := analysis.Summarize(s.Values[len(s.Values)-k:])
		m.Windows = append(m.Windows, &slapipev1.WindowStats{
			Window: w.Name, Samples: int64(st.Count),
			Min: st.Min, Max: st.Max, Mean: st.Mean, Stddev: st.Stddev,
		})
	}
	return m
}

// addResult copies what the engine found into m. Forecast points are at
// range_end + k*step, k = 1..horizon.
func addResult(m *slapipev1.SeriesAnalysis, s *promsource.Series, r *analysis.Result) {
	if a := r.ADF; a != nil {
		m.Adf = &slapipev1.ADF{
			Statistic:   a.Statistic,
			Pvalue:      a.PValue,
			UsedLag:     int32(a.UsedLag),
			Nobs:        int32(a.NObs),
			Critical_1:  a.CriticalValues["1%"],
			Critical_5:  a.CriticalValues["5%"],
			Critical_10: a.CriticalValues["10%"],
			IcBest:      a.ICBest,
			Stationary:  a.Stationary,
		}
	}
	m.Acf = r.ACF
	if se := r.Seasonality; se != nil {
		m.Seasonality = &slapipev1.Seasonality{
			Period: int32(se.Period), Detected: se.Detected, Seasonal: se.Seasonal, Strength: se.Strength,
		}
	}
	if c := r.SeasonCheck; c != nil {
		m.SeasonCheck = &slapipev1.SeasonCheck{
			Period: int32(c.Period), Candidate: int32(c.Candidate), Cycles: int32(c.Cycles),
			Z: c.Z, Agreement: c.Agreement, Strength: c.Strength, Reason: c.Reason,
		}
	}
	f := r.Forecast
	if f == nil {
		return
	}
	pf := &slapipev1.Forecast{
		Model:       f.Model,
		Horizon:     int32(f.Horizon),
		Sigma:       f.Sigma,
		Aicc:        f.AICc,
		Params:      f.Params,
		Interval:    f.Interval,
		NonNegative: f.NonNegative,
		History:     s.Values[len(s.Values)-min(HistoryLen, len(s.Values)):],
	}
	end := s.End()
	lo, hi, sum, n := math.Inf(1), math.Inf(-1), 0.0, 0
	for k, mean := range f.Mean {
		p := &slapipev1.ForecastPoint{Time: ts(end.Add(time.Duration(k+1) * s.Step)), Mean: mean}
		if k < len(f.Lower) {
			p.Lower = f.Lower[k]
		}
		if k < len(f.Upper) {
			p.Upper = f.Upper[k]
		}
		pf.Points = append(pf.Points, p)
		if !math.IsNaN(mean) {
			lo, hi, sum, n = min(lo, mean), max(hi, mean), sum+mean, n+1
		}
	}
	if n > 0 {
		// Rounding can put the mean of a flat forecast a hair outside it.
		pf.PredictedMin, pf.PredictedMax, pf.PredictedMean = lo, hi, min(max(sum/float64(n), lo), hi)
	} else {
		pf.PredictedMin, pf.PredictedMax, pf.PredictedMean = math.NaN(), math.NaN(), math.NaN()
	}
	m.Forecast = pf
}
