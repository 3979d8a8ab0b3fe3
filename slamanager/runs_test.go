package slamanager

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// gatedETL reports "pull 0/10", signals started, waits for release, reports
// "analyse 10/10" and succeeds.
type gatedETL struct {
	calls   atomic.Int32
	started chan string // trigger of each run
	release chan struct{}
}

func newGatedETL() *gatedETL {
	return &gatedETL{started: make(chan string, 4), release: make(chan struct{})}
}

func (e *gatedETL) Run(ctx context.Context, opts etlRunOptions) (*slapipev1.Run, error) {
	n := e.calls.Add(1)
	id := "run-" + string(rune('0'+n))
	begin := time.Now()
	opts.Progress(etlProgress{RunID: id, Stage: "pull", Done: 0, Total: 10, Elapsed: time.Millisecond})
	select {
	case e.started <- opts.Trigger:
	default: // later scheduled runs are not watched
	}
	select {
	case <-e.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	opts.Progress(etlProgress{RunID: id, Stage: "analyse", Done: 10, Total: 10, Elapsed: 2 * time.Millisecond})
	return &slapipev1.Run{RunId: id, Status: "succeeded", Series: 10, Trigger: opts.Trigger,
		StartedAt: timestamppb.New(begin), FinishedAt: timestamppb.Now(), TotalSeconds: 0.002}, nil
}

// serve runs m on a free loopback port until the test ends and returns a
// connected client.
func serve(t testing.TB, m *Manager) *grpc.ClientConn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case <-m.Ready():
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	conn, err := grpc.NewClient(m.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

func drain(t *testing.T, s grpc.ServerStreamingClient[slapipev1.ETLProgress]) []*slapipev1.ETLProgress {
	t.Helper()
	var out []*slapipev1.ETLProgress
	for {
		p, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, p)
	}
}

func TestRunETLSingleFlight(t *testing.T) {
	etl := newGatedETL()
	m, err := New(Config{Listen: "127.0.0.1:0"}, Deps{Store: &memStore{}, Source: &fakeSource{}, ETL: etl, Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	conn := serve(t, m)
	client := slapipev1.NewSLAManagerClient(conn)
	ctx := context.Background()

	health, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "slapipe.v1.SLAManager"})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, health.Status)

	a, err := client.RunETL(ctx, &slapipev1.RunETLRequest{})
	require.NoError(t, err)
	first, err := a.Recv()
	require.NoError(t, err)
	require.Equal(t, "manual", <-etl.started)
	require.Equal(t, "run-1", first.RunId)
	require.Equal(t, "pull", first.Stage)
	require.Equal(t, int64(10), first.Total)
	require.False(t, first.Attached)

	b, err := client.RunETL(ctx, &slapipev1.RunETLRequest{})
	require.NoError(t, err)
	joined, err := b.Recv()
	require.NoError(t, err)
	require.Equal(t, "run-1", joined.RunId)
	require.True(t, joined.Attached, "the second caller attaches")

	runs, err := client.ListRuns(ctx, &slapipev1.ListRunsRequest{})
	require.NoError(t, err)
	require.Len(t, runs.Runs, 1)
	require.Equal(t, "running", runs.Runs[0].Status, "the run in flight is listed")

	close(etl.release)
	for _, s := range []struct {
		name     string
		stream   grpc.ServerStreamingClient[slapipev1.ETLProgress]
		attached bool
	}{{"starter", a, false}, {"attached", b, true}} {
		msgs := drain(t, s.stream)
		require.Len(t, msgs, 2, "%s: analyse progress, then the summary", s.name)
		require.Equal(t, "analyse", msgs[0].Stage)
		require.Equal(t, int64(10), msgs[0].Done)
		last := msgs[1]
		require.Equal(t, "done", last.Stage)
		require.Equal(t, s.attached, last.Attached)
		require.Equal(t, "run-1", last.Run.RunId, "%s: one run for both", s.name)
		require.Equal(t, "succeeded", last.Run.Status)
	}
	require.Equal(t, int32(1), etl.calls.Load(), "two callers, one run")
	require.Equal(t, 1.0, testutil.ToFloat64(m.met.etlAttached))
	require.Equal(t, 1.0, testutil.ToFloat64(m.met.etlRuns.WithLabelValues("manual", "succeeded")))

	runs, err = client.ListRuns(ctx, &slapipev1.ListRunsRequest{})
	require.NoError(t, err)
	require.Len(t, runs.Runs, 1)
	require.Equal(t, "succeeded", runs.Runs[0].Status, "finished runs are listed before the store has them")

	_, err = drain2(client.RunETL(ctx, &slapipev1.RunETLRequest{Selectors: []string{"up or vector(1)"}}))
	require.Equal(t, codes.InvalidArgument, codeOf(err))
	require.Contains(t, err.Error(), "selectors[0]: invalid selector")
}

// drain2 reads a stream to its end and returns its error.
func drain2(s grpc.ServerStreamingClient[slapipev1.ETLProgress], err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		if _, err := s.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

func TestScheduledRunSharesTheFlight(t *testing.T) {
	etl := newGatedETL()
	m, err := New(Config{Listen: "127.0.0.1:0", ETLInterval: 10 * time.Millisecond},
		Deps{Store: &memStore{}, Source: &fakeSource{}, ETL: etl})
	require.NoError(t, err)
	client := slapipev1.NewSLAManagerClient(serve(t, m))

	require.Equal(t, "schedule", <-etl.started, "the schedule starts a run")
	s, err := client.RunETL(context.Background(), &slapipev1.RunETLRequest{})
	require.NoError(t, err)
	first, err := s.Recv()
	require.NoError(t, err)
	require.True(t, first.Attached, "a manual request joins the scheduled run")
	close(etl.release)
	msgs := drain(t, s)
	last := msgs[len(msgs)-1]
	require.Equal(t, "schedule", last.Run.Trigger)
	require.Equal(t, "run-1", last.Run.RunId)
}

func TestRunETLWithoutETL(t *testing.T) {
	m, err := New(Config{Listen: "127.0.0.1:0"}, Deps{Store: &memStore{}, Source: &fakeSource{}})
	require.NoError(t, err)
	client := slapipev1.NewSLAManagerClient(serve(t, m))
	_, err = drain2(client.RunETL(context.Background(), &slapipev1.RunETLRequest{}))
	require.Equal(t, codes.FailedPrecondition, codeOf(err))
}

func TestScheduleStartsAtOnceAndRecordsViolations(t *testing.T) {
	etl := newGatedETL()
	st := &memStore{}
	// An hour-long interval: only the run at start can happen in this test.
	m, err := New(Config{Listen: "127.0.0.1:0", ETLInterval: time.Hour},
		Deps{Store: st, Source: &fakeSource{}, ETL: etl})
	require.NoError(t, err)
	serve(t, m)

	select {
	case trigger := <-etl.started:
		require.Equal(t, TriggerSchedule, trigger)
	case <-time.After(5 * time.Second):
		t.Fatal("no scheduled run at start")
	}
	close(etl.release)
	require.Eventually(t, func() bool {
		_, err := st.LatestViolations(context.Background())
		return err == nil
	}, 5*time.Second, 10*time.Millisecond, "the scheduled run records a violations snapshot")
	snap, err := st.LatestViolations(context.Background())
	require.NoError(t, err)
	require.NotNil(t, snap.ComputedAt, "snapshot without computed_at")
	require.False(t, snap.ComputedAt.AsTime().IsZero(), "snapshot with a zero computed_at")
	require.False(t, snap.ComputedAt.AsTime().After(time.Now()), "snapshot computed in the future")
	var windows []string
	for _, w := range snap.Windows {
		windows = append(windows, w.Window)
	}
	require.Equal(t, []string{"1h", "3h", "12h"}, windows, "the snapshot covers every window")
}

func TestFirstStartSavesTheDefaultSet(t *testing.T) {
	st := &memStore{}
	m, err := New(Config{Listen: "127.0.0.1:0"}, Deps{Store: st, Source: &fakeSource{}})
	require.NoError(t, err)
	serve(t, m)
	set, err := st.LoadSLA(context.Background())
	require.NoError(t, err, "the default set is stored on first start")
	require.Len(t, set.GetObjectives(), len(DefaultObjectives()))
	require.Equal(t, DefaultObjectives()[0].GetName(), set.GetObjectives()[0].GetName())

	// A second start keeps what is stored instead of saving defaults again.
	_, err = st.SaveSLA(context.Background(), []*slapipev1.Objective{DefaultObjectives()[1]}, "test")
	require.NoError(t, err)
	m2, err := New(Config{Listen: "127.0.0.1:0"}, Deps{Store: st, Source: &fakeSource{}})
	require.NoError(t, err)
	serve(t, m2)
	set, err = st.LoadSLA(context.Background())
	require.NoError(t, err)
	require.Len(t, set.GetObjectives(), 1)
}

// selectorETL records the selectors of each run and holds every run until
// release is closed.
type selectorETL struct {
	gatedETL
	mu   sync.Mutex
	runs [][]string
}

func (e *selectorETL) Run(ctx context.Context, opts etlRunOptions) (*slapipev1.Run, error) {
	e.mu.Lock()
	e.runs = append(e.runs, opts.Selectors)
	e.mu.Unlock()
	return e.gatedETL.Run(ctx, opts)
}

func TestRunETLWaitsForARunOfOtherSelectors(t *testing.T) {
	etl := &selectorETL{gatedETL: *newGatedETL()}
	m, err := New(Config{Listen: "127.0.0.1:0"}, Deps{Store: &memStore{}, Source: &fakeSource{}, ETL: etl})
	require.NoError(t, err)
	client := slapipev1.NewSLAManagerClient(serve(t, m))
	ctx := context.Background()
	load, mem := []string{"node_load1", "node_load5"}, []string{"node_memory_MemFree_bytes"}

	a, err := client.RunETL(ctx, &slapipev1.RunETLRequest{Selectors: load})
	require.NoError(t, err)
	first, err := a.Recv()
	require.NoError(t, err)
	require.False(t, first.Attached)
	<-etl.started

	// A subset of the run in flight joins it.
	b, err := client.RunETL(ctx, &slapipev1.RunETLRequest{Selectors: load[1:]})
	require.NoError(t, err)
	joined, err := b.Recv()
	require.NoError(t, err)
	require.True(t, joined.Attached)
	require.Equal(t, first.RunId, joined.RunId)

	// Other selectors wait for it and get their own run.
	c, err := client.RunETL(ctx, &slapipev1.RunETLRequest{Selectors: mem})
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond) // give a wrong attachment the chance to happen
	require.Equal(t, int32(1), etl.calls.Load(), "the second run waits for the first")
	close(etl.release)

	for _, s := range []grpc.ServerStreamingClient[slapipev1.ETLProgress]{a, b} {
		msgs := drain(t, s)
		require.Equal(t, first.RunId, msgs[len(msgs)-1].Run.RunId)
	}
	msgs := drain(t, c)
	last := msgs[len(msgs)-1]
	require.Equal(t, "done", last.Stage)
	require.False(t, last.Attached)
	require.NotEqual(t, first.RunId, last.Run.RunId, "a run of its own")
	for _, p := range msgs {
		require.Equal(t, last.Run.RunId, p.RunId, "no progress of the other run")
	}
	etl.mu.Lock()
	defer etl.mu.Unlock()
	require.Equal(t, [][]string{load, mem}, etl.runs)
}

func TestScheduledRunsAfterAQueuedNarrowerRun(t *testing.T) {
	etl := &selectorETL{gatedETL: *newGatedETL()}
	close(etl.release)
	m, err := New(Config{Listen: "127.0.0.1:0", WatchList: []string{"node_load1", "node_load5"}},
		Deps{Store: &memStore{}, Source: &fakeSource{}, ETL: etl})
	require.NoError(t, err)
	ctx := context.Background()
	// What runLoop sees when a manual request of one selector joined just
	// before the tick: that flight waits in the queue. (runLoop is not
	// running: the test plays its part by calling scheduled.)
	m.runs.mu.Lock()
	m.runs.loopOn = true
	m.runs.mu.Unlock()
	narrow, attached, busy, err := m.runs.join([]string{"node_memory_MemFree_bytes"}, TriggerManual, time.Now())
	require.NoError(t, err)
	require.False(t, attached)
	require.Nil(t, busy)

	m.scheduled(ctx)

	select {
	case <-narrow.done:
	default:
		t.Fatal("scheduled returned without running the queued flight")
	}
	require.NotNil(t, narrow.run)
	require.Equal(t, TriggerManual, narrow.run.Trigger)
	etl.mu.Lock()
	defer etl.mu.Unlock()
	require.Len(t, etl.runs, 2, "the queued run, then the scheduled one")
	require.Equal(t, []string{"node_memory_MemFree_bytes"}, etl.runs[0])
	require.Subset(t, etl.runs[1], []string{"node_load1", "node_load5"}, "the scheduled run has the default selection")
	require.Equal(t, 1.0, testutil.ToFloat64(m.met.etlRuns.WithLabelValues(TriggerSchedule, "succeeded")))
}
