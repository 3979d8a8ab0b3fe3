// Package promsource reads metric history from Prometheus' HTTP API
// (client_golang api/prometheus/v1) onto a fixed time grid, one query_range
// per metric, keeping every series. It validates user selectors
// (ParseSelector), expands name patterns through the label values API,
// types metrics through the metadata API and turns counters into
// per-second rates, so the ETL and the SLA manager see the same numbers.
//
// The grid of a pull from start to end at step holds every multiple of step
// (since the Unix epoch) in [start, end]. A point is NaN when Prometheus
// returns no sample for it, that is when the series has had no sample within
// Prometheus' lookback window (5 minutes by default) or was marked stale.
// Counters are pulled with one extra point before start so that the first
// grid point has a rate when the counter existed then.
package promsource

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/labels"
)

// MaxPoints is the number of points per series Prometheus answers at most
// in one query_range; a pull that would need more is refused before asking.
const MaxPoints = 11000

// DefaultTimeout bounds each request to Prometheus when Config.Timeout is 0.
const DefaultTimeout = 2 * time.Minute

// Config says which Prometheus to read and how patiently.
type Config struct {
	// URL is Prometheus' base address, e.g. http://127.0.0.1:9090.
	URL string
	// Timeout bounds each HTTP request; 0 means DefaultTimeout.
	Timeout time.Duration
	// RoundTripper carries the requests; nil means client_golang's default.
	RoundTripper http.RoundTripper
	// Gzip asks Prometheus to compress query_range answers. It saves
	// bandwidth to a distant Prometheus but costs more CPU than it saves
	// on loopback or a LAN (gzip makes Prometheus 5x slower to answer), so
	// it is off by default.
	Gzip bool
	// Logger receives warnings Prometheus returns; nil discards them.
	Logger *slog.Logger
	// Read is how FetchSeries pulls: ReadAuto (""), ReadRemote or
	// ReadQueryRange.
	Read string
}

// Source pulls series from one Prometheus. It is safe for concurrent use.
type Source struct {
	client  api.Client
	api     promv1.API
	timeout time.Duration
	gzip    bool
	logger  *slog.Logger
	read    string
	// noRemote is set once the server refused remote read (ReadAuto).
	noRemote atomic.Bool
}

// Series is one Prometheus series on a fixed grid.
type Series struct {
	// ID is SeriesID(Metric, Labels).
	ID string
	// Metric is the metric name.
	Metric string
	// Labels are the series' labels without __name__.
	Labels map[string]string
	// Type is the metric type (see Classify).
	Type string
	// Transform is TransformRaw or TransformRate.
	Transform string
	// Start is the time of Values[0]; Values[i] is at Start + i*Step.
	Start time.Time
	// Step is the grid step.
	Step time.Duration
	// Values are the samples, already transformed; NaN marks a gap.
	Values []float64
}

// End returns the time of the last value.
func (s *Series) End() time.Time {
	return s.Start.Add(time.Duration(len(s.Values)-1) * s.Step)
}

// Query is one query_range the source will run: a single metric name with
// the matchers of the selector it came from.
type Query struct {
	// Metric is the metric name.
	Metric string
	// Selector is the PromQL vector selector sent to Prometheus.
	Selector string
	// Type is the metric type reported for Metric (see Classify).
	Type string
	// Rate says whether the values are turned into per-second rates.
	Rate bool
}

// New returns a Source for the Prometheus at cfg.URL. It does not contact
// Prometheus.
func New(cfg Config) (*Source, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus url %q: must be http(s)://host[:port]", cfg.URL)
	}
	client, err := api.NewClient(api.Config{Address: cfg.URL, RoundTripper: cfg.RoundTripper})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", cfg.URL, err)
	}
	if cfg.Read == "" {
		cfg.Read = ReadAuto
	}
	if !ValidRead(cfg.Read) {
		return nil, fmt.Errorf("prometheus read method %q: want %s, %s or %s", cfg.Read, ReadAuto, ReadRemote, ReadQueryRange)
	}
	s := &Source{client: client, api: promv1.NewAPI(client), timeout: cfg.Timeout, gzip: cfg.Gzip, logger: cfg.Logger, read: cfg.Read}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// API returns the underlying client_golang API, for callers that need other
// endpoints of the same Prometheus.
func (s *Source) API() promv1.API { return s.api }

// Pull returns every series matching selector from start to end at step,
// sorted by ID (see the package comment for the grid). The selector is
// validated by ParseSelector; an invalid one yields an error wrapping
// ErrInvalidSelector before Prometheus is asked anything.
func (s *Source) Pull(ctx context.Context, selector string, start, end time.Time, step time.Duration) ([]Series, error) {
	queries, err := s.Plan(ctx, []string{selector}, start, end)
	if err != nil {
		return nil, err
	}
	var all []Series
	for _, q := range queries {
		ss, err := s.Fetch(ctx, q, start, end, step)
		if err != nil {
			return nil, err
		}
		all = append(all, ss...)
	}
	return Dedup(all), nil
}

// Plan validates selectors and turns them into one Query per metric name:
// name patterns and name-less selectors are expanded through the label
// values API over [start, end], and metric types come from one call to the
// metadata API (names alone decide when it fails). When a metric is asked
// for both with and without further matchers, only the query without them
// is kept since it covers the others. Queries come sorted by metric.
func (s *Source) Plan(ctx context.Context, selectors []string, start, end time.Time) ([]Query, error) {
	type parsed struct {
		metric   string
		matchers []*labels.Matcher
	}
	ps := make([]parsed, 0, len(selectors))
	for _, sel := range selectors {
		m, ms, err := ParseSelector(sel)
		if err != nil {
			return nil, err
		}
		ps = append(ps, parsed{m, ms})
	}
	bySel := map[string]Query{}
	for _, p := range ps {
		names := []string{p.metric}
		if p.metric == "" {
			var err error
			if names, err = s.metricNames(ctx, p.matchers, start, end); err != nil {
				return nil, err
			}
		}
		for _, n := range names {
			q := querySelector(n, p.matchers)
			bySel[q] = Query{Metric: n, Selector: q}
		}
	}
	if len(bySel) == 0 {
		return nil, nil
	}
	meta := s.metadata(ctx)
	bare := map[string]bool{}
	for _, q := range bySel {
		if q.Selector == querySelector(q.Metric, nil) {
			bare[q.Metric] = true
		}
	}
	queries := make([]Query, 0, len(bySel))
	for _, q := range bySel {
		if bare[q.Metric] && q.Selector != querySelector(q.Metric, nil) {
			continue
		}
		q.Type, q.Rate = Classify(q.Metric, meta)
		queries = append(queries, q)
	}
	slices.SortFunc(queries, func(a, b Query) int {
		if a.Metric != b.Metric {
			return cmp.Compare(a.Metric, b.Metric)
		}
		return cmp.Compare(a.Selector, b.Selector)
	})
	return queries, nil
}

// CountSeries counts the series of queries over [start, end] through the
// series API, which reads only Prometheus' index, so a run can refuse to
// pull more than limit series before pulling any. It stops counting once
// the count is over limit.
func (s *Source) CountSeries(ctx context.Context, queries []Query, start, end time.Time, limit int) (int, error) {
	n := 0
	for _, q := range queries {
		qctx, cancel := context.WithTimeout(ctx, s.timeout)
		sets, warns, _, err := s.api.Series(qctx, []string{q.Selector}, start, end)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("counting the series of %s: %w", q.Selector, err)
		}
		for _, w := range warns {
			s.logger.Warn("prometheus warning", "selector", q.Selector, "warning", w)
		}
		if n += len(sets); n > limit {
			break
		}
	}
	return n, nil
}

func (s *Source) metricNames(ctx context.Context, ms []*labels.Matcher, start, end time.Time) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	match := matchersString(ms)
	vals, warns, _, err := s.api.LabelValues(ctx, labels.MetricName, []string{match}, start, end)
	if err != nil {
		return nil, fmt.Errorf("listing metric names for %s: %w", match, err)
	}
	s.warn(match, warns)
	names := make([]string, len(vals))
	for i, v := range vals {
		names[i] = string(v)
	}
	return names, nil
}

// metadata maps metric family names to their type. A Prometheus without
// the metadata API (or without scrape targets, as with backfilled blocks)
// yields an empty map and names decide.
func (s *Source) metadata(ctx context.Context) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	md, err := s.api.Metadata(ctx, "", "")
	if err != nil {
		s.logger.Warn("prometheus metadata unavailable, typing metrics by name", "err", err)
		return nil
	}
	out := make(map[string]string, len(md))
	for name, entries := range md {
		if len(entries) > 0 {
			out[name] = string(entries[0].Type)
		}
	}
	return out
}

func (s *Source) warn(query string, warns []string) {
	for _, w := range warns {
		s.logger.Warn("prometheus warning", "query", query, "warning", w)
	}
}

// Fetch runs q over [start, end] at step and returns its series on the grid
// (see the package comment), in Prometheus' order.
func (s *Source) Fetch(ctx context.Context, q Query, start, end time.Time, step time.Duration) ([]Series, error) {
	g, err := newGrid(start, end, step)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := s.queryRange(ctx, q.Selector, g)
	if err != nil {
		return nil, fmt.Errorf("query_range %s: %w", q.Selector, err)
	}
	s.warn(q.Selector, res.warnings)
	if res.resultType != "matrix" {
		return nil, fmt.Errorf("query_range %s: got %q, want a matrix", q.Selector, res.resultType)
	}
	out := make([]Series, 0, len(res.result))
	for i := range res.result {
		rs := &res.result[i]
		if len(rs.vals) == 0 {
			// A native histogram has no float samples to analyse.
			s.logger.Debug("skipping series without float samples", "series", rs.metric)
			continue
		}
		out = append(out, g.series(q, rs))
		rs.ts, rs.vals = nil, nil
	}
	return out, nil
}

// queryRange runs one query_range over the grid (lead point included) and
// decodes the answer with decodeMatrix rather than client_golang's
// model.Matrix, which costs more than Prometheus takes to answer.
func (s *Source) queryRange(ctx context.Context, query string, g grid) (*matrixResponse, error) {
	form := url.Values{}
	form.Set("query", query)
	form.Set("start", formatMs(g.lead().UnixMilli()))
	form.Set("end", formatMs(g.end().UnixMilli()))
	form.Set("step", strconv.FormatFloat(g.step.Seconds(), 'f', -1, 64))
	form.Set("timeout", strconv.FormatFloat(s.timeout.Seconds(), 'f', -1, 64))
	resp, body, err := s.do(ctx, http.MethodPost, form)
	if err == nil && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented) {
		// As client_golang does: a proxy that refuses POST may allow GET.
		resp, body, err = s.do(ctx, http.MethodGet, form)
	}
	if err != nil {
		return nil, err
	}
	res, derr := decodeMatrix(body, g.n+1)
	if resp.StatusCode/100 != 2 {
		if derr == nil && res.status == "error" {
			return nil, &promv1.Error{Type: promv1.ErrorType(res.errorType), Msg: res.errMsg}
		}
		return nil, fmt.Errorf("http %s: %.200s", resp.Status, body)
	}
	if derr != nil {
		return nil, fmt.Errorf("decoding answer: %w", derr)
	}
	if res.status != "success" {
		return nil, fmt.Errorf("status %q: %s: %s", res.status, res.errorType, res.errMsg)
	}
	return res, nil
}

// do sends form to the query_range endpoint, in the body (POST) or the URL
// (GET).
func (s *Source) do(ctx context.Context, method string, form url.Values) (*http.Response, []byte, error) {
	u := s.client.URL("/api/v1/query_range", nil)
	var body io.Reader
	if method == http.MethodGet {
		u.RawQuery = form.Encode()
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if !s.gzip {
		// Setting it also stops net/http from asking for gzip by itself.
		req.Header.Set("Accept-Encoding", "identity")
	}
	return s.client.Do(ctx, req)
}

func formatMs(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}

// Dedup drops repeated series (same ID, as when two selectors overlap),
// keeping the first, and sorts the rest by ID.
func Dedup(ss []Series) []Series {
	slices.SortStableFunc(ss, func(a, b Series) int { return cmp.Compare(a.ID, b.ID) })
	return slices.CompactFunc(ss, func(a, b Series) bool { return a.ID == b.ID })
}
