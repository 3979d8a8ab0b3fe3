package slamanager

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// recordingStore is a memStore that also keeps the predictions history.
type recordingStore struct {
	memStore
	recMu sync.Mutex
	saved []*slapipev1.GetPredictionsResponse
}

func (s *recordingStore) SavePredictions(_ context.Context, p *slapipev1.GetPredictionsResponse) error {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	s.saved = append(s.saved, proto.Clone(p).(*slapipev1.GetPredictionsResponse))
	return s.memStore.fail
}

func (s *recordingStore) savedRuns() []string {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	var out []string
	for _, p := range s.saved {
		out = append(out, p.GetRunId())
	}
	return out
}

func TestPredictionsRecordedOncePerRun(t *testing.T) {
	flat := func(int) float64 { return 5e9 }
	st := &recordingStore{memStore: memStore{runID: "run-1", analyses: []*slapipev1.SeriesAnalysis{
		forecastMsg("node_filesystem_avail_bytes", map[string]string{"mountpoint": "/"}, 120, 1e6, flat),
	}}}
	m := newTestManager(t, Config{}, st, &fakeSource{}, testEnd)
	ctx := context.Background()
	ask := func() *slapipev1.GetPredictionsResponse {
		resp, err := m.GetPredictions(ctx, &slapipev1.GetPredictionsRequest{})
		require.NoError(t, err)
		return resp
	}
	first := ask()
	ask()
	_, err := m.GetStatus(ctx, &slapipev1.GetStatusRequest{})
	require.NoError(t, err)
	require.Equal(t, []string{"run-1"}, st.savedRuns(), "three answers from one run, one record")
	require.Len(t, st.saved[0].GetPredictions(), 1)
	require.Equal(t, first.GetPredictions()[0].GetProbability(), st.saved[0].GetPredictions()[0].GetProbability())
	require.Equal(t, testEnd, st.saved[0].GetComputedAt().AsTime(), "dated by the run's analyses")

	st.mu.Lock()
	st.runID = "run-2"
	st.mu.Unlock()
	ask()
	ask()
	require.Equal(t, []string{"run-1", "run-2"}, st.savedRuns(), "a new run is recorded once")
}

func TestPredictionsWithoutHistoryStore(t *testing.T) {
	// memStore has no SavePredictions: answers are served all the same.
	st := &memStore{runID: "run-1", analyses: []*slapipev1.SeriesAnalysis{
		forecastMsg("node_filesystem_avail_bytes", map[string]string{"mountpoint": "/"}, 120, 1e6, func(int) float64 { return 5e9 }),
	}}
	m := newTestManager(t, Config{}, st, &fakeSource{}, testEnd)
	resp, err := m.GetPredictions(context.Background(), &slapipev1.GetPredictionsRequest{})
	require.NoError(t, err)
	require.Len(t, resp.GetPredictions(), 1)
}
