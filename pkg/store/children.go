package store

import (
	"context"
	"database/sql"
	"fmt"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// childQuery reads one child table for a set of analyses of a run.
type childQuery struct {
	part               Parts
	table, cols, order string
	// scan reads one row (series_id first) into the message it belongs to.
	scan func(rows *sql.Rows, byID map[string]*slapipev1.SeriesAnalysis) error
}

var childQueries = []childQuery{
	{part: PartWindows, table: "window_stats", cols: "series_id, window_name, samples, min, max, mean, stddev", order: "series_id, ordinal",
		scan: func(rows *sql.Rows, byID map[string]*slapipev1.SeriesAnalysis) error {
			var (
				id                   string
				w                    slapipev1.WindowStats
				mn, mx, mean, stddev nullFloat
			)
			if err := rows.Scan(&id, &w.Window, &w.Samples, &mn, &mx, &mean, &stddev); err != nil {
				return err
			}
			w.Min, w.Max, w.Mean, w.Stddev = float64(mn), float64(mx), float64(mean), float64(stddev)
			m := byID[id]
			m.Windows = append(m.Windows, &w)
			return nil
		}},
	{part: PartADF, table: "stationarity", cols: "series_id, statistic, pvalue, used_lag, nobs, critical_1, critical_5, critical_10, ic_best, stationary",
		scan: func(rows *sql.Rows, byID map[string]*slapipev1.SeriesAnalysis) error {
			var (
				id                        string
				a                         slapipev1.ADF
				stat, p, c1, c5, c10, icb nullFloat
			)
			if err := rows.Scan(&id, &stat, &p, &a.UsedLag, &a.Nobs, &c1, &c5, &c10, &icb, &a.Stationary); err != nil {
				return err
			}
			a.Statistic, a.Pvalue, a.IcBest = float64(stat), float64(p), float64(icb)
			a.Critical_1, a.Critical_5, a.Critical_10 = float64(c1), float64(c5), float64(c10)
			byID[id].Adf = &a
			return nil
		}},
	{part: PartACF, table: "autocorrelation", cols: "series_id, acf",
		scan: func(rows *sql.Rows, byID map[string]*slapipev1.SeriesAnalysis) error {
			var (
				id  string
				acf sql.RawBytes
			)
			if err := rows.Scan(&id, &acf); err != nil {
				return err
			}
			v, err := parseFloatsJSON(acf)
			if err != nil {
				return fmt.Errorf("series %s acf: %w", id, err)
			}
			byID[id].Acf = v
			return nil
		}},
	{part: PartSeasonality, table: "seasonality", cols: "series_id, period, detected, strength, seasonal_indices",
		scan: func(rows *sql.Rows, byID map[string]*slapipev1.SeriesAnalysis) error {
			var (
				id       string
				se       slapipev1.Seasonality
				strength nullFloat
				idx      sql.RawBytes
			)
			if err := rows.Scan(&id, &se.Period, &se.Detected, &strength, &idx); err != nil {
				return err
			}
			v, err := parseFloatsBin(idx)
			if err != nil {
				return fmt.Errorf("series %s seasonal indices: %w", id, err)
			}
			se.Strength, se.Seasonal = float64(strength), v
			byID[id].Seasonality = &se
			return nil
		}},
	{part: PartSeasonality, table: "season_checks", cols: "series_id, period, candidate, cycles, z, agreement, strength, reason",
		scan: func(rows *sql.Rows, byID map[string]*slapipev1.SeriesAnalysis) error {
			var (
				id                 string
				c                  slapipev1.SeasonCheck
				z, agree, strength nullFloat
			)
			if err := rows.Scan(&id, &c.Period, &c.Candidate, &c.Cycles, &z, &agree, &strength, &c.Reason); err != nil {
				return err
			}
			c.Z, c.Agreement, c.Strength = float64(z), float64(agree), float64(strength)
			byID[id].SeasonCheck = &c
			return nil
		}},
	{part: PartForecast, table: "forecasts", cols: "series_id, model, horizon, sigma, aicc, params, predicted_min, predicted_max, predicted_mean, history, points, interval_method, non_negative",
		scan: func(rows *sql.Rows, byID map[string]*slapipev1.SeriesAnalysis) error {
			var (
				id                           string
				f                            slapipev1.Forecast
				sigma, aicc, pmin, pmax, pmn nullFloat
				params, hist, pts            sql.RawBytes
			)
			if err := rows.Scan(&id, &f.Model, &f.Horizon, &sigma, &aicc, &params, &pmin, &pmax, &pmn, &hist, &pts, &f.Interval, &f.NonNegative); err != nil {
				return err
			}
			var err error
			if f.Params, err = parseParamsJSON(params); err != nil {
				return fmt.Errorf("series %s: %w", id, err)
			}
			if f.History, err = parseFloatsBin(hist); err != nil {
				return fmt.Errorf("series %s forecast history: %w", id, err)
			}
			if f.Points, err = parsePointsJSON(pts); err != nil {
				return fmt.Errorf("series %s forecast points: %w", id, err)
			}
			f.Sigma, f.Aicc = float64(sigma), float64(aicc)
			f.PredictedMin, f.PredictedMax, f.PredictedMean = float64(pmin), float64(pmax), float64(pmn)
			byID[id].Forecast = &f
			return nil
		}},
}

// loadChildren fills the fields of msgs (all of run) that the child tables
// of parts hold (0: all of them).
func (s *Store) loadChildren(ctx context.Context, run string, msgs []*slapipev1.SeriesAnalysis, parts Parts) error {
	byID := make(map[string]*slapipev1.SeriesAnalysis, len(msgs))
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		byID[m.SeriesId] = m
		ids = append(ids, m.SeriesId)
	}
	for start := 0; start < len(ids); start += inChunk {
		chunk := ids[start:min(start+inChunk, len(ids))]
		args := keyArgs(run, chunk)
		for _, cq := range childQueries {
			if parts != 0 && parts&cq.part == 0 {
				continue
			}
			q := "SELECT " + cq.cols + " FROM " + cq.table + " WHERE run_id = ? AND series_id IN (" +
				placeholders(len(chunk)) + ")"
			if cq.order != "" {
				q += " ORDER BY " + cq.order
			}
			if err := s.scanChild(ctx, q, args, cq, byID); err != nil {
				return fmt.Errorf("reading %s of run %q: %w", cq.table, run, err)
			}
		}
	}
	return nil
}

func (s *Store) scanChild(ctx context.Context, q string, args []any, cq childQuery, byID map[string]*slapipev1.SeriesAnalysis) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		if err := cq.scan(rows, byID); err != nil {
			return err
		}
	}
	return rows.Err()
}
