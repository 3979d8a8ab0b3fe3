// Package retention keeps the store from growing without bound: at start
// and then every Interval it deletes the runs older than Retention with
// their analyses and child rows (never the latest complete run), the
// violations and predictions history older than Retention, and the SLA set
// versions beyond the newest KeepVersions. Deletes go in small batches, each
// its own short transaction with a pause between them, so the writers
// (datastorage, the SLA manager) keep their pace while a week of runs goes.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slapipe/slapipe/internal/promreg"
	"github.com/slapipe/slapipe/pkg/store"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultRetention    = 7 * 24 * time.Hour
	DefaultKeepVersions = 100
	DefaultInterval     = 10 * time.Minute
	// DefaultBatch runs, versions or history answers per transaction (see
	// store.Prune): a few milliseconds of locks.
	DefaultBatch = 200
	DefaultPause = 20 * time.Millisecond
	// MinRetention keeps what the Grafana dashboards show (their longest
	// default range is 12 h) whatever the setting.
	MinRetention = 24 * time.Hour
)

// Config says what to keep. Retention < 0 disables the deletion of runs
// and history; KeepVersions < 0 keeps every SLA version.
type Config struct {
	Retention    time.Duration
	KeepVersions int
	Interval     time.Duration
	Batch        int
	Pause        time.Duration
}

// Store is what retention needs; *store.Store implements it.
type Store interface {
	Prune(ctx context.Context, cutoff time.Time, keepVersions, batch int, pause time.Duration) (store.Pruned, error)
}

// Deps are the process-wide collaborators.
type Deps struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Retention runs the passes. Create it with New.
type Retention struct {
	cfg     Config
	st      Store
	logger  *slog.Logger
	now     func() time.Time
	deleted *prometheus.CounterVec
	errs    prometheus.Counter
	last    prometheus.Gauge
}

// New checks cfg (applying defaults) and returns a Retention over st.
func New(cfg Config, st Store, deps Deps) (*Retention, error) {
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.KeepVersions == 0 {
		cfg.KeepVersions = DefaultKeepVersions
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Pause == 0 {
		cfg.Pause = DefaultPause
	}
	switch {
	case st == nil:
		return nil, errors.New("retention: store is nil")
	case cfg.Retention > 0 && cfg.Retention < MinRetention:
		return nil, fmt.Errorf("retention: must be at least %s, what the dashboards show, or negative to keep everything (got %s)",
			MinRetention, cfg.Retention)
	case cfg.Interval < 0 || cfg.Batch < 1 || cfg.Pause < 0:
		return nil, fmt.Errorf("retention: interval (%s) and pause (%s) must not be negative, batch (%d) must be positive",
			cfg.Interval, cfg.Pause, cfg.Batch)
	}
	r := &Retention{cfg: cfg, st: st, logger: deps.Logger, now: deps.Now}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	r.logger = r.logger.With("component", "retention")
	if r.now == nil {
		r.now = time.Now
	}
	set := promreg.NewSet(deps.Registerer)
	r.deleted = promreg.Add(set, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "slapipe_retention_rows_deleted_total",
		Help: "Rows deleted by retention, by table (analyses' child rows go with them and are not counted apart).",
	}, []string{"table"}))
	r.errs = promreg.Add(set, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "slapipe_retention_errors_total",
		Help: "Retention passes that failed (the next pass starts over).",
	}))
	r.last = promreg.Add(set, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "slapipe_retention_last_success_timestamp_seconds",
		Help: "When the last complete retention pass ended.",
	}))
	if err := set.Err(); err != nil {
		return nil, fmt.Errorf("registering retention metrics: %w", err)
	}
	for _, t := range []string{"analyses", "runs", "sla_violations", "sla_predictions", "sla_sets"} {
		r.deleted.WithLabelValues(t)
	}
	return r, nil
}

// Run makes a pass at once and then every Interval until ctx is done; a
// failed pass is logged and counted, and the next one starts over. It
// returns nil when ctx is done.
func (r *Retention) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if err := r.Pass(ctx); err != nil && ctx.Err() == nil {
			r.errs.Inc()
			r.logger.Warn("retention pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass deletes what is out of retention once and returns the first error.
func (r *Retention) Pass(ctx context.Context) error {
	cutoff := time.Time{} // keeps runs and history when Retention < 0
	if r.cfg.Retention > 0 {
		cutoff = r.now().Add(-r.cfg.Retention)
	}
	start := time.Now()
	pruned, err := r.st.Prune(ctx, cutoff, max(r.cfg.KeepVersions, 0), r.cfg.Batch, r.cfg.Pause)
	var total int64
	for table, n := range pruned {
		r.deleted.WithLabelValues(table).Add(float64(n))
		total += n
	}
	if err != nil {
		return err
	}
	r.last.SetToCurrentTime()
	if total > 0 {
		r.logger.Info("retention pass", "deleted", pruned, "cutoff", cutoff, "seconds", time.Since(start).Seconds())
	}
	return nil
}
