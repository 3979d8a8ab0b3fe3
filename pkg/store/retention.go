package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Pruned counts the rows one retention pass deleted, by table. Child rows
// of analyses (window_stats, stationarity, autocorrelation, seasonality,
// forecasts, season_checks) go with them by ON DELETE CASCADE and are not
// counted apart.
type Pruned map[string]int64

// Prune deletes what is older than the retention and the SLA set versions
// beyond the newest keepVersions (0 keeps them all) in short transactions,
// so that the writers, whose rows are newer, never wait for more than one
// small batch: batch runs (each with its analyses' rows), batch versions,
// or the history rows of batch answers (one evaluation's answer is a row
// per objective, series and window) at a time:
//   - runs whose time (start, or analyses' time) is before cutoff, with
//     their analyses and child rows, except the latest complete run, which
//     readers and dashboards show whatever its age;
//   - the violations and predictions history computed before cutoff;
//   - the SLA set versions below the newest keepVersions.
//
// Between batches Prune leaves the database to the writers for pause, and
// for at least pruneYield times as long as the batch took, so that deletes
// hold a tenth of the time at most however loaded the database is. Prune stops
// at the first error or when ctx is done, returning what it deleted so far.
func (s *Store) Prune(ctx context.Context, cutoff time.Time, keepVersions, batch int, pause time.Duration) (Pruned, error) {
	if batch < 1 {
		return nil, fmt.Errorf("retention batch %d: %w: must be positive", batch, ErrInvalidArgument)
	}
	out := Pruned{}
	latest, err := s.LatestRunID(ctx)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return out, err
	}
	at := timeArg(s.dialect, cutoff)
	for {
		var runs []string
		err := columnOf(ctx, s.db, &runs, "SELECT run_id FROM runs WHERE sort_at < ? AND run_id <> ? ORDER BY sort_at, run_id LIMIT ?",
			at, latest, batch)
		if err != nil {
			return out, err
		}
		if len(runs) == 0 {
			break
		}
		for _, run := range runs {
			if err := s.pruneRun(ctx, run, batch, pause, out); err != nil {
				return out, err
			}
		}
	}
	return out, s.pruneHistory(ctx, at, keepVersions, batch, pause, out)
}

// pruneHistory deletes the violations and predictions computed before at
// and the SLA set versions beyond the newest keepVersions.
func (s *Store) pruneHistory(ctx context.Context, at any, keepVersions, batch int, pause time.Duration, out Pruned) error {
	for _, table := range []string{"sla_violations", "sla_predictions"} {
		// computed_at leads both primary keys: one computed_at at a time
		// is an index range, and its rows are one answer (at most a few
		// thousand).
		for {
			var times []any
			var ts []nullTime
			if err := columnOf(ctx, s.db, &ts, "SELECT DISTINCT computed_at FROM "+table+" WHERE computed_at < ? ORDER BY computed_at LIMIT ?", at, batch); err != nil {
				return err
			}
			if len(ts) == 0 {
				break
			}
			for _, t := range ts {
				times = append(times, timeArg(s.dialect, t.T))
			}
			n, err := s.deleteIn(ctx, "DELETE FROM "+table+" WHERE computed_at IN ("+placeholders(len(times))+")", times, pause)
			out[table] += n
			if err != nil {
				return err
			}
		}
	}
	if keepVersions <= 0 {
		return nil
	}
	for {
		var versions []int64
		// Every version below the keepVersions-th newest.
		err := columnOf(ctx, s.db, &versions, "SELECT version FROM sla_sets WHERE version <= "+
			"(SELECT COALESCE(MAX(version), 0) FROM sla_sets) - ? ORDER BY version LIMIT ?", keepVersions, batch)
		if err != nil || len(versions) == 0 {
			return err
		}
		args := make([]any, len(versions))
		for i, v := range versions {
			args[i] = v
		}
		n, err := s.deleteIn(ctx, "DELETE FROM sla_sets WHERE version IN ("+placeholders(len(args))+")", args, pause)
		out["sla_sets"] += n
		if err != nil {
			return err
		}
	}
}

// pruneRun deletes run's analyses batch at a time (their child rows
// cascade), then the run.
func (s *Store) pruneRun(ctx context.Context, run string, batch int, pause time.Duration, out Pruned) error {
	for {
		var ids []string
		if err := columnOf(ctx, s.db, &ids, "SELECT series_id FROM analyses WHERE run_id = ? ORDER BY series_id LIMIT ?", run, batch); err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		n, err := s.deleteIn(ctx, "DELETE FROM analyses WHERE run_id = ? AND series_id IN ("+placeholders(len(ids))+")", keyArgs(run, ids), pause)
		out["analyses"] += n
		if err != nil {
			return err
		}
	}
	n, err := s.deleteIn(ctx, "DELETE FROM runs WHERE run_id = ?", []any{run}, 0)
	out["runs"] += n
	return err
}

// pruneYield is how many times a delete batch's duration Prune then
// sleeps. On a loaded two-core MariaDB, deleting with 3 halved the
// writers' rate (InnoDB's purge of the cascaded rows runs behind the
// deletes); with 10 they kept their rate (retention.BenchmarkPruneWhileWriting).
const pruneYield = 10

// deleteIn runs one DELETE in its own short transaction (READ COMMITTED on
// MySQL: no gap locks that would hold up the writers' inserts), then yields
// for pause or pruneYield times the DELETE's duration, the longer.
func (s *Store) deleteIn(ctx context.Context, q string, args []any, pause time.Duration) (int64, error) {
	var n int64
	start := time.Now()
	defer func() { sleep(ctx, max(pause, pruneYield*time.Since(start))) }()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	return n, nil
}

// columnOf scans the first column of q's rows into *dst.
func columnOf[T any](ctx context.Context, db *sql.DB, dst *[]T, q string, args ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		*dst = append(*dst, v)
	}
	return rows.Err()
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
