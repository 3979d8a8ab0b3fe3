package ctl

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/prometheus/common/model"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Query names what a retrieval command reads: the series of Metric, or one
// of them (SeriesID), in the latest run or RunID.
type Query struct {
	Metric, SeriesID, RunID string
}

func (q Query) proto() (*slapipev1.SeriesQuery, error) {
	if q.Metric == "" && q.SeriesID == "" {
		return nil, usageErrorf("give a metric name (list them with `slapipe ctl metrics --stored`)")
	}
	// The same rule as the retrieval service: any non-empty UTF-8 name.
	if q.Metric != "" && !model.UTF8Validation.IsValidMetricName(q.Metric) {
		return nil, usageErrorf("invalid metric name %q: a metric name is valid UTF-8", q.Metric)
	}
	// The service takes a metric or a series, not both; the metric then only
	// checks that the series is one of its (checkSeries).
	if q.SeriesID != "" {
		return &slapipev1.SeriesQuery{SeriesId: q.SeriesID, RunId: q.RunID}, nil
	}
	return &slapipev1.SeriesQuery{Metric: q.Metric, RunId: q.RunID}, nil
}

// checkSeries refuses an answer about a series of another metric than the
// one asked for (a --series id pasted from the wrong metric).
func (q Query) checkSeries(refs ...*slapipev1.SeriesRef) error {
	if q.SeriesID == "" || q.Metric == "" {
		return nil
	}
	for _, r := range refs {
		if r.GetMetric() != q.Metric {
			return fmt.Errorf("series %s is a series of %s, not of %s", q.SeriesID, r.GetMetric(), q.Metric)
		}
	}
	return nil
}

// explainRetrieval adds a hint to "not found" answers about metrics.
func (c *Client) explainRetrieval(err error) error {
	if status.Code(err) == codes.NotFound {
		return fmt.Errorf("%w: list the stored metrics with `slapipe ctl metrics --stored`", c.retrievalService().explain(err))
	}
	return c.retrievalService().explain(err)
}

type seriesHead struct {
	SeriesID  string            `json:"series_id"`
	Metric    string            `json:"metric"`
	Labels    map[string]string `json:"labels"`
	Transform string            `json:"transform"`
	Type      string            `json:"type"`
}

func toSeriesHead(r *slapipev1.SeriesRef) seriesHead {
	return seriesHead{SeriesID: r.GetSeriesId(), Metric: r.GetMetric(), Labels: labelsJSON(r.GetLabels()),
		Transform: r.GetTransform(), Type: r.GetMetricType()}
}

type statsJSON struct {
	RunID      string            `json:"run_id"`
	ComputedAt *string           `json:"computed_at"`
	Series     []seriesStatsJSON `json:"series"`
}

type seriesStatsJSON struct {
	seriesHead
	Windows map[string]windowJSON `json:"windows"`
}

type windowJSON struct {
	Samples int64 `json:"samples"`
	Min     num   `json:"min"`
	Max     num   `json:"max"`
	Mean    num   `json:"mean"`
	Stddev  num   `json:"stddev"`
}

// Stats prints the 1h/3h/12h statistics of the series of a metric.
func (c *Client) Stats(ctx context.Context, q Query) error {
	sq, err := q.proto()
	if err != nil {
		return err
	}
	resp, err := allPages(ctx, c, sq, c.statsPage, func(into, p *slapipev1.GetStatsResponse) {
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
		out := statsJSON{RunID: resp.GetRunId(), ComputedAt: timeJSON(resp.GetComputedAt()), Series: []seriesStatsJSON{}}
		for _, s := range resp.GetSeries() {
			row := seriesStatsJSON{seriesHead: toSeriesHead(s.GetSeries()), Windows: map[string]windowJSON{}}
			for _, w := range s.GetWindows() {
				row.Windows[w.GetWindow()] = windowJSON{Samples: w.GetSamples(), Min: num(w.GetMin()),
					Max: num(w.GetMax()), Mean: num(w.GetMean()), Stddev: num(w.GetStddev())}
			}
			out.Series = append(out.Series, row)
		}
		return writeJSON(c.opts.Stdout, out)
	}
	_, err = io.WriteString(c.opts.Stdout, statsTable(resp))
	return err
}

func statsTable(resp *slapipev1.GetStatsResponse) string {
	var sets []map[string]string
	for _, s := range resp.GetSeries() {
		sets = append(sets, s.GetSeries().GetLabels())
	}
	common := commonLabels(sets)
	t := newTable("METRIC", "LABELS", "TRANSFORM", "WINDOW", "SAMPLES", "MIN", "MAX", "MEAN", "STDDEV")
	for _, s := range resp.GetSeries() {
		ref := s.GetSeries()
		u := unitOf(ref.GetMetric(), ref.GetTransform())
		for _, w := range s.GetWindows() {
			t.row(ref.GetMetric(), cellLabels(without(ref.GetLabels(), common)), ref.GetTransform(), w.GetWindow(),
				fmt.Sprint(w.GetSamples()), u.format(w.GetMin()), u.format(w.GetMax()), u.format(w.GetMean()), u.format(w.GetStddev()))
		}
	}
	return fmt.Sprintf("run %s, computed %s\n", resp.GetRunId(), fmtTime(resp.GetComputedAt())) + commonNote(common) + t.String()
}

type metadataJSON struct {
	RunID      string               `json:"run_id"`
	ComputedAt *string              `json:"computed_at"`
	Series     []seriesMetadataJSON `json:"series"`
}

type seriesMetadataJSON struct {
	seriesHead
	ADF         *adfJSON         `json:"adf"`
	ACF         []num            `json:"acf"`
	Seasonality *seasonalityJSON `json:"seasonality"`
	SeasonCheck *seasonCheckJSON `json:"season_check"`
}

// seasonCheckJSON says why a season was taken or refused.
type seasonCheckJSON struct {
	Period    int32  `json:"period"`
	Candidate int32  `json:"candidate"`
	Cycles    int32  `json:"cycles"`
	Z         num    `json:"z"`
	Agreement num    `json:"agreement"`
	Strength  num    `json:"strength"`
	Reason    string `json:"reason"`
}

type adfJSON struct {
	Statistic      num            `json:"statistic"`
	PValue         num            `json:"pvalue"`
	UsedLag        int32          `json:"used_lag"`
	NObs           int32          `json:"nobs"`
	CriticalValues map[string]num `json:"critical_values"`
	ICBest         num            `json:"ic_best"`
	Stationary     bool           `json:"stationary"`
}

type seasonalityJSON struct {
	Period   int32 `json:"period"`
	Detected bool  `json:"detected"`
	Seasonal []num `json:"seasonal"`
	Strength num   `json:"strength"`
}

// Metadata prints the stationarity test, autocorrelation and season of the
// series of a metric.
func (c *Client) Metadata(ctx context.Context, q Query) error {
	sq, err := q.proto()
	if err != nil {
		return err
	}
	resp, err := allPages(ctx, c, sq, c.metadataPage, func(into, p *slapipev1.GetMetadataResponse) {
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
		out := metadataJSON{RunID: resp.GetRunId(), ComputedAt: timeJSON(resp.GetComputedAt()), Series: []seriesMetadataJSON{}}
		for _, s := range resp.GetSeries() {
			row := seriesMetadataJSON{seriesHead: toSeriesHead(s.GetSeries())}
			if a := s.GetAdf(); a != nil {
				row.ADF = &adfJSON{Statistic: num(a.GetStatistic()), PValue: num(a.GetPvalue()), UsedLag: a.GetUsedLag(),
					NObs: a.GetNobs(), ICBest: num(a.GetIcBest()), Stationary: a.GetStationary(),
					CriticalValues: map[string]num{"1%": num(a.GetCritical_1()), "5%": num(a.GetCritical_5()), "10%": num(a.GetCritical_10())}}
			}
			if len(s.GetAcf()) > 0 {
				row.ACF = nums(s.GetAcf())
			}
			if se := s.GetSeasonality(); se != nil {
				row.Seasonality = &seasonalityJSON{Period: se.GetPeriod(), Detected: se.GetDetected(),
					Seasonal: nums(se.GetSeasonal()), Strength: num(se.GetStrength())}
			}
			if sc := s.GetSeasonCheck(); sc != nil {
				row.SeasonCheck = &seasonCheckJSON{Period: sc.GetPeriod(), Candidate: sc.GetCandidate(), Cycles: sc.GetCycles(),
					Z: num(sc.GetZ()), Agreement: num(sc.GetAgreement()), Strength: num(sc.GetStrength()), Reason: sc.GetReason()}
			}
			out.Series = append(out.Series, row)
		}
		return writeJSON(c.opts.Stdout, out)
	}
	_, err = io.WriteString(c.opts.Stdout, metadataTable(resp))
	return err
}

func metadataTable(resp *slapipev1.GetMetadataResponse) string {
	var sets []map[string]string
	for _, s := range resp.GetSeries() {
		sets = append(sets, s.GetSeries().GetLabels())
	}
	common := commonLabels(sets)
	t := newTable("METRIC", "LABELS", "ADF", "P-VALUE", "LAG", "STATIONARY", "SEASON", "STRENGTH", "ACF(1..5)", "SEASON CHECK")
	for _, s := range resp.GetSeries() {
		ref := s.GetSeries()
		adf, p, lag, stationary := "-", "-", "-", "constant"
		if a := s.GetAdf(); a != nil {
			adf, p, lag = fmtNum(a.GetStatistic()), fmt.Sprintf("%.4f", a.GetPvalue()), fmt.Sprint(a.GetUsedLag())
			stationary = map[bool]string{true: "yes", false: "no"}[a.GetStationary()]
		}
		period, strength := "-", "-"
		if se := s.GetSeasonality(); se != nil {
			period = fmt.Sprintf("%d", se.GetPeriod())
			if se.GetDetected() {
				period += " (found)"
			}
			strength = fmt.Sprintf("%.2f", se.GetStrength())
		}
		var acf []string
		for i, v := range s.GetAcf() {
			if i == 0 {
				continue
			}
			if i > 5 {
				break
			}
			acf = append(acf, fmt.Sprintf("%.2f", v))
		}
		acfs := "-"
		if len(acf) > 0 {
			acfs = strings.Join(acf, " ")
		}
		t.row(ref.GetMetric(), cellLabels(without(ref.GetLabels(), common)), adf, p, lag, stationary, period, strength, acfs,
			seasonCheckCell(s.GetSeasonCheck()))
	}
	return fmt.Sprintf("run %s, computed %s\n", resp.GetRunId(), fmtTime(resp.GetComputedAt())) + commonNote(common) + t.String()
}

func (c *Client) statsPage(ctx context.Context, q *slapipev1.SeriesQuery) (*slapipev1.GetStatsResponse, error) {
	return c.ret.GetStats(ctx, q)
}

func (c *Client) metadataPage(ctx context.Context, q *slapipev1.SeriesQuery) (*slapipev1.GetMetadataResponse, error) {
	return c.ret.GetMetadata(ctx, q)
}

// seasonCheckCell says in one cell why a season was taken or refused: the
// reason, and the evidence about the best period tested.
func seasonCheckCell(c *slapipev1.SeasonCheck) string {
	switch {
	case c == nil:
		return "-"
	case c.GetCandidate() == 0 || c.GetCycles() == 0:
		return c.GetReason()
	}
	return fmt.Sprintf("%s (%d: %d cycles, z %.1f, %.0f%% agree, strength %.2f)", c.GetReason(), c.GetCandidate(),
		c.GetCycles(), c.GetZ(), 100*c.GetAgreement(), c.GetStrength())
}
