package dataretrieval

import (
	"context"

	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Page and list bounds of the API.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
	DefaultRuns     = 20
	MaxRuns         = 1000
	maxTokenLen     = 1024
)

// ListMetrics lists the stored metric names whose whole name matches the
// RE2 name_filter, with their series counts, one page at a time.
func (s *Server) ListMetrics(ctx context.Context, req *slapipev1.ListMetricsRequest) (*slapipev1.ListMetricsResponse, error) {
	page, err := pageOf(req.GetRunId(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	ms, run, next, err := s.st.ListMetrics(ctx, req.GetRunId(), req.GetNameFilter(), page)
	if err != nil {
		return nil, storeError("listing metrics", err)
	}
	return &slapipev1.ListMetricsResponse{Metrics: ms, NextPageToken: next, RunId: run}, nil
}

// ListSeries lists the stored series, of one metric if metric is set, one
// page at a time.
func (s *Server) ListSeries(ctx context.Context, req *slapipev1.ListSeriesRequest) (*slapipev1.ListSeriesResponse, error) {
	page, err := pageOf(req.GetRunId(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	if m := req.GetMetric(); m != "" {
		if err := checkMetric(m); err != nil {
			return nil, err
		}
	}
	refs, run, next, err := s.st.ListSeries(ctx, req.GetRunId(), req.GetMetric(), page)
	if err != nil {
		return nil, storeError("listing series", err)
	}
	return &slapipev1.ListSeriesResponse{Series: refs, NextPageToken: next, RunId: run}, nil
}

// GetStats returns the 1h/3h/12h window statistics of the selected series.
func (s *Server) GetStats(ctx context.Context, q *slapipev1.SeriesQuery) (*slapipev1.GetStatsResponse, error) {
	run, msgs, next, err := s.analyses(ctx, "getting statistics", q, store.PartWindows)
	if err != nil {
		return nil, err
	}
	resp := &slapipev1.GetStatsResponse{RunId: run, ComputedAt: latestComputed(msgs), NextPageToken: next}
	for _, m := range msgs {
		resp.Series = append(resp.Series, &slapipev1.SeriesStats{Series: ref(m), Windows: m.GetWindows()})
	}
	return resp, nil
}

// GetMetadata returns the ADF test, ACF, season and season check of the
// selected series.
func (s *Server) GetMetadata(ctx context.Context, q *slapipev1.SeriesQuery) (*slapipev1.GetMetadataResponse, error) {
	run, msgs, next, err := s.analyses(ctx, "getting metadata", q, store.PartADF|store.PartACF|store.PartSeasonality)
	if err != nil {
		return nil, err
	}
	resp := &slapipev1.GetMetadataResponse{RunId: run, ComputedAt: latestComputed(msgs), NextPageToken: next}
	for _, m := range msgs {
		resp.Series = append(resp.Series, &slapipev1.SeriesMetadata{Series: ref(m), Adf: m.GetAdf(),
			Acf: m.GetAcf(), Seasonality: m.GetSeasonality(), SeasonCheck: m.GetSeasonCheck()})
	}
	return resp, nil
}

// GetForecast returns the forecast points with their 95 % interval and the
// predicted min/max/mean of the selected series.
func (s *Server) GetForecast(ctx context.Context, q *slapipev1.SeriesQuery) (*slapipev1.GetForecastResponse, error) {
	run, msgs, next, err := s.analyses(ctx, "getting forecasts", q, store.PartForecast)
	if err != nil {
		return nil, err
	}
	resp := &slapipev1.GetForecastResponse{RunId: run, ComputedAt: latestComputed(msgs), NextPageToken: next}
	for _, m := range msgs {
		resp.Series = append(resp.Series, &slapipev1.SeriesForecast{Series: ref(m), Forecast: m.GetForecast(),
			RangeEnd: m.GetRangeEnd(), StepSeconds: m.GetStepSeconds()})
	}
	return resp, nil
}

// ListRuns returns the newest runs first (limit 0 means 20).
func (s *Server) ListRuns(ctx context.Context, req *slapipev1.ListRunsRequest) (*slapipev1.ListRunsResponse, error) {
	limit := int(req.GetLimit())
	switch {
	case limit == 0:
		limit = DefaultRuns
	case limit < 0 || limit > MaxRuns:
		return nil, invalid("limit: must be in 1..%d (0 means %d), got %d", MaxRuns, DefaultRuns, limit)
	}
	runs, err := s.st.ListRuns(ctx, limit)
	if err != nil {
		return nil, storeError("listing runs", err)
	}
	return &slapipev1.ListRunsResponse{Runs: runs}, nil
}

// analyses validates q and reads the given parts of its analyses: one
// page of a metric's series, or one series.
func (s *Server) analyses(ctx context.Context, op string, q *slapipev1.SeriesQuery, parts store.Parts) (string, []*slapipev1.SeriesAnalysis, string, error) {
	metric, series := q.GetMetric(), q.GetSeriesId()
	switch {
	case metric == "" && series == "":
		return "", nil, "", invalid("exactly one of metric and series_id must be set, got neither")
	case metric != "" && series != "":
		return "", nil, "", invalid("exactly one of metric and series_id must be set, got both")
	case metric != "":
		if err := checkMetric(metric); err != nil {
			return "", nil, "", err
		}
	default:
		if err := checkID("series_id", series); err != nil {
			return "", nil, "", err
		}
	}
	if n := q.GetPageSize(); n > slapipev1.MaxQueryPageSize {
		return "", nil, "", invalid("page_size: must be in 1..%d (0 means %d), got %d", slapipev1.MaxQueryPageSize, DefaultPageSize, n)
	}
	page, err := pageOf(q.GetRunId(), q.GetPageSize(), q.GetPageToken())
	if err != nil {
		return "", nil, "", err
	}
	run, msgs, next, err := s.st.AnalysesPage(ctx, store.Query{Metric: metric, SeriesID: series, RunID: q.GetRunId(), Parts: parts}, page)
	if err != nil {
		return "", nil, "", storeError(op, err)
	}
	return run, msgs, next, nil
}

// pageOf checks a list request's run id and page size; the store reads
// the page token (it keeps later pages on the first page's run and refuses
// a token of another list or run).
func pageOf(runID string, size int32, token string) (store.Page, error) {
	if err := checkID("run_id", runID); err != nil {
		return store.Page{}, err
	}
	n, err := pageSize(size)
	if err != nil {
		return store.Page{}, err
	}
	if len(token) > maxTokenLen {
		return store.Page{}, invalid("page_token: %d bytes, at most %d (pass the next_page_token of the previous answer)", len(token), maxTokenLen)
	}
	return store.Page{Size: n, Token: token}, nil
}

func pageSize(n int32) (int, error) {
	switch {
	case n == 0:
		return DefaultPageSize, nil
	case n < 0 || n > MaxPageSize:
		return 0, invalid("page_size: must be in 1..%d (0 means %d), got %d", MaxPageSize, DefaultPageSize, n)
	}
	return int(n), nil
}

// checkMetric accepts any non-empty UTF-8 metric name of at most 255 bytes,
// the names the store keeps (Prometheus 3 and the ETL produce UTF-8 names
// such as "node.temperature_°C"); a name the store lacks is NotFound there.
func checkMetric(m string) error {
	if len(m) > slapipev1.MaxMetricLen || !model.UTF8Validation.IsValidMetricName(m) {
		return invalid("metric %.80q: not a metric name (non-empty UTF-8, at most %d bytes)", m, slapipev1.MaxMetricLen)
	}
	return nil
}

// checkID accepts "" (not given) or an id the store could hold, as the
// contract's CheckKey defines it for run and series ids.
func checkID(field, id string) error {
	if id == "" {
		return nil
	}
	if err := slapipev1.CheckKey(field, id, slapipev1.MaxIDLen); err != nil {
		return invalid("%v", err)
	}
	return nil
}

func ref(m *slapipev1.SeriesAnalysis) *slapipev1.SeriesRef {
	return &slapipev1.SeriesRef{SeriesId: m.GetSeriesId(), Metric: m.GetMetric(), Labels: m.GetLabels(),
		Transform: m.GetTransform(), MetricType: m.GetMetricType()}
}

// latestComputed is the newest computed_at of msgs (they normally share a
// run, computed within seconds).
func latestComputed(msgs []*slapipev1.SeriesAnalysis) *timestamppb.Timestamp {
	var out *timestamppb.Timestamp
	for _, m := range msgs {
		c := m.GetComputedAt()
		if c != nil && (out == nil || c.AsTime().After(out.AsTime())) {
			out = c
		}
	}
	return out
}
