package testenv

import (
	"log/slog"
	"sync"
	"testing"
)

// Logger returns a logger that writes warnings and errors to t's log until
// t finishes and drops them afterwards: components whose goroutines outlive
// the test by a moment would otherwise make testing panic ("Log in
// goroutine after Test... has completed").
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testWriter holds mu while it logs, so that once stop has returned no
// write is still under way and none starts.
type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Logf("%s", b)
	}
	return len(b), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}
