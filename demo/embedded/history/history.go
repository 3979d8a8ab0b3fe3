// Package history generates the demo's node_exporter-shaped metrics: 12 hours
// at a 5 s step ending now, then live points as time goes on. The series are
// built to the default SLA set (see docs/cli.md and the arch notes) so the
// demo report has something to say: node_memory_MemFree_bytes dips below
// 256 MiB in three short episodes during the last hour (and every 20 min in
// live points), node_filesystem_avail_bytes{mountpoint="/"} falls steadily and
// crosses 1 GiB about 150 s after the history ends, and the other series are
// seasonal (periods of 1 h and 30 min, i.e. 720 and 360 samples) or trending
// without leaving their objectives. Everything is a pure function of
// Options: the same End and Seed give the same values.
package history

import (
	"errors"
	"fmt"
	"maps"
	"time"
)

// Defaults of Options.
const (
	DefaultRange    = 12 * time.Hour
	DefaultStep     = 5 * time.Second
	DefaultInstance = "demo:9100"
	DefaultJob      = "node"
)

// Metric types, as Prometheus metadata spells them.
const (
	Gauge   = "gauge"
	Counter = "counter"
)

// MiB and GiB are byte units used by the construction.
const (
	MiB = 1 << 20
	GiB = 1 << 30
)

// Series is a run of samples of one time series, oldest first.
type Series struct {
	// Metric is the metric name (no __name__ in Labels).
	Metric string
	// Labels include instance and job.
	Labels map[string]string
	// Type is Gauge or Counter; Help is node_exporter's help text.
	Type, Help string
	// Timestamps are Unix milliseconds, strictly increasing, one per Values.
	Timestamps []int64
	Values     []float64
}

// Options configures New. The zero value is 12 h at 5 s ending at the current
// time truncated to the step, for instance "demo:9100", job "node".
type Options struct {
	// End is the time of the last history sample; it is truncated to Step.
	// Zero means now.
	End   time.Time
	Range time.Duration
	Step  time.Duration
	// Instance and Job are the values of the instance and job labels.
	Instance, Job string
	// Seed selects the noise; series differ from one another for any seed.
	Seed uint64
}

// Generator yields the history and then live points. It is not safe for
// concurrent use.
type Generator struct {
	opts   Options
	start  time.Time
	end    time.Time
	step   float64 // seconds
	series []*generated
	next   int64 // index of the next sample to produce (0 = start)
}

// New validates opts and prepares a generator positioned at the start of the
// history.
func New(opts Options) (*Generator, error) {
	if opts.Range == 0 {
		opts.Range = DefaultRange
	}
	if opts.Step == 0 {
		opts.Step = DefaultStep
	}
	if opts.Step < time.Millisecond || opts.Range < opts.Step {
		return nil, fmt.Errorf("history: step %s and range %s: need 1ms <= step <= range", opts.Step, opts.Range)
	}
	if opts.Range%opts.Step != 0 {
		return nil, fmt.Errorf("history: range %s is not a multiple of step %s", opts.Range, opts.Step)
	}
	if opts.Instance == "" {
		opts.Instance = DefaultInstance
	}
	if opts.Job == "" {
		opts.Job = DefaultJob
	}
	if opts.End.IsZero() {
		opts.End = time.Now()
	}
	opts.End = opts.End.Truncate(opts.Step)
	g := &Generator{
		opts:  opts,
		end:   opts.End,
		start: opts.End.Add(-opts.Range),
		step:  opts.Step.Seconds(),
	}
	g.series = catalog(g)
	if len(g.series) == 0 {
		return nil, errors.New("history: empty catalog")
	}
	return g, nil
}

// End is the time of the last history sample.
func (g *Generator) End() time.Time { return g.end }

// Step is the sampling step.
func (g *Generator) Step() time.Duration { return g.opts.Step }

// History returns the samples from End-Range to End inclusive
// (Range/Step+1 per series). It must be called before Continue; a second call
// returns nil.
func (g *Generator) History() []Series {
	if g.next != 0 {
		return nil
	}
	return g.Continue(g.end)
}

// Continue returns every sample after the last one produced up to t
// inclusive, per series; the series are nil-free but may hold no samples when
// t is before the next step. Counters continue where they were.
func (g *Generator) Continue(t time.Time) []Series {
	last := int64(t.Sub(g.start) / g.opts.Step)
	n := max(last-g.next+1, 0)
	out := make([]Series, len(g.series))
	for i, s := range g.series {
		out[i] = Series{
			Metric:     s.metric,
			Labels:     maps.Clone(s.labels),
			Type:       s.typ,
			Help:       s.help,
			Timestamps: make([]int64, 0, n),
			Values:     make([]float64, 0, n),
		}
	}
	for k := g.next; k <= last; k++ {
		ts := g.start.Add(time.Duration(k) * g.opts.Step)
		sec := float64(ts.UnixMilli()) / 1000
		for i, s := range g.series {
			out[i].Timestamps = append(out[i].Timestamps, ts.UnixMilli())
			out[i].Values = append(out[i].Values, s.sample(sec))
		}
	}
	if last >= g.next {
		g.next = last + 1
	}
	return out
}
