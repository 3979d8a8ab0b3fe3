package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// analysisKey identifies one stored analysis.
type analysisKey struct{ run, series string }

// writeSet is a batch turned into table rows, ready for one transaction.
type writeSet struct {
	series, analyses, runMarks *rowSet
	children                   map[*tableSpec]*rowSet
	// seriesByRun lists the batch's series ids per run, sorted.
	seriesByRun map[string][]string
}

// WriteAnalyses stores msgs in one transaction: every table is written with
// multi-row upserts keyed by (run_id, series_id), and the child rows of an
// analysis that was stored before are replaced, so writing the same
// messages again changes nothing and a changed message replaces the old one
// whole. Within a batch the last message for a key wins. A message failing
// (*slapipev1.SeriesAnalysis).Validate fails the whole batch with ErrInvalidArgument before
// anything is written. Deadlocks and lock timeouts are retried.
//
// Times are stored at millisecond precision: finer digits are truncated, so
// messages read back equal what was written only when their times are whole
// milliseconds. Doubles read back exactly, NaN and ±Inf included, except in
// columns and JSON arrays (not the binary arrays) -0 reads back as 0 and a
// true ±MaxFloat64 as ±Inf, the stored form of the infinities.
func (s *Store) WriteAnalyses(ctx context.Context, msgs []*slapipev1.SeriesAnalysis) error {
	if len(msgs) == 0 {
		return nil
	}
	for i, m := range msgs {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("message %d of the batch: %w", i, err)
		}
	}
	ws, err := s.buildWriteSet(dedupe(msgs))
	if err != nil {
		return err
	}
	if err := s.prepare(ctx, ws.all()...); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.writeSet(ctx, tx, ws) })
}

// all lists the batch's row sets.
func (ws *writeSet) all() []*rowSet {
	out := []*rowSet{ws.series, ws.analyses, ws.runMarks}
	for _, t := range childTables {
		out = append(out, ws.children[t])
	}
	return out
}

// dedupe keeps the last message per key, sorted by key so concurrent
// batches lock rows in the same order.
func dedupe(msgs []*slapipev1.SeriesAnalysis) []*slapipev1.SeriesAnalysis {
	last := make(map[analysisKey]int, len(msgs))
	for i, m := range msgs {
		last[analysisKey{m.GetRunId(), m.GetSeriesId()}] = i
	}
	out := make([]*slapipev1.SeriesAnalysis, 0, len(last))
	for i, m := range msgs {
		if last[analysisKey{m.GetRunId(), m.GetSeriesId()}] == i {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetRunId() != out[j].GetRunId() {
			return out[i].GetRunId() < out[j].GetRunId()
		}
		return out[i].GetSeriesId() < out[j].GetSeriesId()
	})
	return out
}

func (s *Store) buildWriteSet(msgs []*slapipev1.SeriesAnalysis) (*writeSet, error) {
	d := s.dialect
	n := len(msgs)
	ws := &writeSet{
		series:      newRowSet(seriesTable, n),
		analyses:    newRowSet(analysesTable, n),
		runMarks:    newRowSet(runMarkTable, 1),
		seriesByRun: map[string][]string{},
		children: map[*tableSpec]*rowSet{
			windowTable:       newRowSet(windowTable, 3*n),
			stationarityTable: newRowSet(stationarityTable, n),
			acfTable:          newRowSet(acfTable, n),
			seasonTable:       newRowSet(seasonTable, n),
			seasonCheckTable:  newRowSet(seasonCheckTable, n),
			forecastTable:     newRowSet(forecastTable, n),
		},
	}
	// seriesRow is the earliest and the latest analysis of a series in the
	// batch: first gives first_seen, last everything else.
	type seriesRow struct {
		first, last *slapipev1.SeriesAnalysis
	}
	seriesRows := map[string]*seriesRow{}
	runLatest := map[string]*slapipev1.SeriesAnalysis{}
	for _, m := range msgs {
		ws.seriesByRun[m.RunId] = append(ws.seriesByRun[m.RunId], m.SeriesId)
		if r := seriesRows[m.SeriesId]; r == nil {
			seriesRows[m.SeriesId] = &seriesRow{first: m, last: m}
		} else {
			if earlier(m, r.first) {
				r.first = m
			}
			if earlier(r.last, m) {
				r.last = m
			}
		}
		if l, ok := runLatest[m.RunId]; !ok || earlier(l, m) {
			runLatest[m.RunId] = m
		}
		if err := s.addAnalysisRows(ws, m); err != nil {
			return nil, err
		}
	}
	ids := make([]string, 0, len(seriesRows))
	for id := range seriesRows {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := seriesRows[id]
		labels, err := labelsJSON(r.last.Labels)
		if err != nil {
			return nil, fmt.Errorf("series %s: %w", id, err)
		}
		ws.series.add(64+len(id)+len(r.last.Metric)+len(labels), id, r.last.Metric, labels, r.last.MetricType, r.last.Transform,
			tsArg(d, r.first.ComputedAt), tsArg(d, r.last.ComputedAt))
	}
	runs := make([]string, 0, len(runLatest))
	for run := range runLatest {
		runs = append(runs, run)
	}
	sort.Strings(runs)
	for _, run := range runs {
		ws.runMarks.add(64+len(run), run, true, tsArg(d, runLatest[run].ComputedAt))
	}
	return ws, nil
}

// earlier orders messages by computed_at, a missing time first.
func earlier(a, b *slapipev1.SeriesAnalysis) bool {
	if a.ComputedAt == nil {
		return b.ComputedAt != nil
	}
	return b.ComputedAt != nil && a.ComputedAt.AsTime().Before(b.ComputedAt.AsTime())
}

func (s *Store) addAnalysisRows(ws *writeSet, m *slapipev1.SeriesAnalysis) error {
	d := s.dialect
	run, id := m.RunId, m.SeriesId
	keyBytes := len(run) + len(id) + 16
	ws.analyses.add(keyBytes+120, run, id, m.MetricType, m.Transform, tsArg(d, m.ComputedAt),
		tsArg(d, m.RangeStart), tsArg(d, m.RangeEnd), floatArg(m.StepSeconds), m.Samples, m.Gaps)
	for i, w := range m.Windows {
		ws.children[windowTable].add(keyBytes+80, run, id, w.Window, i, w.Samples,
			floatArg(w.Min), floatArg(w.Max), floatArg(w.Mean), floatArg(w.Stddev))
	}
	if a := m.Adf; a != nil {
		ws.children[stationarityTable].add(keyBytes+100, run, id, floatArg(a.Statistic), floatArg(a.Pvalue), a.UsedLag, a.Nobs,
			floatArg(a.Critical_1), floatArg(a.Critical_5), floatArg(a.Critical_10), floatArg(a.IcBest), a.Stationary)
	}
	if len(m.Acf) > 0 {
		acf := floatsJSON(m.Acf)
		ws.children[acfTable].add(keyBytes+len(acf), run, id, len(m.Acf)-1, acf)
	}
	if se := m.Seasonality; se != nil {
		idx := floatsBin(se.Seasonal)
		ws.children[seasonTable].add(keyBytes+len(idx)+40, run, id, se.Period, se.Detected, floatArg(se.Strength), idx)
	}
	if c := m.SeasonCheck; c != nil {
		ws.children[seasonCheckTable].add(keyBytes+len(c.Reason)+60, run, id, c.Period, c.Candidate, c.Cycles,
			floatArg(c.Z), floatArg(c.Agreement), floatArg(c.Strength), c.Reason)
	}
	if f := m.Forecast; f != nil {
		params, err := paramsJSON(f.Params)
		if err != nil {
			return fmt.Errorf("run %s series %s: %w", run, id, err)
		}
		hist := floatsBin(f.History)
		pts := pointsJSON(f.Points)
		ws.children[forecastTable].add(keyBytes+len(params)+len(hist)+len(pts)+100, run, id, f.Model, f.Horizon,
			floatArg(f.Sigma), floatArg(f.Aicc), params, floatArg(f.PredictedMin), floatArg(f.PredictedMax),
			floatArg(f.PredictedMean), hist, pts, f.Interval, f.NonNegative)
	}
	return nil
}

func (s *Store) writeSet(ctx context.Context, tx *sql.Tx, ws *writeSet) error {
	if err := s.execRows(ctx, tx, ws.series); err != nil {
		return err
	}
	if err := s.clearStoredChildren(ctx, tx, ws.seriesByRun); err != nil {
		return err
	}
	if err := s.execRows(ctx, tx, ws.analyses); err != nil {
		return err
	}
	for _, t := range childTables {
		if err := s.execRows(ctx, tx, ws.children[t]); err != nil {
			return err
		}
	}
	// Last: every batch of a run updates this one row, so it is held for the
	// shortest time.
	return s.execRows(ctx, tx, ws.runMarks)
}

// clearStoredChildren deletes the child rows of the batch's analyses that
// are already stored, so a rewritten analysis keeps no stale rows (a
// window or a season no longer there).
func (s *Store) clearStoredChildren(ctx context.Context, tx *sql.Tx, seriesByRun map[string][]string) error {
	for run, ids := range seriesByRun {
		for start := 0; start < len(ids); start += inChunk {
			chunk := ids[start:min(start+inChunk, len(ids))]
			stored, err := storedSeries(ctx, tx, run, chunk)
			if err != nil {
				return err
			}
			if len(stored) == 0 {
				continue
			}
			args := keyArgs(run, stored)
			for _, t := range childTables {
				q := "DELETE FROM " + t.name + " WHERE run_id = ? AND series_id IN (" + placeholders(len(stored)) + ")"
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return fmt.Errorf("replacing %s rows: %w", t.name, err)
				}
			}
		}
	}
	return nil
}

// storedSeries returns which of ids already have an analysis in run.
func storedSeries(ctx context.Context, q querier, run string, ids []string) ([]string, error) {
	rows, err := q.QueryContext(ctx,
		"SELECT series_id FROM analyses WHERE run_id = ? AND series_id IN ("+placeholders(len(ids))+")", keyArgs(run, ids)...)
	if err != nil {
		return nil, fmt.Errorf("looking up stored analyses: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("looking up stored analyses: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// querier is satisfied by *sql.DB, *sql.Tx and *sql.Conn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// UpsertRun records the run summary, replacing an earlier one for the same
// run_id. It leaves the run's analyses alone.
func (s *Store) UpsertRun(ctx context.Context, run *slapipev1.Run) error {
	if err := run.Validate(); err != nil {
		return err
	}
	d := s.dialect
	rs := newRowSet(runsTable, 1)
	rs.add(256+len(run.Error), run.RunId, tsArg(d, run.StartedAt), tsArg(d, run.FinishedAt), run.Status, run.Series,
		floatArg(run.PullSeconds), floatArg(run.AnalyseSeconds), floatArg(run.PublishSeconds), floatArg(run.TotalSeconds),
		run.Error, run.Trigger, true)
	if err := s.prepare(ctx, rs); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.execRows(ctx, tx, rs); err != nil {
			return fmt.Errorf("run %s: %w", run.RunId, err)
		}
		return nil
	})
}

// keyArgs returns the args for "run_id = ? AND series_id IN (...)".
func keyArgs(run string, ids []string) []any {
	args := make([]any, 0, len(ids)+1)
	args = append(args, run)
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}
