package slamanager

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Triggers recorded on runs.
const (
	TriggerManual   = "manual"
	TriggerSchedule = "schedule"
)

// stageDone is the stage of the one message that ends a RunETL stream (and
// of the ETL's last progress report).
const stageDone = "done"

// flight is one ETL run in progress; every RunETL caller during it
// subscribes to the same flight.
type flight struct {
	selectors []string
	trigger   string
	started   time.Time

	mu     sync.Mutex
	last   *slapipev1.ETLProgress // newest progress
	subs   map[chan struct{}]struct{}
	run    *slapipev1.Run
	err    error
	done   chan struct{}
	closed bool
}

func newFlight(selectors []string, trigger string, now time.Time) *flight {
	return &flight{selectors: selectors, trigger: trigger, started: now,
		subs: map[chan struct{}]struct{}{}, done: make(chan struct{})}
}

// progress records p and wakes every subscriber without ever blocking the
// ETL: a slow subscriber skips to the newest progress.
func (f *flight) progress(p etlProgress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = &slapipev1.ETLProgress{RunId: p.RunID, Stage: p.Stage, Done: int64(p.Done), Total: int64(p.Total), ElapsedSeconds: p.Elapsed.Seconds()}
	for ch := range f.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// subscribe returns a channel signalled on each progress; a subscriber
// joining mid-run is signalled at once with the current progress.
func (f *flight) subscribe() chan struct{} {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	f.subs[ch] = struct{}{}
	if f.last != nil {
		ch <- struct{}{}
	}
	f.mu.Unlock()
	return ch
}

func (f *flight) unsubscribe(ch chan struct{}) {
	f.mu.Lock()
	delete(f.subs, ch)
	f.mu.Unlock()
}

func (f *flight) latest() *slapipev1.ETLProgress {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		return nil
	}
	return proto.Clone(f.last).(*slapipev1.ETLProgress)
}

func (f *flight) finish(run *slapipev1.Run, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.run, f.err, f.closed = run, err, true
	close(f.done)
}

// running is the in-flight run as a Run record (nil before its id is known).
func (f *flight) running() *slapipev1.Run {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil || f.last.GetRunId() == "" {
		return nil
	}
	return &slapipev1.Run{RunId: f.last.GetRunId(), StartedAt: timestamppb.New(f.started), Status: "running", Trigger: f.trigger}
}

// runs is the single-flight state: at most one flight at a time, executed by
// runLoop.
type runs struct {
	mu      sync.Mutex
	current *flight
	loopOn  bool
	queue   chan *flight // capacity 1: only one flight exists at a time
	recent  []*slapipev1.Run
}

func newRuns() *runs { return &runs{queue: make(chan *flight, 1)} }

// join attaches to the flight in progress when it analyses every one of
// selectors (attached=true), or starts a new flight when none is in
// progress. When the flight in progress analyses other selectors, it
// returns that flight as busy: the caller waits for it to end and joins
// again, so that a request is never answered with a run that left out what
// it asked for.
func (r *runs) join(selectors []string, trigger string, now time.Time) (f *flight, attached bool, busy *flight, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current != nil {
		if r.current.covers(selectors) {
			return r.current, true, nil, nil
		}
		return nil, false, r.current, nil
	}
	if !r.loopOn {
		return nil, false, nil, errors.New("the etl runner is not running")
	}
	f = newFlight(selectors, trigger, now)
	r.current = f
	r.queue <- f
	return f, false, nil, nil
}

// covers reports whether the flight analyses every selector of want.
func (f *flight) covers(want []string) bool {
	for _, s := range want {
		if !slices.Contains(f.selectors, s) {
			return false
		}
	}
	return true
}

// RunETL starts a run (or attaches to the one in flight when that run
// covers the selectors, see join) and streams its progress; the last
// message has stage "done" and the run's summary.
func (m *Manager) RunETL(req *slapipev1.RunETLRequest, stream slapipev1.SLAManager_RunETLServer) error {
	if m.etl == nil {
		return status.Error(codes.FailedPrecondition, "no etl configured")
	}
	for i, s := range req.GetSelectors() {
		if _, _, err := promsource.ParseSelector(s); err != nil {
			return status.Errorf(codes.InvalidArgument, "selectors[%d]: %v", i, err)
		}
	}
	ctx := stream.Context()
	selectors := req.GetSelectors()
	if len(selectors) == 0 {
		set, err := m.currentSet(ctx)
		if err != nil {
			return status.Error(codes.Unavailable, err.Error())
		}
		selectors = m.defaultSelectors(set)
	}
	var f *flight
	var attached bool
	for f == nil {
		var busy *flight
		var err error
		f, attached, busy, err = m.runs.join(selectors, TriggerManual, m.now())
		if err != nil {
			return status.Error(codes.Unavailable, err.Error())
		}
		if busy != nil {
			select {
			case <-busy.done:
			case <-ctx.Done():
				return status.FromContextError(ctx.Err()).Err()
			}
		}
	}
	if attached {
		m.met.etlAttached.Inc()
	}
	ch := f.subscribe()
	defer f.unsubscribe(ch)
	var sent *slapipev1.ETLProgress
	send := func(p *slapipev1.ETLProgress) error {
		// The ETL's own "done" is not forwarded: finalMessage sends the one
		// "done", with the run, that ends the stream.
		if p == nil || p.GetStage() == stageDone || proto.Equal(p, sent) {
			return nil
		}
		sent = p
		out := proto.Clone(p).(*slapipev1.ETLProgress)
		out.Attached = attached
		return stream.Send(out)
	}
	for {
		select {
		case <-ch:
			if err := send(f.latest()); err != nil {
				return err
			}
		case <-f.done:
			if err := send(f.latest()); err != nil {
				return err
			}
			return finalMessage(f, attached, stream)
		case <-ctx.Done():
			// The run goes on for the others; this caller just leaves.
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

func finalMessage(f *flight, attached bool, stream slapipev1.SLAManager_RunETLServer) error {
	if errors.Is(f.err, etl.ErrLimit) || errors.Is(f.err, etl.ErrInvalidSelector) {
		return status.Errorf(codes.InvalidArgument, "etl run refused: %v", f.err)
	}
	if f.run == nil {
		return status.Errorf(codes.Unavailable, "etl run failed: %v", f.err)
	}
	// The last progress is the ETL's own "done" when it reported one, so
	// Done/Total are its final counts.
	last := f.latest()
	msg := &slapipev1.ETLProgress{RunId: f.run.GetRunId(), Stage: stageDone, Run: f.run, Attached: attached,
		ElapsedSeconds: f.run.GetTotalSeconds()}
	if last != nil {
		msg.Done, msg.Total = last.GetDone(), last.GetTotal()
	}
	return stream.Send(msg)
}

// defaultSelectors are the watch list plus the SLA set's selectors, each once.
func (m *Manager) defaultSelectors(set *slapipev1.SLASet) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range m.cfg.WatchList {
		if !seen[s] {
			seen[s], out = true, append(out, s)
		}
	}
	for _, o := range set.GetObjectives() {
		if s := o.GetSelector(); !seen[s] {
			seen[s], out = true, append(out, s)
		}
	}
	return out
}

// runLoop executes flights one at a time and starts scheduled ones every
// ETLInterval; it owns every ETL run and returns when ctx is done.
//
// Run turns runs.loopOn on before starting it (so RunETL callers are
// accepted before the port opens); runLoop turns it off when it returns.
func (m *Manager) runLoop(ctx context.Context) error {
	defer func() {
		m.runs.mu.Lock()
		m.runs.loopOn = false
		select {
		case f := <-m.runs.queue:
			f.finish(nil, errors.New("slamanager shutting down"))
			m.runs.current = nil
		default:
		}
		m.runs.mu.Unlock()
	}()

	var tick <-chan time.Time
	var ticker *time.Ticker
	// With a schedule, the first run starts at once: a fresh deployment has
	// answers (and Grafana has data) without waiting a whole interval.
	start := make(chan time.Time, 1)
	if m.cfg.ETLInterval > 0 {
		ticker = time.NewTicker(m.cfg.ETLInterval)
		defer ticker.Stop()
		tick = ticker.C
		start <- m.now()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case f := <-m.runs.queue:
			// A manual run leaves the schedule as it is: resetting the
			// ticker here would let frequent manual runs of a few
			// selectors postpone the default selection for good.
			m.execute(ctx, f)
		case <-start:
			m.scheduled(ctx)
			ticker.Reset(m.cfg.ETLInterval)
		case <-tick:
			m.scheduled(ctx)
			// A scheduled run that took longer than the interval does not
			// trigger another one right away.
			ticker.Reset(m.cfg.ETLInterval)
		}
	}
}

// scheduled runs the default selection, unless a run in flight covers it.
// It runs on runLoop, the only executor of flights, so a flight that joined
// before it is still in the queue: one of other selectors (a manual run of
// a few) is executed first, then the scheduled one.
func (m *Manager) scheduled(ctx context.Context) {
	set, err := m.currentSet(ctx)
	if err != nil {
		m.log.Warn("scheduled etl run skipped", "err", err)
		return
	}
	for range 2 {
		_, attached, busy, err := m.runs.join(m.defaultSelectors(set), TriggerSchedule, m.now())
		if err != nil || attached {
			return
		}
		m.execute(ctx, <-m.runs.queue) // busy, or the scheduled flight
		if busy == nil {
			return
		}
	}
}

// execute runs one flight to its end.
func (m *Manager) execute(ctx context.Context, f *flight) {
	m.met.etlInFlight.Set(1)
	defer m.met.etlInFlight.Set(0)
	m.log.Info("etl run starting", "trigger", f.trigger, "selectors", len(f.selectors))
	run, err := m.etl.Run(ctx, etlRunOptions{Selectors: f.selectors, Trigger: f.trigger, Progress: f.progress})
	state := etl.StatusFailed
	if err == nil && run != nil && (run.GetStatus() == etl.StatusSucceeded || run.GetStatus() == etl.StatusEmpty) {
		state = run.GetStatus()
	}
	m.met.etlRuns.WithLabelValues(f.trigger, state).Inc()
	if err != nil {
		m.log.Warn("etl run failed", "trigger", f.trigger, "err", err)
		if run != nil && run.GetError() == "" {
			run.Error = err.Error()
		}
	} else {
		m.log.Info("etl run finished", "run_id", run.GetRunId(), "status", run.GetStatus(), "series", run.GetSeries(), "seconds", run.GetTotalSeconds())
	}
	m.runs.mu.Lock()
	m.runs.current = nil
	if run != nil {
		m.runs.recent = append([]*slapipev1.Run{run}, m.runs.recent...)
		if len(m.runs.recent) > maxRecentRuns {
			m.runs.recent = m.runs.recent[:maxRecentRuns]
		}
	}
	m.runs.mu.Unlock()
	f.finish(run, err)
	m.requestEvaluation()
	if f.trigger == TriggerSchedule && state == etl.StatusSucceeded {
		// Scheduled runs also record the violations, so the stored history
		// (Grafana's "violations over time") advances with the schedule and
		// not only when a client asks.
		if err := m.recordViolations(ctx); err != nil {
			m.log.Warn("recording violations after the scheduled run", "err", err)
		}
	}
}

// recordViolations computes (and so stores) the violations of the current
// set.
func (m *Manager) recordViolations(ctx context.Context) error {
	set, err := m.currentSet(ctx)
	if err != nil {
		return err
	}
	_, err = m.violations(ctx, set)
	return err
}

const maxRecentRuns = 20

// ListRuns returns the newest runs first: the stored history, with the run
// in flight and runs the store has not received yet on top.
func (m *Manager) ListRuns(ctx context.Context, req *slapipev1.ListRunsRequest) (*slapipev1.ListRunsResponse, error) {
	limit := int(req.GetLimit())
	switch {
	case limit < 0 || limit > 1000:
		return nil, status.Errorf(codes.InvalidArgument, "limit: must be between 0 and 1000 (got %d)", limit)
	case limit == 0:
		limit = 20
	}
	runs, err := m.listRuns(ctx, limit)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &slapipev1.ListRunsResponse{Runs: runs}, nil
}

func (m *Manager) listRuns(ctx context.Context, limit int) ([]*slapipev1.Run, error) {
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	stored, err := m.store.ListRuns(sctx, limit)
	m.runs.mu.Lock()
	var extra []*slapipev1.Run
	if f := m.runs.current; f != nil {
		if r := f.running(); r != nil {
			extra = append(extra, r)
		}
	}
	extra = append(extra, m.runs.recent...)
	m.runs.mu.Unlock()
	if err != nil && len(extra) == 0 {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	byID := map[string]bool{}
	var out []*slapipev1.Run
	for _, r := range stored {
		byID[r.GetRunId()] = true
	}
	for _, r := range extra {
		if !byID[r.GetRunId()] {
			byID[r.GetRunId()] = true
			out = append(out, r)
		}
	}
	out = append(out, stored...)
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].GetStartedAt().AsTime().After(out[j].GetStartedAt().AsTime())
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
