// Package ctltest provides in-process fakes of the SLA manager and the
// retrieval service for testing `slapipe ctl`: they hold canned answers,
// record what they were asked and validate the SLA set the way the real
// manager does, so client tests need neither Prometheus nor a database.
package ctltest

import (
	"context"
	"net"
	"sort"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// SLA is a fake SLAManagerServer. Its exported fields are the canned
// answers; lock Mu to read them while a server runs.
type SLA struct {
	slapipev1.UnimplementedSLAManagerServer

	Mu          sync.Mutex
	Set         *slapipev1.SLASet
	Violations  *slapipev1.GetViolationsResponse
	Predictions *slapipev1.GetPredictionsResponse
	Budget      *slapipev1.GetBudgetResponse
	Metrics     []*slapipev1.PromMetric
	Runs        []*slapipev1.Run
	// ETL is streamed by RunETL, one message each.
	ETL []*slapipev1.ETLProgress
	// ETLSelectors records the selectors of the last RunETL.
	ETLSelectors []string
	// Warnings are returned by every change of the set.
	Warnings []string
}

// GetSLA returns Set.
func (s *SLA) GetSLA(context.Context, *slapipev1.GetSLARequest) (*slapipev1.SLASet, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return proto.Clone(s.Set).(*slapipev1.SLASet), nil
}

func validate(objs []*slapipev1.Objective) error {
	seen := map[string]bool{}
	for i, o := range objs {
		switch {
		case o.GetName() == "":
			return status.Errorf(codes.InvalidArgument, "objectives[%d].name: must not be empty", i)
		case seen[o.GetName()]:
			return status.Errorf(codes.InvalidArgument, "objectives[%d].name: %q is used twice", i, o.GetName())
		case o.GetSelector() == "":
			return status.Errorf(codes.InvalidArgument, "objectives[%d].selector: must not be empty", i)
		case o.Min == nil && o.Max == nil:
			return status.Errorf(codes.InvalidArgument, "objectives[%d]: give min or max", i)
		case o.Min != nil && o.Max != nil && *o.Min >= *o.Max:
			return status.Errorf(codes.InvalidArgument, "objectives[%d].max: must be greater than min (got %v <= %v)", i, *o.Max, *o.Min)
		case o.Target != nil && !(o.GetTarget() > 0 && o.GetTarget() < 1):
			return status.Errorf(codes.InvalidArgument, "objectives[%d].target: must be between 0 and 1, both excluded (got %g)", i, o.GetTarget())
		}
		seen[o.GetName()] = true
	}
	return nil
}

func (s *SLA) replace(objs []*slapipev1.Objective) (*slapipev1.SetSLAResponse, error) {
	if err := validate(objs); err != nil {
		return nil, err
	}
	s.Set = &slapipev1.SLASet{Objectives: objs, Version: s.Set.GetVersion() + 1, UpdatedAt: s.Set.GetUpdatedAt()}
	return &slapipev1.SetSLAResponse{Set: proto.Clone(s.Set).(*slapipev1.SLASet), Warnings: s.Warnings}, nil
}

// SetSLA validates and replaces the set.
func (s *SLA) SetSLA(_ context.Context, req *slapipev1.SetSLARequest) (*slapipev1.SetSLAResponse, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.replace(req.GetObjectives())
}

// AddObjective appends one objective; the name must be new.
func (s *SLA) AddObjective(_ context.Context, req *slapipev1.AddObjectiveRequest) (*slapipev1.SetSLAResponse, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	objs := append(proto.Clone(s.Set).(*slapipev1.SLASet).GetObjectives(), req.GetObjective())
	return s.replace(objs)
}

// RemoveObjective removes one objective by name; NotFound if absent.
func (s *SLA) RemoveObjective(_ context.Context, req *slapipev1.RemoveObjectiveRequest) (*slapipev1.SetSLAResponse, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	var objs []*slapipev1.Objective
	for _, o := range s.Set.GetObjectives() {
		if o.GetName() != req.GetName() {
			objs = append(objs, o)
		}
	}
	if len(objs) == len(s.Set.GetObjectives()) {
		return nil, status.Errorf(codes.NotFound, "no objective named %q", req.GetName())
	}
	return s.replace(objs)
}

// ListMetrics returns Metrics.
func (s *SLA) ListMetrics(context.Context, *slapipev1.ListPromMetricsRequest) (*slapipev1.ListPromMetricsResponse, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return &slapipev1.ListPromMetricsResponse{Metrics: s.Metrics}, nil
}

// RunETL streams ETL and records the selectors.
func (s *SLA) RunETL(req *slapipev1.RunETLRequest, stream grpc.ServerStreamingServer[slapipev1.ETLProgress]) error {
	s.Mu.Lock()
	s.ETLSelectors = req.GetSelectors()
	msgs := s.ETL
	s.Mu.Unlock()
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			return err
		}
	}
	return nil
}

// ListRuns returns Runs.
func (s *SLA) ListRuns(context.Context, *slapipev1.ListRunsRequest) (*slapipev1.ListRunsResponse, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return &slapipev1.ListRunsResponse{Runs: s.Runs}, nil
}

// GetViolations returns Violations, only the asked window when one is given.
func (s *SLA) GetViolations(_ context.Context, req *slapipev1.GetViolationsRequest) (*slapipev1.GetViolationsResponse, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.violations(req.GetWindow())
}

func (s *SLA) violations(window string) (*slapipev1.GetViolationsResponse, error) {
	v := proto.Clone(s.Violations).(*slapipev1.GetViolationsResponse)
	if window == "" {
		return v, nil
	}
	if !slapipev1.ValidWindow(window) {
		return nil, status.Errorf(codes.InvalidArgument, "window %q: use one of %s", window, slapipev1.WindowNames(false))
	}
	var keep []*slapipev1.WindowViolations
	for _, w := range v.GetWindows() {
		if w.GetWindow() == window {
			keep = append(keep, w)
		}
	}
	v.Windows = keep
	return v, nil
}

// GetPredictions returns Predictions.
func (s *SLA) GetPredictions(context.Context, *slapipev1.GetPredictionsRequest) (*slapipev1.GetPredictionsResponse, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return proto.Clone(s.Predictions).(*slapipev1.GetPredictionsResponse), nil
}

// GetBudget returns Budget.
func (s *SLA) GetBudget(context.Context, *slapipev1.GetBudgetRequest) (*slapipev1.GetBudgetResponse, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return proto.Clone(s.Budget).(*slapipev1.GetBudgetResponse), nil
}

// GetStatus combines the set, the violations, the predictions and the
// newest run.
func (s *SLA) GetStatus(context.Context, *slapipev1.GetStatusRequest) (*slapipev1.GetStatusResponse, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	v, _ := s.violations("")
	out := &slapipev1.GetStatusResponse{Set: proto.Clone(s.Set).(*slapipev1.SLASet), Violations: v,
		Predictions: proto.Clone(s.Predictions).(*slapipev1.GetPredictionsResponse),
		Budget:      proto.Clone(s.Budget).(*slapipev1.GetBudgetResponse)}
	if len(s.Runs) > 0 {
		out.LastRun = s.Runs[0]
	}
	return out, nil
}

// Retrieval is a fake DataRetrievalServer over a fixed list of analyses.
type Retrieval struct {
	slapipev1.UnimplementedDataRetrievalServer

	Analyses []*slapipev1.SeriesAnalysis
}

func (r *Retrieval) match(q *slapipev1.SeriesQuery) ([]*slapipev1.SeriesAnalysis, error) {
	if (q.GetMetric() == "") == (q.GetSeriesId() == "") {
		return nil, status.Error(codes.InvalidArgument, "exactly one of metric and series_id must be set")
	}
	var out []*slapipev1.SeriesAnalysis
	for _, a := range r.Analyses {
		if (q.GetMetric() == "" || a.GetMetric() == q.GetMetric()) && (q.GetSeriesId() == "" || a.GetSeriesId() == q.GetSeriesId()) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		if q.GetSeriesId() != "" {
			return nil, status.Errorf(codes.NotFound, "no stored series %q", q.GetSeriesId())
		}
		return nil, status.Errorf(codes.NotFound, "no stored series for metric %q", q.GetMetric())
	}
	return out, nil
}

func ref(a *slapipev1.SeriesAnalysis) *slapipev1.SeriesRef {
	return &slapipev1.SeriesRef{SeriesId: a.GetSeriesId(), Metric: a.GetMetric(), Labels: a.GetLabels(),
		Transform: a.GetTransform(), MetricType: a.GetMetricType()}
}

// ListMetrics groups the analyses by metric.
func (r *Retrieval) ListMetrics(context.Context, *slapipev1.ListMetricsRequest) (*slapipev1.ListMetricsResponse, error) {
	byName := map[string]*slapipev1.StoredMetric{}
	for _, a := range r.Analyses {
		m := byName[a.GetMetric()]
		if m == nil {
			m = &slapipev1.StoredMetric{Name: a.GetMetric(), MetricType: a.GetMetricType(), Transform: a.GetTransform()}
			byName[a.GetMetric()] = m
		}
		m.Series++
	}
	out := &slapipev1.ListMetricsResponse{RunId: RunID}
	for _, m := range byName {
		out.Metrics = append(out.Metrics, m)
	}
	sort.Slice(out.Metrics, func(i, j int) bool { return out.Metrics[i].Name < out.Metrics[j].Name })
	return out, nil
}

// ListSeries lists the series of a metric.
func (r *Retrieval) ListSeries(_ context.Context, req *slapipev1.ListSeriesRequest) (*slapipev1.ListSeriesResponse, error) {
	as, err := r.match(&slapipev1.SeriesQuery{Metric: req.GetMetric()})
	if err != nil {
		return nil, err
	}
	out := &slapipev1.ListSeriesResponse{RunId: RunID}
	for _, a := range as {
		out.Series = append(out.Series, ref(a))
	}
	return out, nil
}

// GetStats returns the window statistics of the matching analyses.
func (r *Retrieval) GetStats(_ context.Context, q *slapipev1.SeriesQuery) (*slapipev1.GetStatsResponse, error) {
	as, err := r.match(q)
	if err != nil {
		return nil, err
	}
	out := &slapipev1.GetStatsResponse{RunId: RunID, ComputedAt: as[0].GetComputedAt()}
	for _, a := range as {
		out.Series = append(out.Series, &slapipev1.SeriesStats{Series: ref(a), Windows: a.GetWindows()})
	}
	return out, nil
}

// GetMetadata returns ADF, ACF, season and season check of the matching
// analyses.
func (r *Retrieval) GetMetadata(_ context.Context, q *slapipev1.SeriesQuery) (*slapipev1.GetMetadataResponse, error) {
	as, err := r.match(q)
	if err != nil {
		return nil, err
	}
	out := &slapipev1.GetMetadataResponse{RunId: RunID, ComputedAt: as[0].GetComputedAt()}
	for _, a := range as {
		out.Series = append(out.Series, &slapipev1.SeriesMetadata{Series: ref(a), Adf: a.GetAdf(), Acf: a.GetAcf(),
			Seasonality: a.GetSeasonality(), SeasonCheck: a.GetSeasonCheck()})
	}
	return out, nil
}

// GetForecast returns the forecasts of the matching analyses.
func (r *Retrieval) GetForecast(_ context.Context, q *slapipev1.SeriesQuery) (*slapipev1.GetForecastResponse, error) {
	as, err := r.match(q)
	if err != nil {
		return nil, err
	}
	out := &slapipev1.GetForecastResponse{RunId: RunID, ComputedAt: as[0].GetComputedAt()}
	for _, a := range as {
		out.Series = append(out.Series, &slapipev1.SeriesForecast{Series: ref(a), Forecast: a.GetForecast(),
			RangeEnd: a.GetRangeEnd(), StepSeconds: a.GetStepSeconds()})
	}
	return out, nil
}

// Serve starts sla and ret on two loopback ports and returns their
// addresses; the servers stop when the test ends.
func Serve(t testing.TB, sla *SLA, ret *Retrieval) (slaAddr, retAddr string) {
	t.Helper()
	start := func(register func(*grpc.Server)) string {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listening: %v", err)
		}
		srv := grpc.NewServer()
		register(srv)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.Serve(lis)
		}()
		t.Cleanup(func() {
			srv.Stop()
			<-done
		})
		return lis.Addr().String()
	}
	slaAddr = start(func(s *grpc.Server) { slapipev1.RegisterSLAManagerServer(s, sla) })
	retAddr = start(func(s *grpc.Server) { slapipev1.RegisterDataRetrievalServer(s, ret) })
	return slaAddr, retAddr
}

// UnusedAddr returns a loopback address nothing listens on (a port that was
// free a moment ago).
func UnusedAddr(t testing.TB) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}
