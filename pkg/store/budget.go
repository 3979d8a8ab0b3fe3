package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

var outOfRangeTable = &tableSpec{
	name: "sla_out_of_range_minutes",
	cols: []string{"objective", "series_id", "minute", "seconds_out"},
	key:  []string{"objective", "series_id", "minute"},
}

// OutOfRangeMinute is the time one series of one objective spent outside
// the objective's bounds within one minute.
type OutOfRangeMinute struct {
	SeriesID string
	// Minute is the minute's start, a whole UTC minute.
	Minute     time.Time
	SecondsOut float64
}

// ReplaceOutOfRange makes minutes the whole record of objective for the
// minutes in [from, to): the rows kept there before, of every series, are
// deleted and minutes (those with time out of range; all must lie in
// [from, to)) are written, in one transaction. Replacing the same range
// again with the same minutes changes nothing.
func (s *Store) ReplaceOutOfRange(ctx context.Context, objective string, from, to time.Time, minutes []OutOfRangeMinute) error {
	if err := slapipev1.CheckKey("objective", objective, slapipev1.MaxMetricLen); err != nil {
		return err
	}
	if !from.Before(to) || from.Before(slapipev1.MinTime) || to.After(slapipev1.MaxTime) {
		return fmt.Errorf("out-of-range minutes of %q: %w: range [%s, %s)", objective, ErrInvalidArgument, from, to)
	}
	d := s.dialect
	rows := newRowSet(outOfRangeTable, len(minutes))
	for i, m := range minutes {
		if err := slapipev1.CheckKey("series_id", m.SeriesID, slapipev1.MaxIDLen); err != nil {
			return fmt.Errorf("minutes[%d]: %w", i, err)
		}
		if !m.Minute.Equal(m.Minute.Truncate(time.Minute)) || m.Minute.Before(from) || !m.Minute.Before(to) {
			return fmt.Errorf("minutes[%d]: %w: %s is not a whole minute in [%s, %s)", i, ErrInvalidArgument, m.Minute, from, to)
		}
		rows.add(128, objective, m.SeriesID, timeArg(d, m.Minute), floatArg(m.SecondsOut))
	}
	if err := s.prepare(ctx, rows); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sla_out_of_range_minutes WHERE objective = ? AND minute >= ? AND minute < ?",
			objective, timeArg(d, from), timeArg(d, to)); err != nil {
			return fmt.Errorf("replacing out-of-range minutes of %q: %w", objective, err)
		}
		if rows.rows() == 0 {
			return nil
		}
		return s.execRows(ctx, tx, rows)
	})
}

// OutOfRangeSums returns, per series of objective, the seconds out of range
// of the minutes in [since[i], until), for each i: sums[series][i]. Series
// without any such minute are absent. It reads the kept minutes only, one
// row per series, whatever the spans.
func (s *Store) OutOfRangeSums(ctx context.Context, objective string, until time.Time, since ...time.Time) (map[string][]float64, error) {
	if len(since) == 0 {
		return nil, fmt.Errorf("out-of-range sums: %w: no span", ErrInvalidArgument)
	}
	d := s.dialect
	earliest := since[0]
	cols := make([]string, len(since))
	args := make([]any, 0, len(since)+3)
	for i, t := range since {
		cols[i] = "SUM(CASE WHEN minute >= ? THEN seconds_out ELSE 0 END)"
		args = append(args, timeArg(d, t))
		if t.Before(earliest) {
			earliest = t
		}
	}
	args = append(args, objective, timeArg(d, earliest), timeArg(d, until))
	q := "SELECT series_id, " + strings.Join(cols, ", ") +
		" FROM sla_out_of_range_minutes WHERE objective = ? AND minute >= ? AND minute < ? GROUP BY series_id"
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("summing out-of-range minutes of %q: %w", objective, err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string][]float64{}
	for rows.Next() {
		var id string
		sums := make([]sql.NullFloat64, len(since))
		dest := []any{&id}
		for i := range sums {
			dest = append(dest, &sums[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("summing out-of-range minutes of %q: %w", objective, err)
		}
		vals := make([]float64, len(sums))
		for i, v := range sums {
			vals[i] = v.Float64
		}
		out[id] = vals
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("summing out-of-range minutes of %q: %w", objective, err)
	}
	return out, nil
}

// PruneOutOfRange deletes the out-of-range minutes before t, of every
// objective, and returns how many it deleted.
func (s *Store) PruneOutOfRange(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM sla_out_of_range_minutes WHERE minute < ?", timeArg(s.dialect, before))
	if err != nil {
		return 0, fmt.Errorf("pruning out-of-range minutes: %w", err)
	}
	return res.RowsAffected()
}
