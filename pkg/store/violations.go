package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

var violationsTable = &tableSpec{
	name: "violation_snapshots",
	cols: []string{"name", "computed_at", "saved_at", "snapshot"},
	key:  []string{"name"},
}

var violationRowsTable = &tableSpec{
	name: "sla_violations",
	cols: []string{"computed_at", "window_name", "objective", "series_id", "metric", "labels", "samples", "samples_out",
		"episodes", "seconds_out", "compliance", "worst", "worst_at", "first_violation", "last_violation"},
	key: []string{"computed_at", "window_name", "objective", "series_id"},
}

var predictionRowsTable = &tableSpec{
	name: "sla_predictions",
	cols: []string{"computed_at", "objective", "series_id", "metric", "labels", "probability", "predicted_min",
		"predicted_max", "predicted_mean", "first_crossing", "model", "run_id", "horizon_seconds"},
	key: []string{"computed_at", "objective", "series_id"},
}

// SaveViolations replaces the stored violation snapshot with v, kept as
// protobuf JSON (exact, nanoseconds included) for degraded mode, and, when v
// has computed_at at least HistoryInterval after the newest answer kept,
// records its rows in sla_violations (one per window, objective and series;
// saving the same answer again changes nothing). A row without series_id is
// keyed by a hash of its metric and labels.
func (s *Store) SaveViolations(ctx context.Context, v *slapipev1.GetViolationsResponse) error {
	if v == nil {
		return fmt.Errorf("violations: %w: nil message", ErrInvalidArgument)
	}
	if err := slapipev1.CheckTimestamp("computed_at", v.ComputedAt); err != nil {
		return err
	}
	body, err := jsonOpts.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding violations: %w", err)
	}
	d := s.dialect
	snap := newRowSet(violationsTable, 1)
	snap.add(len(body)+64, "latest", tsArg(d, v.ComputedAt), timeArg(d, time.Now()), string(body))
	rows := newRowSet(violationRowsTable, 0)
	if v.ComputedAt != nil {
		for wi, w := range v.Windows {
			for ri, r := range w.GetRows() {
				if err := s.addViolationRow(rows, v, w, r); err != nil {
					return fmt.Errorf("windows[%d].rows[%d]: %w", wi, ri, err)
				}
			}
		}
	}
	if err := s.prepare(ctx, snap, rows); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.execRows(ctx, tx, snap); err != nil {
			return err
		}
		if rows.rows() == 0 {
			return nil
		}
		due, err := historyDue(ctx, tx, v.ComputedAt.AsTime())
		if err != nil || !due {
			return err
		}
		return s.execRows(ctx, tx, rows)
	})
}

// HistoryInterval is the least time between two violations answers kept in
// sla_violations: the SLA manager may answer every step (5 s), while a
// compliance chart over hours or days needs no more than a point a minute.
const HistoryInterval = time.Minute

// historyDue reports whether an answer computed at t is to be kept in
// sla_violations: none is kept yet, or the newest kept is at least
// HistoryInterval older. The newest is read in the saving transaction, so
// the interval holds across restarts and SLA manager replicas (two replicas
// racing may both keep an answer; the chart only gets a point more).
func historyDue(ctx context.Context, tx *sql.Tx, t time.Time) (bool, error) {
	var newest nullTime
	if err := tx.QueryRowContext(ctx, "SELECT MAX(computed_at) FROM sla_violations").Scan(&newest); err != nil {
		return false, fmt.Errorf("reading the newest kept violations answer: %w", err)
	}
	return !newest.Valid || !t.Truncate(time.Millisecond).Before(newest.T.Add(HistoryInterval)), nil
}

func (s *Store) addViolationRow(rows *rowSet, v *slapipev1.GetViolationsResponse, w *slapipev1.WindowViolations, r *slapipev1.Violation) error {
	if r == nil {
		return fmt.Errorf("%w: nil row", ErrInvalidArgument)
	}
	window := r.Window
	if window == "" {
		window = w.Window
	}
	id, labels, err := rowIdentity(r.SeriesId, r.Metric, r.Labels)
	if err != nil {
		return err
	}
	if err := checkRowKeys(window, r.Objective, r.Metric); err != nil {
		return err
	}
	if err := slapipev1.CheckTimestamp("worst_at", r.WorstAt); err != nil {
		return err
	}
	if err := slapipev1.CheckTimestamp("first_violation", r.FirstViolation); err != nil {
		return err
	}
	if err := slapipev1.CheckTimestamp("last_violation", r.LastViolation); err != nil {
		return err
	}
	d := s.dialect
	rows.add(256+len(labels), tsArg(d, v.ComputedAt), window, r.Objective, id, r.Metric, labels, r.Samples, r.SamplesOut,
		r.Episodes, floatArg(r.SecondsOut), floatArg(r.Compliance), floatArg(r.Worst), tsArg(d, r.WorstAt),
		tsArg(d, r.FirstViolation), tsArg(d, r.LastViolation))
	return nil
}

// rowIdentity returns the series key of a violation or prediction row (its
// series_id, or a hash of metric and labels) and its labels as JSON.
func rowIdentity(seriesID, metric string, labels map[string]string) (string, string, error) {
	lj, err := labelsJSON(labels)
	if err != nil {
		return "", "", err
	}
	if seriesID == "" {
		sum := sha256.Sum256([]byte(metric + "\x00" + lj))
		return hex.EncodeToString(sum[:16]), lj, nil
	}
	if err := slapipev1.CheckKey("series_id", seriesID, slapipev1.MaxIDLen); err != nil {
		return "", "", err
	}
	return seriesID, lj, nil
}

// checkRowKeys validates the key strings of violation and prediction rows.
func checkRowKeys(window, objective, metric string) error {
	if err := slapipev1.CheckWindow(window); err != nil {
		return err
	}
	if err := slapipev1.CheckKey("objective", objective, slapipev1.MaxMetricLen); err != nil {
		return err
	}
	return slapipev1.CheckText("metric", metric, slapipev1.MaxMetricLen)
}

// LatestViolations returns the snapshot SaveViolations kept last, or
// ErrNotFound.
func (s *Store) LatestViolations(ctx context.Context) (*slapipev1.GetViolationsResponse, error) {
	var body []byte
	err := s.db.QueryRowContext(ctx, "SELECT snapshot FROM violation_snapshots WHERE name = ?", "latest").Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("violation snapshot: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading violation snapshot: %w", err)
	}
	var v slapipev1.GetViolationsResponse
	if err := protojson.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("decoding violation snapshot: %w", err)
	}
	return &v, nil
}

// SavePredictions records p's rows in sla_predictions (one per objective and
// series, keyed by p.computed_at, which is required); saving the same answer
// again changes nothing. A row without series_id is keyed by a hash of its
// metric and labels.
func (s *Store) SavePredictions(ctx context.Context, p *slapipev1.GetPredictionsResponse) error {
	if p == nil || p.ComputedAt == nil {
		return fmt.Errorf("predictions: %w: nil message or computed_at", ErrInvalidArgument)
	}
	if err := slapipev1.CheckTimestamp("computed_at", p.ComputedAt); err != nil {
		return err
	}
	if err := slapipev1.CheckText("run_id", p.RunId, slapipev1.MaxIDLen); err != nil {
		return err
	}
	d := s.dialect
	rows := newRowSet(predictionRowsTable, len(p.Predictions))
	for i, r := range p.Predictions {
		if r == nil {
			return fmt.Errorf("predictions[%d]: %w: nil", i, ErrInvalidArgument)
		}
		id, labels, err := rowIdentity(r.SeriesId, r.Metric, r.Labels)
		if err == nil {
			err = checkRowKeys("", r.Objective, r.Metric)
		}
		if err == nil {
			err = slapipev1.CheckText("model", r.Model, slapipev1.MaxModelLen)
		}
		if err == nil {
			err = slapipev1.CheckTimestamp("first_crossing", r.FirstCrossing)
		}
		if err != nil {
			return fmt.Errorf("predictions[%d]: %w", i, err)
		}
		rows.add(256+len(labels), tsArg(d, p.ComputedAt), r.Objective, id, r.Metric, labels, floatArg(r.Probability),
			floatArg(r.Min), floatArg(r.Max), floatArg(r.Mean), tsArg(d, r.FirstCrossing), r.Model, p.RunId,
			floatArg(p.HorizonSeconds))
	}
	if err := s.prepare(ctx, rows); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.execRows(ctx, tx, rows) })
}
