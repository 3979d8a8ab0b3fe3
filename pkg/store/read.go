package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// LatestRunID returns the latest complete run: the newest run whose summary
// arrived with status "succeeded" and all of whose series_count analyses are
// stored, so a run still being written, or one that failed, never hides the
// last good one. Until any run is complete (the very first run, or summaries
// lost), it falls back to the newest run that has stored analyses, ordered by
// started_at, or by the newest computed_at while the summary is missing.
// ErrNotFound when no analysis is stored.
func (s *Store) LatestRunID(ctx context.Context) (string, error) {
	return s.latestRun(ctx, "", nil)
}

// latestRun is LatestRunID among the runs that also satisfy cond, an SQL
// condition on the run r with placeholders for args ("" = any run).
func (s *Store) latestRun(ctx context.Context, cond string, args []any) (string, error) {
	if cond != "" {
		cond = " AND " + cond
	}
	var run string
	err := s.db.QueryRowContext(ctx,
		"SELECT r.run_id FROM runs r WHERE r.has_analyses = TRUE AND r.reported = TRUE AND r.status = ? "+
			"AND (SELECT COUNT(*) FROM analyses a WHERE a.run_id = r.run_id) >= r.series_count"+cond+
			" ORDER BY r.sort_at DESC, r.run_id DESC LIMIT 1", append([]any{runSucceeded}, args...)...).Scan(&run)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.db.QueryRowContext(ctx,
			"SELECT r.run_id FROM runs r WHERE r.has_analyses = TRUE"+cond+
				" ORDER BY r.sort_at DESC, r.run_id DESC LIMIT 1", args...).Scan(&run)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("latest run: no stored analyses: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("finding the latest run: %w", err)
	}
	return run, nil
}

// latestRunOf is the latest complete run (as LatestRunID) among those that
// analysed the metric or the series q names: a run limited to other
// selectors (`etl run --selector ...`) does not hide a metric's last
// analysis. ErrNotFound when no stored run has it.
func (s *Store) latestRunOf(ctx context.Context, q Query) (string, error) {
	cond := "EXISTS (SELECT 1 FROM analyses a JOIN series s ON s.series_id = a.series_id WHERE a.run_id = r.run_id"
	var args []any
	if q.Metric != "" {
		cond += " AND s.metric = ?"
		args = append(args, q.Metric)
	}
	if q.SeriesID != "" {
		cond += " AND a.series_id = ?"
		args = append(args, q.SeriesID)
	}
	run, err := s.latestRun(ctx, cond+")", args)
	if errors.Is(err, ErrNotFound) {
		what := fmt.Sprintf("metric %q", q.Metric)
		if q.SeriesID != "" {
			what = fmt.Sprintf("series %q", q.SeriesID)
		}
		return "", fmt.Errorf("%s: in no stored run: %w", what, ErrNotFound)
	}
	return run, err
}

// runSucceeded is the status of a run that published every series.
const runSucceeded = "succeeded"

// resolveRun returns run, or the latest run when run is "". A given run
// that has no analyses is ErrNotFound.
func (s *Store) resolveRun(ctx context.Context, run string) (string, error) {
	if run == "" {
		return s.LatestRunID(ctx)
	}
	var one int
	err := s.db.QueryRowContext(ctx, "SELECT 1 FROM analyses WHERE run_id = ? LIMIT 1", run).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("run %q: %w", run, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("looking up run %q: %w", run, err)
	}
	return run, nil
}

// ListRuns returns the reported runs (those whose summary UpsertRun stored),
// newest first; limit <= 0 means 20, and at most 1000 are returned.
func (s *Store) ListRuns(ctx context.Context, limit int) ([]*slapipev1.Run, error) {
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 1000)
	rows, err := s.db.QueryContext(ctx,
		"SELECT run_id, started_at, finished_at, status, series_count, pull_seconds, analyse_seconds, "+
			"publish_seconds, total_seconds, error_message, triggered_by FROM runs WHERE reported = TRUE "+
			"ORDER BY sort_at DESC, run_id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*slapipev1.Run
	for rows.Next() {
		var (
			r                  slapipev1.Run
			started, finished  nullTime
			pull, an, pub, tot nullFloat
			errMsg             sql.NullString
		)
		if err := rows.Scan(&r.RunId, &started, &finished, &r.Status, &r.Series, &pull, &an, &pub, &tot,
			&errMsg, &r.Trigger); err != nil {
			return nil, fmt.Errorf("listing runs: %w", err)
		}
		r.StartedAt, r.FinishedAt = started.TS(), finished.TS()
		r.PullSeconds, r.AnalyseSeconds = float64(pull), float64(an)
		r.PublishSeconds, r.TotalSeconds = float64(pub), float64(tot)
		r.Error = errMsg.String
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	return out, nil
}

// Analyses returns the analyses of q rebuilt from the tables, ordered by
// metric then series id; with neither Metric nor SeriesID it returns the
// whole run. Without RunID it reads the latest complete run that has the
// metric or series (see LatestRunID), so a narrower newer run does not hide
// it. They equal (proto.Equal) what WriteAnalyses stored, times
// truncated to the millisecond, restricted to q.Parts when it is not 0.
// ErrNotFound for an unknown run, or a metric or series the run does not
// have.
func (s *Store) Analyses(ctx context.Context, q Query) (string, []*slapipev1.SeriesAnalysis, error) {
	var run string
	var err error
	if q.RunID == "" && (q.Metric != "" || q.SeriesID != "") {
		run, err = s.latestRunOf(ctx, q)
	} else {
		run, err = s.resolveRun(ctx, q.RunID)
	}
	if err != nil {
		return "", nil, err
	}
	query := "SELECT a.series_id, s.metric, s.labels, a.metric_type, a.transform, a.computed_at, a.range_start, " +
		"a.range_end, a.step_seconds, a.samples, a.gaps FROM analyses a JOIN series s ON s.series_id = a.series_id " +
		"WHERE a.run_id = ?"
	args := []any{run}
	if q.Metric != "" {
		query += " AND s.metric = ?"
		args = append(args, q.Metric)
	}
	if q.SeriesID != "" {
		query += " AND a.series_id = ?"
		args = append(args, q.SeriesID)
	}
	query += " ORDER BY s.metric, a.series_id"
	msgs, err := s.scanAnalyses(ctx, run, query, args)
	if err != nil {
		return "", nil, err
	}
	if len(msgs) == 0 {
		switch {
		case q.SeriesID != "" && q.Metric != "":
			return "", nil, fmt.Errorf("series %q of metric %q in run %q: %w", q.SeriesID, q.Metric, run, ErrNotFound)
		case q.SeriesID != "":
			return "", nil, fmt.Errorf("series %q in run %q: %w", q.SeriesID, run, ErrNotFound)
		default:
			return "", nil, fmt.Errorf("metric %q in run %q: %w", q.Metric, run, ErrNotFound)
		}
	}
	if err := s.loadChildren(ctx, run, msgs, q.Parts); err != nil {
		return "", nil, err
	}
	return run, msgs, nil
}

func (s *Store) scanAnalyses(ctx context.Context, run, query string, args []any) ([]*slapipev1.SeriesAnalysis, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading analyses of run %q: %w", run, err)
	}
	defer func() { _ = rows.Close() }()
	var out []*slapipev1.SeriesAnalysis
	for rows.Next() {
		var (
			m                      = &slapipev1.SeriesAnalysis{RunId: run}
			labels                 sql.RawBytes
			computed, rstart, rend nullTime
			step                   nullFloat
		)
		if err := rows.Scan(&m.SeriesId, &m.Metric, &labels, &m.MetricType, &m.Transform, &computed, &rstart,
			&rend, &step, &m.Samples, &m.Gaps); err != nil {
			return nil, fmt.Errorf("reading analyses of run %q: %w", run, err)
		}
		if m.Labels, err = parseLabelsJSON(labels); err != nil {
			return nil, fmt.Errorf("series %s: %w", m.SeriesId, err)
		}
		m.ComputedAt, m.RangeStart, m.RangeEnd = computed.TS(), rstart.TS(), rend.TS()
		m.StepSeconds = float64(step)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading analyses of run %q: %w", run, err)
	}
	return out, nil
}
