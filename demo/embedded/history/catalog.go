package history

import (
	"math"
	"math/rand/v2"
)

// Construction constants: the shapes the generated history is built from,
// and so what the demo's SLA answers follow from (the dips breach a 256 MiB
// MemFree objective, the root filesystem's trend reaches 1 GiB soon after
// End). They are exported to document those answers; this package's tests
// check the history against them.
const (
	// MemFreeDipLevel is the centre of the MemFree dips; every dip sample is
	// within ±40 MiB of it, so always below the 256 MiB objective.
	MemFreeDipLevel = 200 * MiB
	// FSSlope is the fall of node_filesystem_avail_bytes{mountpoint="/"}
	// in bytes per second.
	FSSlope = 0.2 * MiB
	// FSCrossingAfterEnd is when, after End, the root filesystem's trend
	// reaches 1 GiB; it then keeps falling until the cleanup at
	// FSCleanupAfterEnd frees the space again.
	FSCrossingAfterEnd = 150.0 // seconds
	FSCleanupAfterEnd  = 15 * 60.0
	// SeasonLong and SeasonShort are the seasonal periods in seconds (720 and
	// 360 samples at 5 s).
	SeasonLong  = 3600.0
	SeasonShort = 1800.0
)

// memFreeDipCycle spaces the recent MemFree dips; memFreeDipDurations are
// the durations of consecutive dips, in seconds.
var memFreeDipCycle = 20 * 60.0

var memFreeDipDurations = []float64{90, 150, 60}

// memFreeFirstDip is when, relative to End, the recurring dips start; the
// dips at -55, -35 and -15 min hold 18+30+12 = 60 samples at 5 s.
const memFreeFirstDip = -55 * 60.0

// inMemFreeDip reports whether rel seconds after End falls in a dip. There
// is no older episode on purpose: a dip hours before the others makes the
// analysis' season detection pick a harmonic of their distance instead of
// the hourly season.
func inMemFreeDip(rel float64) bool {
	if rel < memFreeFirstDip {
		return false
	}
	since := rel - memFreeFirstDip
	k := int(math.Floor(since / memFreeDipCycle))
	phase := since - float64(k)*memFreeDipCycle
	return phase < memFreeDipDurations[k%len(memFreeDipDurations)]
}

// fsRootTrend is the noise-free free space of "/" rel seconds after End: a
// sawtooth falling at FSSlope that jumps back up (a cleanup) at the start of
// the history and again FSCleanupAfterEnd after End, so live points stay
// positive however long the demo runs.
func fsRootTrend(rel, rangeSec float64) float64 {
	cycle := rangeSec + FSCleanupAfterEnd
	top := GiB + FSSlope*(rangeSec+FSCrossingAfterEnd)
	since := math.Mod(rel+rangeSec, cycle)
	if since < 0 {
		since += cycle
	}
	return top - FSSlope*since
}

// generated is one series with its sampling function; sample is called once
// per timestamp, in order, with the Unix time in seconds.
type generated struct {
	metric string
	labels map[string]string
	typ    string
	help   string
	sample func(sec float64) float64
}

// noise is a per-series deterministic noise source.
type noise struct {
	r  *rand.Rand
	ar float64
}

func (n *noise) normal(sigma float64) float64 { return n.r.NormFloat64() * sigma }

// autoreg returns AR(1) noise with coefficient phi and stationary standard
// deviation sigma.
func (n *noise) autoreg(phi, sigma float64) float64 {
	n.ar = phi*n.ar + n.r.NormFloat64()*sigma*math.Sqrt(1-phi*phi)
	return n.ar
}

// wave is a sine of the given period in seconds, phase in cycles, aligned to
// Unix time so the season continues seamlessly into live points.
func wave(sec, period, phase float64) float64 {
	return math.Sin(2 * math.Pi * (sec/period + phase))
}

func clamp(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }

// builder accumulates the catalog.
type builder struct {
	g   *Generator
	out []*generated
}

func (b *builder) labels(kv ...string) map[string]string {
	m := map[string]string{"instance": b.g.opts.Instance, "job": b.g.opts.Job}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func (b *builder) noise() *noise {
	return &noise{r: rand.New(rand.NewPCG(b.g.opts.Seed, uint64(len(b.out))+1))}
}

// gauge adds a gauge whose value is f(sec, seconds relative to End, noise).
func (b *builder) gauge(metric, help string, labels map[string]string, f func(sec, rel float64, n *noise) float64) {
	n := b.noise()
	end := float64(b.g.end.UnixMilli()) / 1000
	b.out = append(b.out, &generated{metric: metric, labels: labels, typ: Gauge, help: help,
		sample: func(sec float64) float64 { return f(sec, sec-end, n) }})
}

// counter adds a counter starting at initial that grows by rate·step per
// sample; rate is clamped at zero so the counter never decreases.
func (b *builder) counter(metric, help string, labels map[string]string, initial float64, rate func(sec float64, n *noise) float64) {
	n := b.noise()
	step := b.g.step
	v, started := initial, false
	b.out = append(b.out, &generated{metric: metric, labels: labels, typ: Counter, help: help,
		sample: func(sec float64) float64 {
			r := math.Max(rate(sec, n), 0)
			if started {
				v += r * step
			}
			started = true
			return v
		}})
}
