package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"regexp/syntax"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Page sizes: Page.Size 0 means defaultPageSize; larger than maxPageSize is
// cut to it.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
	maxFilterLen    = 1024
)

// pageToken is what an opaque page token carries: the list it belongs to,
// the run it reads (so later pages stay on the run the first page chose even
// when a newer run arrives) and the last key returned.
type pageToken struct {
	Kind   string `json:"k"`
	Run    string `json:"r"`
	Metric string `json:"m"`
	Series string `json:"s,omitempty"`
}

func (t pageToken) encode() string {
	b, _ := json.Marshal(t) // a struct of strings always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxTokenLen bounds a page token: those this package makes carry a run
// id, a metric name and a series id, well under it once encoded.
const maxTokenLen = 1024

// decodeToken parses tok for a list of kind; "" is the first page (nil).
func decodeToken(tok, kind string) (*pageToken, error) {
	if tok == "" {
		return nil, nil
	}
	if len(tok) > maxTokenLen {
		return nil, fmt.Errorf("page token: %w: %d bytes, at most %d", ErrInvalidArgument, len(tok), maxTokenLen)
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	var t pageToken
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Kind != kind || t.Run == "" {
		return nil, fmt.Errorf("page token %.40q: %w: not a token of this list", tok, ErrInvalidArgument)
	}
	return &t, nil
}

// pageSize applies Page's defaults and bounds.
func pageSize(p Page) (int, error) {
	switch {
	case p.Size < 0:
		return 0, fmt.Errorf("page size %d: %w: must not be negative", p.Size, ErrInvalidArgument)
	case p.Size == 0:
		return defaultPageSize, nil
	}
	return min(p.Size, maxPageSize), nil
}

// pageRun picks the run of a page: the token's, which an explicit run must
// not contradict.
func (s *Store) pageRun(ctx context.Context, run string, tok *pageToken) (string, error) {
	if tok == nil {
		return s.resolveRun(ctx, run)
	}
	if run != "" && run != tok.Run {
		return "", fmt.Errorf("page token is for run %q, not %q: %w", tok.Run, run, ErrInvalidArgument)
	}
	return s.resolveRun(ctx, tok.Run)
}

// CompileNameFilter compiles an RE2 name filter matched against the whole
// name, as Prometheus matches label values; "" matches everything (nil).
// Errors wrap ErrInvalidArgument.
func CompileNameFilter(filter string) (*regexp.Regexp, error) {
	if filter == "" {
		return nil, nil
	}
	if len(filter) > maxFilterLen {
		return nil, fmt.Errorf("name filter: %w: %d bytes, at most %d", ErrInvalidArgument, len(filter), maxFilterLen)
	}
	// The filter must be a whole expression on its own: `a)|(.*` would
	// otherwise close the anchoring group and match anything.
	if _, err := syntax.Parse(filter, syntax.Perl); err != nil {
		return nil, fmt.Errorf("name filter %q: %w: %w", filter, ErrInvalidArgument, err)
	}
	re, err := regexp.Compile("^(?:" + filter + ")$")
	if err != nil {
		return nil, fmt.Errorf("name filter %q: %w: %w", filter, ErrInvalidArgument, err)
	}
	return re, nil
}

// ListMetrics lists the metric names stored in run (latest if "") whose
// whole name matches the RE2 nameFilter ("" = all), in name order, with the
// run's series count per metric and its type and transform (the greatest
// value, should the metric's series disagree). A bad filter or token
// is ErrInvalidArgument; an unknown run ErrNotFound. run is the run read:
// later pages (the token) stay on it, and a runID other than the token's is
// ErrInvalidArgument. next is "" on the last page.
func (s *Store) ListMetrics(ctx context.Context, runID, nameFilter string, p Page) (metrics []*slapipev1.StoredMetric, run, next string, err error) {
	re, err := CompileNameFilter(nameFilter)
	if err != nil {
		return nil, "", "", err
	}
	size, err := pageSize(p)
	if err != nil {
		return nil, "", "", err
	}
	tok, err := decodeToken(p.Token, "metrics")
	if err != nil {
		return nil, "", "", err
	}
	run, err = s.pageRun(ctx, runID, tok)
	if err != nil {
		return nil, "", "", err
	}
	after := ""
	if tok != nil {
		after = tok.Metric
	}
	// The filter runs in Go (RE2 in both dialects), so scan in chunks until
	// the page is full or the run is exhausted.
	chunk := max(size+1, 256)
	var out []*slapipev1.StoredMetric
	for len(out) <= size {
		got, last, err := s.metricChunk(ctx, run, after, chunk, re, &out)
		if err != nil {
			return nil, "", "", err
		}
		if got < chunk {
			break
		}
		after = last
	}
	if len(out) > size {
		out = out[:size]
		next = pageToken{Kind: "metrics", Run: run, Metric: out[size-1].Name}.encode()
	}
	return out, run, next, nil
}

// metricChunk reads up to limit metrics after `after`, appending those re
// matches; it returns how many rows it read and the last name.
func (s *Store) metricChunk(ctx context.Context, run, after string, limit int, re *regexp.Regexp,
	out *[]*slapipev1.StoredMetric) (int, string, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT s.metric, MAX(a.metric_type), MAX(a.transform), COUNT(*) FROM analyses a "+
			"JOIN series s ON s.series_id = a.series_id WHERE a.run_id = ? AND s.metric > ? "+
			"GROUP BY s.metric ORDER BY s.metric LIMIT ?", run, after, limit)
	if err != nil {
		return 0, "", fmt.Errorf("listing metrics of run %q: %w", run, err)
	}
	defer func() { _ = rows.Close() }()
	n, last := 0, ""
	for rows.Next() {
		var m slapipev1.StoredMetric
		if err := rows.Scan(&m.Name, &m.MetricType, &m.Transform, &m.Series); err != nil {
			return 0, "", fmt.Errorf("listing metrics of run %q: %w", run, err)
		}
		n, last = n+1, m.Name
		if re == nil || re.MatchString(m.Name) {
			*out = append(*out, &m)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("listing metrics of run %q: %w", run, err)
	}
	return n, last, nil
}

// ListSeries lists the series stored in run (latest if ""), of one metric if
// metric != "", ordered by metric then series id. An unknown run, or a
// metric the run does not have, is ErrNotFound; a bad token
// ErrInvalidArgument. run and next as for ListMetrics.
func (s *Store) ListSeries(ctx context.Context, runID, metric string, p Page) (series []*slapipev1.SeriesRef, run, next string, err error) {
	size, err := pageSize(p)
	if err != nil {
		return nil, "", "", err
	}
	tok, err := decodeToken(p.Token, "series")
	if err != nil {
		return nil, "", "", err
	}
	run, err = s.pageRun(ctx, runID, tok)
	if err != nil {
		return nil, "", "", err
	}
	q := "SELECT s.series_id, s.metric, s.labels, a.transform, a.metric_type FROM analyses a " +
		"JOIN series s ON s.series_id = a.series_id WHERE a.run_id = ?"
	args := []any{run}
	if metric != "" {
		q += " AND s.metric = ?"
		args = append(args, metric)
	}
	if tok != nil {
		q += " AND (s.metric > ? OR (s.metric = ? AND a.series_id > ?))"
		args = append(args, tok.Metric, tok.Metric, tok.Series)
	}
	q += " ORDER BY s.metric, a.series_id LIMIT ?"
	args = append(args, size+1)
	out, err := scanSeriesRefs(ctx, s.db, q, args)
	if err != nil {
		return nil, "", "", fmt.Errorf("listing series of run %q: %w", run, err)
	}
	if len(out) == 0 && tok == nil && metric != "" {
		return nil, "", "", fmt.Errorf("metric %q in run %q: %w", metric, run, ErrNotFound)
	}
	if len(out) > size {
		out = out[:size]
		last := out[size-1]
		next = pageToken{Kind: "series", Run: run, Metric: last.Metric, Series: last.SeriesId}.encode()
	}
	return out, run, next, nil
}

func scanSeriesRefs(ctx context.Context, db *sql.DB, q string, args []any) ([]*slapipev1.SeriesRef, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []*slapipev1.SeriesRef
	for rows.Next() {
		var (
			r      slapipev1.SeriesRef
			labels sql.RawBytes
		)
		if err := rows.Scan(&r.SeriesId, &r.Metric, &labels, &r.Transform, &r.MetricType); err != nil {
			return nil, err
		}
		if r.Labels, err = parseLabelsJSON(labels); err != nil {
			return nil, fmt.Errorf("series %s: %w", r.SeriesId, err)
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}
