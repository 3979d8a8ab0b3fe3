package store

import (
	"context"
	"fmt"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// AnalysesPage is Analyses a page at a time, for the series of one metric
// (q.Metric set; q.SeriesID selects one series and needs no page): at most
// p.Size analyses (0 means 100, at most 1000) in series id order, and the
// token of the next page ("" on the last). The first page picks the run as
// Analyses does; later pages stay on it. A token of another list, metric
// or run is ErrInvalidArgument.
func (s *Store) AnalysesPage(ctx context.Context, q Query, p Page) (run string, msgs []*slapipev1.SeriesAnalysis, next string, err error) {
	if q.Metric == "" || q.SeriesID != "" {
		run, msgs, err = s.Analyses(ctx, q)
		return run, msgs, "", err
	}
	size, err := pageSize(p)
	if err != nil {
		return "", nil, "", err
	}
	tok, err := decodeToken(p.Token, "analyses")
	if err != nil {
		return "", nil, "", err
	}
	switch {
	case tok == nil && q.RunID == "":
		run, err = s.latestRunOf(ctx, q)
	case tok != nil && tok.Metric != q.Metric:
		return "", nil, "", fmt.Errorf("page token is for metric %q, not %q: %w", tok.Metric, q.Metric, ErrInvalidArgument)
	default:
		run, err = s.pageRun(ctx, q.RunID, tok)
	}
	if err != nil {
		return "", nil, "", err
	}
	query := "SELECT a.series_id, s.metric, s.labels, a.metric_type, a.transform, a.computed_at, a.range_start, " +
		"a.range_end, a.step_seconds, a.samples, a.gaps FROM analyses a JOIN series s ON s.series_id = a.series_id " +
		"WHERE a.run_id = ? AND s.metric = ?"
	args := []any{run, q.Metric}
	if tok != nil {
		query += " AND a.series_id > ?"
		args = append(args, tok.Series)
	}
	query += " ORDER BY a.series_id LIMIT ?"
	args = append(args, size+1)
	if msgs, err = s.scanAnalyses(ctx, run, query, args); err != nil {
		return "", nil, "", err
	}
	if len(msgs) == 0 && tok == nil {
		return "", nil, "", fmt.Errorf("metric %q in run %q: %w", q.Metric, run, ErrNotFound)
	}
	if len(msgs) > size {
		msgs = msgs[:size]
		next = pageToken{Kind: "analyses", Run: run, Metric: q.Metric, Series: msgs[size-1].SeriesId}.encode()
	}
	if err := s.loadChildren(ctx, run, msgs, q.Parts); err != nil {
		return "", nil, "", err
	}
	return run, msgs, next, nil
}
