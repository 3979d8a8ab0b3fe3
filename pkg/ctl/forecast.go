package ctl

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/guptarohit/asciigraph"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// chartWidth is the number of columns of a forecast chart; history and
// forecast are averaged into that many buckets.
const chartWidth = 96

// maxCharts bounds how many series `forecast` draws; the rest are listed.
const maxCharts = 4

type forecastJSON struct {
	RunID      string               `json:"run_id"`
	ComputedAt *string              `json:"computed_at"`
	Series     []seriesForecastJSON `json:"series"`
}

type seriesForecastJSON struct {
	seriesHead
	Model         string         `json:"model"`
	Interval      string         `json:"interval"`
	NonNegative   bool           `json:"non_negative"`
	StepSeconds   num            `json:"step_seconds"`
	RangeEnd      *string        `json:"range_end"`
	Horizon       int32          `json:"horizon"`
	Sigma         num            `json:"sigma"`
	AICc          num            `json:"aicc"`
	Params        map[string]num `json:"params"`
	PredictedMin  num            `json:"predicted_min"`
	PredictedMax  num            `json:"predicted_max"`
	PredictedMean num            `json:"predicted_mean"`
	History       []pointJSON    `json:"history"`
	Points        []forecastPt   `json:"points"`
}

type pointJSON struct {
	Time  string `json:"time"`
	Value num    `json:"value"`
}

type forecastPt struct {
	Time  *string `json:"time"`
	Mean  num     `json:"mean"`
	Lower num     `json:"lower"`
	Upper num     `json:"upper"`
}

// historyTimes dates the history tail: its last sample is at range_end.
func historyTimes(s *slapipev1.SeriesForecast) []time.Time {
	h := s.GetForecast().GetHistory()
	end := s.GetRangeEnd().AsTime()
	step := time.Duration(s.GetStepSeconds() * float64(time.Second))
	out := make([]time.Time, len(h))
	for i := range h {
		out[i] = end.Add(-time.Duration(len(h)-1-i) * step)
	}
	return out
}

func toForecastJSON(resp *slapipev1.GetForecastResponse) forecastJSON {
	out := forecastJSON{RunID: resp.GetRunId(), ComputedAt: timeJSON(resp.GetComputedAt()), Series: []seriesForecastJSON{}}
	for _, s := range resp.GetSeries() {
		f := s.GetForecast()
		row := seriesForecastJSON{seriesHead: toSeriesHead(s.GetSeries()), Model: f.GetModel(),
			Interval: f.GetInterval(), NonNegative: f.GetNonNegative(),
			StepSeconds: num(s.GetStepSeconds()), RangeEnd: timeJSON(s.GetRangeEnd()), Horizon: f.GetHorizon(),
			Sigma: num(f.GetSigma()), AICc: num(f.GetAicc()), Params: map[string]num{},
			PredictedMin: num(f.GetPredictedMin()), PredictedMax: num(f.GetPredictedMax()),
			PredictedMean: num(f.GetPredictedMean()), History: []pointJSON{}, Points: []forecastPt{}}
		for k, v := range f.GetParams() {
			row.Params[k] = num(v)
		}
		if s.GetRangeEnd() != nil {
			for i, t := range historyTimes(s) {
				row.History = append(row.History, pointJSON{Time: t.UTC().Format(time.RFC3339Nano), Value: num(f.GetHistory()[i])})
			}
		}
		for _, p := range f.GetPoints() {
			row.Points = append(row.Points, forecastPt{Time: timeJSON(p.GetTime()), Mean: num(p.GetMean()),
				Lower: num(p.GetLower()), Upper: num(p.GetUpper())})
		}
		out.Series = append(out.Series, row)
	}
	return out
}

// Forecast prints the forecast of the series of a metric: a chart of the
// history tail, the point forecast and its 95 % interval per series, or the
// points as JSON.
func (c *Client) Forecast(ctx context.Context, q Query) error {
	sq, err := q.proto()
	if err != nil {
		return err
	}
	resp, err := allPages(ctx, c, sq, c.forecastPage, func(into, p *slapipev1.GetForecastResponse) {
		into.Series = append(into.Series, p.GetSeries()...)
	})
	if err != nil {
		return c.explainRetrieval(err)
	}
	for _, s := range resp.GetSeries() {
		if err := q.checkSeries(s.GetSeries()); err != nil {
			return err
		}
	}
	if c.json() {
		return writeJSON(c.opts.Stdout, toForecastJSON(resp))
	}
	_, err = io.WriteString(c.opts.Stdout, c.forecastCharts(ctx, resp))
	return err
}

func (c *Client) forecastCharts(ctx context.Context, resp *slapipev1.GetForecastResponse) string {
	var b strings.Builder
	series := resp.GetSeries()
	if len(series) == 0 {
		return "No forecast stored for this metric: run the ETL with `slapipe ctl etl run`.\n"
	}
	bounds := c.seriesBounds(ctx)
	for i, s := range series {
		if i == maxCharts {
			fmt.Fprintf(&b, "%d more series; draw one with --series ID:\n", len(series)-maxCharts)
			t := newTable("SERIES", "LABELS", "MODEL", "PRED MIN", "PRED MAX", "PRED MEAN")
			for _, r := range series[maxCharts:] {
				f := r.GetForecast()
				u := unitOf(r.GetSeries().GetMetric(), r.GetSeries().GetTransform())
				t.row(r.GetSeries().GetSeriesId(), cellLabels(r.GetSeries().GetLabels()), f.GetModel(),
					u.format(f.GetPredictedMin()), u.format(f.GetPredictedMax()), u.format(f.GetPredictedMean()))
			}
			b.WriteString(t.String())
			break
		}
		ref, f := s.GetSeries(), s.GetForecast()
		u := unitOf(ref.GetMetric(), ref.GetTransform())
		fmt.Fprintf(&b, "%s%s  (series %s, %s)\n", ref.GetMetric(), labelString(ref.GetLabels()), ref.GetSeriesId(), ref.GetTransform())
		b.WriteString(c.chart(s, u, bounds[ref.GetSeriesId()]))
		step := time.Duration(s.GetStepSeconds() * float64(time.Second))
		fmt.Fprintf(&b, "next %s (%d steps of %s), model %s: min %s, max %s, mean %s\n",
			time.Duration(f.GetHorizon())*step, f.GetHorizon(), step, f.GetModel(),
			u.format(f.GetPredictedMin()), u.format(f.GetPredictedMax()), u.format(f.GetPredictedMean()))
		fmt.Fprintf(&b, "95 %% interval: %s%s\n\n", intervalMethod(f.GetInterval()),
			map[bool]string{true: ", kept at zero or above (never negative)"}[f.GetNonNegative()])
	}
	return b.String()
}

// bound is an SLA bound drawn across a chart.
type bound struct {
	name string
	v    float64
}

// seriesBounds maps series ids to the bounds of the objectives covering
// them, read from the SLA manager. The chart is still useful without them,
// so any failure just means no bound lines.
func (c *Client) seriesBounds(ctx context.Context) map[string][]bound {
	out := map[string][]bound{}
	ctx, cancel := context.WithTimeout(ctx, min(c.opts.Timeout, 3*time.Second))
	defer cancel()
	set, err := c.sla.GetSLA(ctx, &slapipev1.GetSLARequest{})
	if err != nil {
		return out
	}
	preds, err := c.sla.GetPredictions(ctx, &slapipev1.GetPredictionsRequest{})
	if err != nil {
		return out
	}
	byName := map[string]*slapipev1.Objective{}
	for _, o := range set.GetObjectives() {
		byName[o.GetName()] = o
	}
	for _, p := range preds.GetPredictions() {
		o := byName[p.GetObjective()]
		if o == nil || p.GetSeriesId() == "" {
			continue
		}
		if o.Min != nil {
			out[p.GetSeriesId()] = append(out[p.GetSeriesId()], bound{o.GetName() + " min", o.GetMin()})
		}
		if o.Max != nil {
			out[p.GetSeriesId()] = append(out[p.GetSeriesId()], bound{o.GetName() + " max", o.GetMax()})
		}
	}
	return out
}

// chart overlays on one time axis the history tail, then the 95 % interval
// and the point forecast after it (drawn last, so on top), and the SLA
// bounds that fall near the data as flat lines.
func (c *Client) chart(s *slapipev1.SeriesForecast, u unit, bounds []bound) string {
	f := s.GetForecast()
	hist := f.GetHistory()
	pts := f.GetPoints()
	n := len(hist) + len(pts)
	if n < 2 {
		return "  (not enough points to draw)\n"
	}
	line := func() []float64 {
		l := make([]float64, n)
		for j := range l {
			l[j] = math.NaN()
		}
		return l
	}
	histL, lower, upper, mean := line(), line(), line(), line()
	copy(histL, hist)
	for k, p := range pts {
		lower[len(hist)+k], upper[len(hist)+k], mean[len(hist)+k] = p.GetLower(), p.GetUpper(), p.GetMean()
	}
	// Join the forecast to the history so the lines touch.
	if len(hist) > 0 {
		last := hist[len(hist)-1]
		lower[len(hist)-1], upper[len(hist)-1], mean[len(hist)-1] = last, last, last
	}
	type series struct {
		data  []float64
		color asciigraph.AnsiColor
		chars string // "" = box drawing
		label string
	}
	all := []series{
		{histL, asciigraph.Blue, "", "history"},
		{lower, asciigraph.Red, "·", "95% interval"},
		{upper, asciigraph.Red, "·", ""},
		{mean, asciigraph.Green, "*", "forecast"},
	}
	lo, hi := minMax(histL, lower, upper, mean)
	var off []string
	for _, bd := range bounds {
		// A bound far from the data would squash the lines flat.
		if span := hi - lo; bd.v < lo-span || bd.v > hi+span {
			off = append(off, bd.name+" "+u.format(bd.v))
			continue
		}
		l := line()
		for j := range l {
			l[j] = bd.v
		}
		all = append(all, series{l, asciigraph.Yellow, "-", bd.name + " " + u.format(bd.v)})
	}
	// Distinct characters keep the lines apart without colour (pipes, logs).
	var data [][]float64
	var colors []asciigraph.AnsiColor
	var charSets []asciigraph.CharSet
	var legend []string
	for _, sr := range all {
		l := bucket(sr.data, chartWidth)
		if !anyFinite(l) {
			continue
		}
		data = append(data, l)
		colors = append(colors, sr.color)
		cs, mark := asciigraph.CreateCharSet(sr.chars), sr.chars
		if sr.chars == "" {
			cs, mark = asciigraph.DefaultCharSet, "─"
		}
		charSets = append(charSets, cs)
		if sr.label == "" {
			continue
		}
		if c.opts.StdoutTerminal {
			mark = sr.color.String() + mark + asciigraph.Default.String()
		}
		legend = append(legend, mark+" "+sr.label)
	}
	if len(data) == 0 {
		return "  (no finite values to draw)\n"
	}
	opts := []asciigraph.Option{asciigraph.Height(12), asciigraph.SeriesChars(charSets...),
		asciigraph.YAxisValueFormatter(u.format)}
	if c.opts.StdoutTerminal {
		opts = append(opts, asciigraph.SeriesColors(colors...))
	}
	out := asciigraph.PlotMany(data, opts...) + "\n    " + strings.Join(legend, "   ") + "\n"
	if len(off) > 0 {
		out += "    off the chart: " + strings.Join(off, ", ") + "\n"
	}
	return out
}

// minMax is the range of the finite values of ls.
func minMax(ls ...[]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, l := range ls {
		for _, x := range l {
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
	}
	return lo, hi
}

// bucket averages xs into at most width columns, ignoring NaN; a column
// with no finite value is NaN (not drawn). Non-finite values are dropped.
func bucket(xs []float64, width int) []float64 {
	if len(xs) <= width {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = x
			if math.IsInf(x, 0) {
				out[i] = math.NaN()
			}
		}
		return out
	}
	out := make([]float64, width)
	for col := range out {
		lo, hi := col*len(xs)/width, (col+1)*len(xs)/width
		sum, n := 0.0, 0
		for _, x := range xs[lo:hi] {
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				sum += x
				n++
			}
		}
		out[col] = math.NaN()
		if n > 0 {
			out[col] = sum / float64(n)
		}
	}
	return out
}

func anyFinite(xs []float64) bool {
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return true
		}
	}
	return false
}

func (c *Client) forecastPage(ctx context.Context, q *slapipev1.SeriesQuery) (*slapipev1.GetForecastResponse, error) {
	return c.ret.GetForecast(ctx, q)
}

// intervalMethod says in words how the forecast's interval was made.
func intervalMethod(m string) string {
	switch m {
	case "empirical":
		return "from the forecast's own out-of-sample errors"
	case "analytic":
		return "from the model's error variance"
	case "":
		return "method not recorded"
	}
	return m
}
