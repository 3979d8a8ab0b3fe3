package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// jsonOpts writes protobuf JSON with the .proto field names, readable from
// SQL (JSON_EXTRACT(objectives, '$[0].selector')).
var jsonOpts = protojson.MarshalOptions{UseProtoNames: true}

// SLAVersion is one saved version of the SLA set and who saved it.
type SLAVersion struct {
	Set   *slapipev1.SLASet
	Actor string
}

// SaveSLA stores objectives as the next version of the SLA set (1 for the
// first) and returns it with its version and time (millisecond precision).
// Every version is kept; concurrent saves get distinct versions. The store
// does not judge the objectives (the SLA manager validates them).
func (s *Store) SaveSLA(ctx context.Context, objectives []*slapipev1.Objective, actor string) (*slapipev1.SLASet, error) {
	if err := slapipev1.CheckText("actor", actor, slapipev1.MaxActorLen); err != nil {
		return nil, err
	}
	body, err := objectivesJSON(objectives)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var version int64
	// Two savers may pick the same next version; the loser's primary-key
	// conflict is retried with a fresh read.
	for attempt := 0; ; attempt++ {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			var cur sql.NullInt64
			if err := tx.QueryRowContext(ctx, "SELECT MAX(version) FROM sla_sets").Scan(&cur); err != nil {
				return fmt.Errorf("reading SLA version: %w", err)
			}
			version = cur.Int64 + 1
			_, err := tx.ExecContext(ctx, "INSERT INTO sla_sets (version, objectives, actor, updated_at) VALUES (?, ?, ?, ?)",
				version, body, actor, timeArg(s.dialect, now))
			return err
		})
		if err == nil || !isDuplicate(err) || attempt >= 10 {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("saving SLA set: %w", err)
	}
	set := &slapipev1.SLASet{UpdatedAt: timestamppb.New(now), Version: version}
	for _, o := range objectives {
		set.Objectives = append(set.Objectives, proto.Clone(o).(*slapipev1.Objective))
	}
	return set, nil
}

// LoadSLA returns the newest SLA set, or ErrNotFound if none was saved.
func (s *Store) LoadSLA(ctx context.Context) (*slapipev1.SLASet, error) {
	h, err := s.SLAHistory(ctx, 1)
	if err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("SLA set: %w", ErrNotFound)
	}
	return h[0].Set, nil
}

// SLAHistory returns up to limit saved versions (<= 0 means all), newest
// first.
func (s *Store) SLAHistory(ctx context.Context, limit int) ([]SLAVersion, error) {
	q := "SELECT version, objectives, actor, updated_at FROM sla_sets ORDER BY version DESC"
	var args []any
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading SLA sets: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []SLAVersion
	for rows.Next() {
		var (
			v       SLAVersion
			set     slapipev1.SLASet
			body    sql.RawBytes
			updated nullTime
		)
		if err := rows.Scan(&set.Version, &body, &v.Actor, &updated); err != nil {
			return nil, fmt.Errorf("reading SLA sets: %w", err)
		}
		if set.Objectives, err = parseObjectivesJSON(body); err != nil {
			return nil, fmt.Errorf("SLA set version %d: %w", set.Version, err)
		}
		set.UpdatedAt = updated.TS()
		v.Set = &set
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading SLA sets: %w", err)
	}
	return out, nil
}

// objectivesJSON encodes objectives as a JSON array of protobuf JSON
// objects (optional bounds stay absent when unset).
func objectivesJSON(objs []*slapipev1.Objective) (string, error) {
	raw := make([]json.RawMessage, 0, len(objs))
	for i, o := range objs {
		if o == nil {
			return "", fmt.Errorf("objectives[%d]: %w: nil", i, ErrInvalidArgument)
		}
		b, err := jsonOpts.Marshal(o)
		if err != nil {
			return "", fmt.Errorf("objectives[%d]: %w: %w", i, ErrInvalidArgument, err)
		}
		raw = append(raw, b)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return "", fmt.Errorf("encoding objectives: %w", err)
	}
	return string(b), nil
}

func parseObjectivesJSON(b []byte) ([]*slapipev1.Objective, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("decoding objectives: %w", err)
	}
	var out []*slapipev1.Objective
	for i, r := range raw {
		var o slapipev1.Objective
		if err := protojson.Unmarshal(r, &o); err != nil {
			return nil, fmt.Errorf("decoding objectives[%d]: %w", i, err)
		}
		out = append(out, &o)
	}
	return out, nil
}
