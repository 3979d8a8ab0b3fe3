package etl

import (
	"sync"
	"time"
)

// progressEvery is the least time between two reports within a stage.
const progressEvery = 100 * time.Millisecond

// reporter throttles and serialises calls to a Progress callback.
type reporter struct {
	fn      func(Progress)
	runID   string
	started time.Time
	mu      sync.Mutex
	last    time.Time
	stage   string
	done    int
}

// report calls the callback when force is set (stage start and end) or
// when progressEvery has passed since the last call. Done never goes back
// within a stage, though workers may finish out of order.
func (r *reporter) report(stage string, done, total int, force bool) {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if stage == r.stage && done < r.done {
		return
	}
	if !force && now.Sub(r.last) < progressEvery {
		return
	}
	r.last, r.stage, r.done = now, stage, done
	r.fn(Progress{RunID: r.runID, Stage: stage, Done: done, Total: total, Elapsed: now.Sub(r.started)})
}
