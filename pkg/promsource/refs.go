package promsource

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// LookbackDelta is how far back Prometheus looks for the sample a grid point
// takes (its --query.lookback-delta default). Series listing and remote read
// reach this far before the grid so that they see what query_range sees.
const LookbackDelta = 5 * time.Minute

// SeriesRef names one series to pull: what a distributed run's coordinator
// lists and hands to a worker.
type SeriesRef struct {
	// ID is SeriesID(Metric, Labels).
	ID     string
	Metric string
	// Labels are the series' labels without __name__.
	Labels map[string]string
	// Type is the metric type and Rate whether values become per-second
	// rates (see Classify).
	Type string
	Rate bool
}

// List returns every series the queries (from Plan) select between start
// and end, once each, sorted by ID, through the series API: what Fetch of
// the same queries would return, without the samples. Series of a query
// inherit its type and transform. Listing stops at the first query that
// takes the count over limit: more than limit refs say the selectors
// match too many.
func (s *Source) List(ctx context.Context, queries []Query, start, end time.Time, step time.Duration, limit int) ([]SeriesRef, error) {
	g, err := newGrid(start, end, step)
	if err != nil {
		return nil, err
	}
	from := g.lead().Add(-LookbackDelta)
	var out []SeriesRef
	for _, q := range queries {
		sets, err := s.series(ctx, q.Selector, from, g.end())
		if err != nil {
			return nil, err
		}
		for _, ls := range sets {
			lbls := make(map[string]string, len(ls))
			for k, v := range ls {
				if k != model.MetricNameLabel {
					lbls[string(k)] = string(v)
				}
			}
			metric := string(ls[model.MetricNameLabel])
			if metric == "" {
				metric = q.Metric
			}
			out = append(out, SeriesRef{ID: SeriesID(metric, lbls), Metric: metric, Labels: lbls, Type: q.Type, Rate: q.Rate})
		}
		if len(out) > limit {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b SeriesRef) int { return cmp.Compare(a.ID, b.ID) })
	return slices.CompactFunc(out, func(a, b SeriesRef) bool { return a.ID == b.ID }), nil
}

func (s *Source) series(ctx context.Context, selector string, start, end time.Time) ([]model.LabelSet, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	sets, warns, _, err := s.api.Series(ctx, []string{selector}, start, end)
	if err != nil {
		return nil, fmt.Errorf("listing series of %s: %w", selector, err)
	}
	s.warn(selector, warns)
	return sets, nil
}

// exactMatchers select the series of ref: its name and every label equal.
// A series with further labels matches them too; callers keep only the
// series whose ID is ref's.
func exactMatchers(ref SeriesRef) []*labels.Matcher {
	ms := make([]*labels.Matcher, 0, len(ref.Labels)+1)
	ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, ref.Metric))
	names := make([]string, 0, len(ref.Labels))
	for k := range ref.Labels {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, k, ref.Labels[k]))
	}
	return ms
}
