package slamanager

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// memStore is an in-memory Store.
type memStore struct {
	mu       sync.Mutex
	sets     []*slapipev1.SLASet
	snap     *slapipev1.GetViolationsResponse
	saves    int
	runs     []*slapipev1.Run
	analyses []*slapipev1.SeriesAnalysis
	runID    string
	fail     error // every call fails with it when set
}

func (s *memStore) ListRuns(_ context.Context, limit int) ([]*slapipev1.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	return s.runs[:min(limit, len(s.runs))], nil
}

func (s *memStore) LatestRunID(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return "", s.fail
	}
	if len(s.analyses) == 0 {
		return "", store.ErrNotFound
	}
	return s.runID, nil
}

func (s *memStore) Analyses(_ context.Context, q store.Query) (string, []*slapipev1.SeriesAnalysis, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return "", nil, s.fail
	}
	if len(s.analyses) == 0 {
		return "", nil, store.ErrNotFound
	}
	var out []*slapipev1.SeriesAnalysis
	for _, a := range s.analyses {
		if a.GetMetric() == q.Metric {
			out = append(out, a)
		}
	}
	return s.runID, out, nil
}

func (s *memStore) SaveSLA(_ context.Context, objs []*slapipev1.Objective, _ string) (*slapipev1.SLASet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	set := &slapipev1.SLASet{Objectives: cloneObjectives(objs), Version: int64(len(s.sets) + 1), UpdatedAt: timestamppb.Now()}
	s.sets = append(s.sets, set)
	return proto.Clone(set).(*slapipev1.SLASet), nil
}

func (s *memStore) LoadSLA(context.Context) (*slapipev1.SLASet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	if len(s.sets) == 0 {
		return nil, store.ErrNotFound
	}
	return proto.Clone(s.sets[len(s.sets)-1]).(*slapipev1.SLASet), nil
}

func (s *memStore) SaveViolations(_ context.Context, v *slapipev1.GetViolationsResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.snap = proto.Clone(v).(*slapipev1.GetViolationsResponse)
	s.saves++
	return nil
}

func (s *memStore) LatestViolations(context.Context) (*slapipev1.GetViolationsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	if s.snap == nil {
		return nil, store.ErrNotFound
	}
	return proto.Clone(s.snap).(*slapipev1.GetViolationsResponse), nil
}

// fakeSource answers Pull from a map selector -> series, or with err, or
// blocks until the context ends when block is set. It records, per Pull,
// when it was called and the deadline of its context.
type fakeSource struct {
	mu     sync.Mutex
	series map[string][]promSeries
	err    error
	block  bool
	pulls  int
	calls  []pullCall
}

// pullCall is one Pull: when it started and its context's deadline.
type pullCall struct {
	at          time.Time
	deadline    time.Time
	hasDeadline bool
}

func (f *fakeSource) Pull(ctx context.Context, selector string, _, _ time.Time, _ time.Duration) ([]promSeries, error) {
	dl, ok := ctx.Deadline()
	f.mu.Lock()
	f.pulls++
	f.calls = append(f.calls, pullCall{at: time.Now(), deadline: dl, hasDeadline: ok})
	block, err, ss := f.block, f.err, f.series[selector]
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return ss, err
}

// requireBounded fails unless src was called and every Pull ran under a
// context whose deadline is at most timeout after the call began: the
// bound comes from the context, not from how fast the test machine is.
func requireBounded(t *testing.T, src *fakeSource, timeout time.Duration) {
	t.Helper()
	src.mu.Lock()
	defer src.mu.Unlock()
	require.NotEmpty(t, src.calls, "prometheus was not asked")
	for i, c := range src.calls {
		require.True(t, c.hasDeadline, "pull %d has no deadline", i)
		require.False(t, c.deadline.After(c.at.Add(timeout)),
			"pull %d: deadline %s after its start + %s", i, c.deadline.Sub(c.at), timeout)
	}
}

func (f *fakeSource) set(block bool, err error) {
	f.mu.Lock()
	f.block, f.err = block, err
	f.mu.Unlock()
}

// fakeCatalog knows a fixed list of metrics.
type fakeCatalog struct {
	metrics []*slapipev1.PromMetric
	err     error
}

func (c *fakeCatalog) names(context.Context, time.Time) (map[string]struct{}, error) {
	if c.err != nil {
		return nil, c.err
	}
	out := map[string]struct{}{}
	for _, m := range c.metrics {
		out[m.Name] = struct{}{}
	}
	return out, nil
}

func (c *fakeCatalog) list(_ context.Context, f nameFilter, _ time.Time) ([]*slapipev1.PromMetric, error) {
	if c.err != nil {
		return nil, c.err
	}
	var out []*slapipev1.PromMetric
	for _, m := range c.metrics {
		if f.re.MatchString(m.Name) {
			out = append(out, m)
		}
	}
	return out, nil
}

// newTestManager builds a manager over fakes with a fixed clock.
func newTestManager(t *testing.T, cfg Config, st Store, src RangeSource, now time.Time) *Manager {
	t.Helper()
	m, err := New(cfg, Deps{Store: st, Source: src})
	require.NoError(t, err)
	m.now = func() time.Time { return now }
	return m
}

var errBoom = errors.New("boom")
