package promsource

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
)

// Read methods: how FetchSeries pulls samples.
const (
	// ReadAuto uses remote read while the server serves it and falls back
	// to query_range for good at its first refusal.
	ReadAuto = "auto"
	// ReadRemote uses Prometheus' remote-read API only (protobuf, streamed
	// XOR chunks, one request for all the series of a call).
	ReadRemote = "remote-read"
	// ReadQueryRange uses the JSON query_range API only, one query per
	// series: what Thanos Query, Mimir and VictoriaMetrics serve.
	ReadQueryRange = "query-range"
)

// ValidRead reports whether m names a read method.
func ValidRead(m string) bool { return m == ReadAuto || m == ReadRemote || m == ReadQueryRange }

// FetchSeries pulls refs from start to end at step onto the grid (see the
// package comment) and returns the series Prometheus has values for, in no
// particular order; a series with no value in the range is left out, as
// query_range leaves it out. Remote read and query_range give the same
// values. parallelism bounds concurrent query_range calls.
func (s *Source) FetchSeries(ctx context.Context, refs []SeriesRef, start, end time.Time, step time.Duration, parallelism int) ([]Series, error) {
	g, err := newGrid(start, end, step)
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return nil, nil
	}
	if s.read != ReadQueryRange && !s.noRemote.Load() {
		out, err := s.readRemote(ctx, refs, g)
		switch {
		case err == nil:
			return out, nil
		case !errors.Is(err, errNoRemoteRead) || s.read == ReadRemote:
			return nil, err
		}
		s.noRemote.Store(true)
		s.logger.Info("prometheus serves no remote read, pulling through query_range", "err", err)
	}
	return s.fetchEach(ctx, refs, start, end, step, parallelism)
}

// fetchEach runs one query_range of exact matchers per series.
func (s *Source) fetchEach(ctx context.Context, refs []SeriesRef, start, end time.Time, step time.Duration, parallelism int) ([]Series, error) {
	results := make([]*Series, len(refs))
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(max(parallelism, 1))
	for i, ref := range refs {
		eg.Go(func() error {
			q := Query{Metric: ref.Metric, Selector: querySelector(ref.Metric, exactMatchers(ref)[1:]), Type: ref.Type, Rate: ref.Rate}
			ss, err := s.Fetch(ectx, q, start, end, step)
			if err != nil {
				return err
			}
			for j := range ss {
				if ss[j].ID == ref.ID {
					results[i] = &ss[j]
				}
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, fmt.Errorf("pulling %d series: %w", len(refs), err)
	}
	out := make([]Series, 0, len(refs))
	for _, r := range results {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out, nil
}
