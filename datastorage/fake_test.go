package datastorage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// errStoreDown is what the fake store answers while it is "down".
var errStoreDown = errors.New("store down")

// fakeWriter records successful writes like an idempotent store would keep
// them, and every write call.
type fakeWriter struct {
	mu sync.Mutex
	// writes holds every analysis of every successful WriteAnalyses call,
	// duplicates included, in call order.
	writes []*slapipev1.SeriesAnalysis
	// batches counts successful WriteAnalyses calls.
	batches int
	runs    []*slapipev1.Run
	// down makes every call fail while set; fails counts those failures.
	down  atomic.Bool
	fails int
	// refuse is a series id the fake store refuses as invalid, failing any
	// batch that holds it.
	refuse string
	// poison is a series id whose batches fail with poisonErr.
	poison    string
	poisonErr error
	// poisonCalls counts the calls that held poison alone.
	poisonCalls int
	// before, if set, runs at the start of each WriteAnalyses call with the
	// call's number (1-based) and may replace the outcome with an error.
	before func(ctx context.Context, call int) error
	// after, if set, runs after each successful WriteAnalyses call.
	after func(batches int)
	calls int
}

func (w *fakeWriter) WriteAnalyses(ctx context.Context, msgs []*slapipev1.SeriesAnalysis) error {
	w.mu.Lock()
	w.calls++
	call, before := w.calls, w.before
	w.mu.Unlock()
	if before != nil {
		if err := before(ctx, call); err != nil {
			return err
		}
	}
	w.mu.Lock()
	if w.down.Load() {
		w.fails++
		w.mu.Unlock()
		return errStoreDown
	}
	for _, m := range msgs {
		if m.GetSeriesId() == w.refuse {
			w.mu.Unlock()
			return fmt.Errorf("series %s: %w: refused by the fake", w.refuse, store.ErrInvalidArgument)
		}
		if w.poison != "" && m.GetSeriesId() == w.poison {
			if len(msgs) == 1 {
				w.poisonCalls++
			}
			w.mu.Unlock()
			return w.poisonErr
		}
	}
	for _, m := range msgs {
		w.writes = append(w.writes, proto.Clone(m).(*slapipev1.SeriesAnalysis))
	}
	w.batches++
	n, after := w.batches, w.after
	w.mu.Unlock()
	if after != nil {
		after(n)
	}
	return nil
}

func (w *fakeWriter) UpsertRun(_ context.Context, r *slapipev1.Run) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runs = append(w.runs, proto.Clone(r).(*slapipev1.Run))
	return nil
}

// keys returns how many times each (run_id, series_id) was written.
func (w *fakeWriter) keys() map[analysisKey]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[analysisKey]int{}
	for _, m := range w.writes {
		out[analysisKey{m.GetRunId(), m.GetSeriesId()}]++
	}
	return out
}

// latest is the stored state: the last write of each key.
func (w *fakeWriter) latest() map[analysisKey]*slapipev1.SeriesAnalysis {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[analysisKey]*slapipev1.SeriesAnalysis{}
	for _, m := range w.writes {
		out[analysisKey{m.GetRunId(), m.GetSeriesId()}] = m
	}
	return out
}

func (w *fakeWriter) failures() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fails
}

func (w *fakeWriter) runCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.runs)
}

// testLogger logs warnings and errors to the test log, and nothing once
// the test has finished.
func testLogger(t testing.TB) *slog.Logger { return testenv.Logger(t) }

// pingingWriter is a fakeWriter that answers pings while ping is nil and
// fails them with ping otherwise.
type pingingWriter struct {
	*fakeWriter
	mu   sync.Mutex
	ping error
}

func (p *pingingWriter) Ping(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ping
}

func (p *pingingWriter) setPing(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ping = err
}
