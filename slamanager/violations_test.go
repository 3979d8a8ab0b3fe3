package slamanager

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// defaultSetSource serves the default set's selectors: free memory dips
// under 256 MiB in 4 samples (2 episodes) of the last hour; the others stay
// inside.
func defaultSetSource() *fakeSource {
	const mib = 1 << 20
	mem := buildSeries(1024*mib, mark{3, 100 * mib}, mark{4, 200 * mib}, mark{30, 250 * mib}, mark{31, 255 * mib})
	mem.Metric, mem.ID = "node_memory_MemFree_bytes", "mem"
	disk := buildSeries(1e6)
	disk.Metric, disk.ID, disk.Transform = "node_disk_written_bytes_total", "disk", "rate"
	return &fakeSource{series: map[string][]promSeries{
		"node_memory_MemFree_bytes":     {mem},
		"node_disk_written_bytes_total": {disk},
	}}
}

// testPromTimeout keeps hanging-Prometheus cases short; what they check
// is that the pull's context carries this bound, not wall-clock speed.
const testPromTimeout = 50 * time.Millisecond

func TestGetViolationsFresh(t *testing.T) {
	ctx := context.Background()
	st := &memStore{}
	src := defaultSetSource()
	// The clock is 3 s past the grid point: the pull ends on the grid.
	m := newTestManager(t, Config{}, st, src, testEnd.Add(3*time.Second))

	resp, err := m.GetViolations(ctx, &slapipev1.GetViolationsRequest{})
	require.NoError(t, err)
	require.False(t, resp.Stale)
	require.Len(t, resp.Windows, 3)
	rows := resp.Windows[0].Rows
	require.Len(t, rows, 2, "disk and memory have series; the others none")
	require.Equal(t, "disk-write", rows[0].Objective)
	require.Equal(t, int64(0), rows[0].SamplesOut)
	mem := rows[1]
	require.Equal(t, "memory-free", mem.Objective)
	require.Equal(t, int64(720), mem.Samples)
	require.Equal(t, int64(4), mem.SamplesOut)
	require.Equal(t, int64(2), mem.Episodes)
	require.Equal(t, float64(100<<20), mem.Worst)
	require.Equal(t, 1, st.saves, "snapshot saved for degraded mode")
	require.Equal(t, 5, src.pulls, "one pull per objective")

	_, err = m.GetViolations(ctx, &slapipev1.GetViolationsRequest{Window: "3h"})
	require.NoError(t, err)
	require.Equal(t, 5, src.pulls, "same grid point and set: cached")

	one, err := m.GetViolations(ctx, &slapipev1.GetViolationsRequest{Window: "12h"})
	require.NoError(t, err)
	require.Len(t, one.Windows, 1)
	require.Equal(t, "12h", one.Windows[0].Window)

	_, err = m.GetViolations(ctx, &slapipev1.GetViolationsRequest{Window: "2h"})
	require.Equal(t, codes.InvalidArgument, codeOf(err))
	require.Contains(t, err.Error(), `window: must be "1h", "3h", "12h" or empty for all (got "2h")`)
}

func TestGetViolationsDegraded(t *testing.T) {
	ctx := context.Background()
	snapAt := testEnd.Add(-10 * time.Minute)
	snapshot := &slapipev1.GetViolationsResponse{ComputedAt: timestamppb.New(snapAt), Windows: []*slapipev1.WindowViolations{
		{Window: "1h", Rows: []*slapipev1.Violation{{Objective: "memory-free", Samples: 720, SamplesOut: 9}}},
		{Window: "3h"}, {Window: "12h"},
	}}
	cases := []struct {
		name     string
		block    bool
		err      error
		snapshot bool
		wantCode codes.Code
	}{
		{"prometheus hangs", true, nil, true, codes.OK},
		{"prometheus fails", false, errBoom, true, codes.OK},
		{"prometheus fails and no snapshot", false, errBoom, false, codes.Unavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := &memStore{}
			if c.snapshot {
				st.snap = snapshot
			}
			src := &fakeSource{block: c.block, err: c.err}
			m := newTestManager(t, Config{PromTimeout: testPromTimeout}, st, src, testEnd)
			resp, err := m.GetViolations(ctx, &slapipev1.GetViolationsRequest{Window: "1h"})
			requireBounded(t, src, testPromTimeout)
			if c.wantCode != codes.OK {
				require.Equal(t, c.wantCode, codeOf(err))
				require.Contains(t, err.Error(), "no stored snapshot")
				return
			}
			require.NoError(t, err)
			require.True(t, resp.Stale)
			require.InDelta(t, 600, resp.AgeSeconds, 1e-9)
			require.Len(t, resp.Windows, 1)
			require.Equal(t, int64(9), resp.Windows[0].Rows[0].SamplesOut)

			// Within one step of a failure Prometheus is not asked again.
			pulls := src.pulls
			_, err = m.GetViolations(ctx, &slapipev1.GetViolationsRequest{})
			require.NoError(t, err)
			require.Equal(t, pulls, src.pulls)
		})
	}

	t.Run("prometheus fails after a fresh answer: that answer, stale", func(t *testing.T) {
		st := &memStore{}
		src := defaultSetSource()
		m := newTestManager(t, Config{}, st, src, testEnd)
		_, err := m.GetViolations(ctx, &slapipev1.GetViolationsRequest{})
		require.NoError(t, err)
		src.set(false, errBoom)
		m.now = func() time.Time { return testEnd.Add(time.Minute) }
		resp, err := m.GetViolations(ctx, &slapipev1.GetViolationsRequest{})
		require.NoError(t, err)
		require.True(t, resp.Stale)
		require.InDelta(t, 60, resp.AgeSeconds, 1e-9)
		require.Equal(t, int64(4), resp.Windows[0].Rows[1].SamplesOut)

		// Prometheus back after the step: fresh again.
		src.set(false, nil)
		m.now = func() time.Time { return testEnd.Add(time.Minute + 6*time.Second) }
		resp, err = m.GetViolations(ctx, &slapipev1.GetViolationsRequest{})
		require.NoError(t, err)
		require.False(t, resp.Stale)
	})
}

func TestGetStatusDegraded(t *testing.T) {
	st := &memStore{snap: &slapipev1.GetViolationsResponse{ComputedAt: timestamppb.New(testEnd.Add(-time.Hour))},
		runs: []*slapipev1.Run{{RunId: "r1", Status: "succeeded"}}}
	src := &fakeSource{block: true}
	m := newTestManager(t, Config{PromTimeout: testPromTimeout}, st, src, testEnd)
	resp, err := m.GetStatus(context.Background(), &slapipev1.GetStatusRequest{})
	require.NoError(t, err)
	requireBounded(t, src, testPromTimeout)
	require.Len(t, resp.Set.Objectives, 5)
	require.True(t, resp.Violations.Stale)
	require.InDelta(t, 3600, resp.Violations.AgeSeconds, 1e-9)
	require.Equal(t, "r1", resp.LastRun.RunId)
	require.NotNil(t, resp.Predictions, "no forecasts stored: an empty answer, not an error")
	require.Empty(t, resp.Predictions.Predictions)
}
