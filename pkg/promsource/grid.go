package promsource

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// grid is the set of multiples of step in [start, end], plus one lead point
// before them from which counters take their first rate.
type grid struct {
	startMs, stepMs int64
	n               int
	step            time.Duration
}

// ErrBadRange is wrapped by the errors for an empty or oversized grid.
var ErrBadRange = errors.New("bad time range")

func newGrid(start, end time.Time, step time.Duration) (grid, error) {
	stepMs := step.Milliseconds()
	if stepMs <= 0 {
		return grid{}, fmt.Errorf("%w: step %s must be at least 1ms", ErrBadRange, step)
	}
	first := ceilDiv(start.UnixMilli(), stepMs) * stepMs
	last := floorDiv(end.UnixMilli(), stepMs) * stepMs
	if last < first {
		return grid{}, fmt.Errorf("%w: no multiple of %s between %s and %s", ErrBadRange, step, start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	n := (last-first)/stepMs + 1
	if n+1 > MaxPoints {
		return grid{}, fmt.Errorf("%w: %d points from %s to %s at %s exceed Prometheus' %d", ErrBadRange, n+1, start.Format(time.RFC3339), end.Format(time.RFC3339), step, MaxPoints)
	}
	return grid{startMs: first, stepMs: stepMs, n: int(n), step: step}, nil
}

func (g grid) lead() time.Time { return time.UnixMilli(g.startMs - g.stepMs) }
func (g grid) end() time.Time  { return time.UnixMilli(g.startMs + int64(g.n-1)*g.stepMs) }

// series places rs's samples on the grid (lead point first), transforms
// them and drops the lead point.
func (g grid) series(q Query, rs *rawSeries) Series {
	vals := make([]float64, g.n+1)
	for i := range vals {
		vals[i] = math.NaN()
	}
	leadMs := g.startMs - g.stepMs
	for i, t := range rs.ts {
		// query_range answers at exact grid times; rounding only guards
		// against a server that does not.
		idx := floorDiv(t-leadMs+g.stepMs/2, g.stepMs)
		if idx >= 0 && idx <= int64(g.n) {
			vals[idx] = rs.vals[i]
		}
	}
	transform := TransformRaw
	if q.Rate {
		rateInPlace(vals, g.step)
		transform = TransformRate
	}
	metric := rs.metric[labels.MetricName]
	if metric == "" {
		metric = q.Metric
	}
	delete(rs.metric, labels.MetricName)
	return Series{
		ID:        SeriesID(metric, rs.metric),
		Metric:    metric,
		Labels:    rs.metric,
		Type:      q.Type,
		Transform: transform,
		Start:     time.UnixMilli(g.startMs),
		Step:      g.step,
		Values:    vals[1:],
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }
