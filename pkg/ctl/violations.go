package ctl

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

type violationsJSON struct {
	Stale      bool                       `json:"stale"`
	AgeSeconds num                        `json:"age_seconds"`
	ComputedAt *string                    `json:"computed_at"`
	Windows    map[string][]violationJSON `json:"windows"`
}

type violationJSON struct {
	Objective      string            `json:"objective"`
	Metric         string            `json:"metric"`
	Labels         map[string]string `json:"labels"`
	SeriesID       string            `json:"series_id"`
	Samples        int64             `json:"samples"`
	SamplesOut     int64             `json:"samples_out"`
	Episodes       int64             `json:"episodes"`
	SecondsOut     num               `json:"seconds_out"`
	Compliance     num               `json:"compliance"`
	Worst          num               `json:"worst"`
	WorstAt        *string           `json:"worst_at"`
	FirstViolation *string           `json:"first_violation"`
	LastViolation  *string           `json:"last_violation"`
}

func toViolationsJSON(v *slapipev1.GetViolationsResponse) violationsJSON {
	out := violationsJSON{Stale: v.GetStale(), AgeSeconds: num(v.GetAgeSeconds()),
		ComputedAt: timeJSON(v.GetComputedAt()), Windows: map[string][]violationJSON{}}
	for _, w := range v.GetWindows() {
		rows := []violationJSON{}
		for _, r := range w.GetRows() {
			rows = append(rows, violationJSON{
				Objective: r.GetObjective(), Metric: r.GetMetric(), Labels: labelsJSON(r.GetLabels()),
				SeriesID: r.GetSeriesId(), Samples: r.GetSamples(), SamplesOut: r.GetSamplesOut(),
				Episodes: r.GetEpisodes(), SecondsOut: num(r.GetSecondsOut()), Compliance: num(r.GetCompliance()),
				Worst: num(r.GetWorst()), WorstAt: timeJSON(r.GetWorstAt()),
				FirstViolation: timeJSON(r.GetFirstViolation()), LastViolation: timeJSON(r.GetLastViolation()),
			})
		}
		out.Windows[w.GetWindow()] = rows
	}
	return out
}

type predictionsJSON struct {
	Stale          bool             `json:"stale"`
	AgeSeconds     num              `json:"age_seconds"`
	HorizonSeconds num              `json:"horizon_seconds"`
	RunID          string           `json:"run_id"`
	ComputedAt     *string          `json:"computed_at"`
	Predictions    []predictionJSON `json:"predictions"`
}

type predictionJSON struct {
	Objective     string            `json:"objective"`
	Metric        string            `json:"metric"`
	Labels        map[string]string `json:"labels"`
	SeriesID      string            `json:"series_id"`
	Probability   num               `json:"probability"`
	Min           num               `json:"min"`
	Max           num               `json:"max"`
	Mean          num               `json:"mean"`
	FirstCrossing *string           `json:"first_crossing"`
	Model         string            `json:"model"`
}

func toPredictionsJSON(p *slapipev1.GetPredictionsResponse) predictionsJSON {
	out := predictionsJSON{Stale: p.GetStale(), AgeSeconds: num(p.GetAgeSeconds()),
		HorizonSeconds: num(p.GetHorizonSeconds()), RunID: p.GetRunId(), ComputedAt: timeJSON(p.GetComputedAt()),
		Predictions: []predictionJSON{}}
	for _, r := range p.GetPredictions() {
		out.Predictions = append(out.Predictions, predictionJSON{
			Objective: r.GetObjective(), Metric: r.GetMetric(), Labels: labelsJSON(r.GetLabels()),
			SeriesID: r.GetSeriesId(), Probability: num(r.GetProbability()), Min: num(r.GetMin()),
			Max: num(r.GetMax()), Mean: num(r.GetMean()), FirstCrossing: timeJSON(r.GetFirstCrossing()),
			Model: r.GetModel(),
		})
	}
	return out
}

// Violations prints how each objective behaved in window ("" = all three).
func (c *Client) Violations(ctx context.Context, window string) error {
	if window != "" && !slapipev1.ValidWindow(window) {
		return usageErrorf("invalid --window %q: use one of %s", window, slapipev1.WindowNames(false))
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	v, err := c.sla.GetViolations(ctx, &slapipev1.GetViolationsRequest{Window: window})
	if err != nil {
		return c.slaService().explain(err)
	}
	if c.json() {
		return writeJSON(c.opts.Stdout, toViolationsJSON(v))
	}
	_, err = io.WriteString(c.opts.Stdout, violationsTable(v))
	return err
}

// Predictions prints, per objective and series, the chance of leaving the
// range within the forecast horizon.
func (c *Client) Predictions(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	p, err := c.sla.GetPredictions(ctx, &slapipev1.GetPredictionsRequest{})
	if err != nil {
		return c.slaService().explain(err)
	}
	if c.json() {
		return writeJSON(c.opts.Stdout, toPredictionsJSON(p))
	}
	_, err = io.WriteString(c.opts.Stdout, predictionsTable(p))
	return err
}

type statusJSON struct {
	SLA         slaDocument     `json:"sla"`
	Violations  violationsJSON  `json:"violations"`
	Predictions predictionsJSON `json:"predictions"`
	Budget      budgetJSON      `json:"budget"`
	LastRun     *runJSON        `json:"last_run"`
}

// Status prints the SLA set, the violations per window, the predictions and
// the last run in one go.
func (c *Client) Status(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	s, err := c.sla.GetStatus(ctx, &slapipev1.GetStatusRequest{})
	if err != nil {
		return c.slaService().explain(err)
	}
	if c.json() {
		return writeJSON(c.opts.Stdout, statusJSON{SLA: toSLADocument(s.GetSet(), nil),
			Violations: toViolationsJSON(s.GetViolations()), Predictions: toPredictionsJSON(s.GetPredictions()),
			Budget: toBudgetJSON(s.GetBudget()), LastRun: toRunJSON(s.GetLastRun())})
	}
	return WriteStatus(c.opts.Stdout, s)
}

func indent(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "")
}

// fmtCrossing renders when a series is expected to leave its range, with
// the delay from when the prediction was computed; "-" for none.
func fmtCrossing(at, from *timestamppb.Timestamp) string {
	if at == nil {
		return "-"
	}
	s := at.AsTime().Local().Format("15:04:05")
	if from != nil {
		if d := at.AsTime().Sub(from.AsTime()); d >= 0 {
			s += " (in " + d.Round(time.Second).String() + ")"
		}
	}
	return s
}

func staleNote(stale bool, age float64) string {
	if !stale {
		return ""
	}
	return fmt.Sprintf("STALE: computed %s ago; the live source did not answer\n", fmtSeconds(math.Round(age)))
}

func violationsTable(v *slapipev1.GetViolationsResponse) string {
	var b strings.Builder
	b.WriteString(staleNote(v.GetStale(), v.GetAgeSeconds()))
	var sets []map[string]string
	for _, w := range v.GetWindows() {
		for _, r := range w.GetRows() {
			sets = append(sets, r.GetLabels())
		}
	}
	if len(sets) == 0 {
		b.WriteString("No violation data: is the SLA set empty? (`slapipe ctl sla get`)\n")
		return b.String()
	}
	common := commonLabels(sets)
	b.WriteString(commonNote(common))
	t := newTable("WINDOW", "OBJECTIVE", "METRIC", "LABELS", "STATE", "SAMPLES", "OUT", "EPISODES", "TIME OUT", "COMPLIANCE", "WORST")
	for _, w := range v.GetWindows() {
		for _, r := range w.GetRows() {
			state := "ok"
			if r.GetSamplesOut() > 0 {
				state = "VIOLATED"
			}
			t.row(w.GetWindow(), r.GetObjective(), r.GetMetric(), cellLabels(without(r.GetLabels(), common)), state,
				fmt.Sprint(r.GetSamples()), fmt.Sprint(r.GetSamplesOut()), fmt.Sprint(r.GetEpisodes()),
				fmtSeconds(r.GetSecondsOut()), fmtPercent(r.GetCompliance()), worst(r))
		}
	}
	b.WriteString(t.String())
	return b.String()
}

// worst shows the worst value only when the series left its range.
func worst(r *slapipev1.Violation) string {
	if r.GetSamplesOut() == 0 {
		return "-"
	}
	return unitOf(r.GetMetric(), "").format(r.GetWorst())
}

func predictionsTable(p *slapipev1.GetPredictionsResponse) string {
	var b strings.Builder
	b.WriteString(staleNote(p.GetStale(), p.GetAgeSeconds()))
	if len(p.GetPredictions()) == 0 {
		b.WriteString("No predictions yet: run the ETL with `slapipe ctl etl run`\n")
		return b.String()
	}
	fmt.Fprintf(&b, "chance of leaving the range within the next %s\n", fmtSeconds(p.GetHorizonSeconds()))
	var sets []map[string]string
	for _, r := range p.GetPredictions() {
		sets = append(sets, r.GetLabels())
	}
	common := commonLabels(sets)
	b.WriteString(commonNote(common))
	t := newTable("OBJECTIVE", "METRIC", "LABELS", "P(OUT)", "FIRST CROSSING", "PRED MIN", "PRED MAX", "PRED MEAN", "MODEL")
	for _, r := range p.GetPredictions() {
		u := unitOf(r.GetMetric(), "")
		t.row(r.GetObjective(), r.GetMetric(), cellLabels(without(r.GetLabels(), common)), fmtPercent(r.GetProbability()),
			fmtCrossing(r.GetFirstCrossing(), p.GetComputedAt()), u.format(r.GetMin()), u.format(r.GetMax()), u.format(r.GetMean()), r.GetModel())
	}
	b.WriteString(t.String())
	return b.String()
}
