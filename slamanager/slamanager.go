// Package slamanager is slapipe's SLA manager: a gRPC service
// (slapipe.v1.SLAManager) that keeps an editable, persisted set of objectives
// (a metric selector with a lower and/or upper bound), counts how each series
// of each objective behaved over the last 1 h, 3 h and 12 h from Prometheus'
// raw ranges, estimates the probability of leaving the bounds within the next
// 10 minutes from the stored Holt-Winters forecasts, and runs the ETL on
// demand (single-flight, with streamed progress) and on a schedule. When
// Prometheus does not answer in time it serves the latest stored snapshot,
// marked stale with its age, instead of failing.
package slamanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/internal/promreg"
	"github.com/slapipe/slapipe/pkg/promsource"
	"github.com/slapipe/slapipe/pkg/server"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultListen      = "127.0.0.1:50051"
	DefaultStep        = etl.DefaultStep
	DefaultPromTimeout = 1500 * time.Millisecond
	// defaultStaleAfter marks predictions stale when no schedule says better.
	defaultStaleAfter = 15 * time.Minute
	// DefaultEvaluationInterval is the period of evaluations that refresh
	// the slapipe_sla_* metrics when no client asks.
	DefaultEvaluationInterval = time.Minute
	// storeTimeout bounds every store call made while answering, so that a
	// degraded answer (PromTimeout + store) stays within 3 s.
	storeTimeout = time.Second
)

// Config configures the SLA manager. The zero value of each field means its
// default.
type Config struct {
	// Listen is the gRPC listen address; "" means DefaultListen.
	Listen string
	// Security is the gRPC server's TLS, tokens and reflection setting.
	Security server.Security
	// PrometheusURL is where metric names, metadata and series counts are
	// read (ListMetrics, unknown-metric warnings).
	PrometheusURL string
	// ETLInterval is the period of scheduled ETL runs; 0 disables them.
	ETLInterval time.Duration
	// PromTimeout bounds each answer's Prometheus calls; when exceeded the
	// stored snapshot is served. 0 means DefaultPromTimeout.
	PromTimeout time.Duration
	// Step is the sampling step of violation counting (the ETL step); 0
	// means DefaultStep.
	Step time.Duration
	// EvaluationInterval is the period of the evaluations (violations,
	// predictions) that refresh the slapipe_sla_* metrics; 0 means
	// DefaultEvaluationInterval. A saved SLA set and a finished run also
	// start one at once.
	EvaluationInterval time.Duration
	// AlertmanagerURL, when set, is where predicted violations are posted
	// (Alertmanager's v2 API) after each evaluation, and resolved when the
	// prediction clears.
	AlertmanagerURL string
	// AlertProbability is the probability from which a predicted violation
	// is posted; 0 means DefaultAlertProbability.
	AlertProbability float64
	// WatchList is what a run analyses besides the SLA set's selectors when
	// the request names none; nil means the ETL's default watch list.
	WatchList []string
}

// Store is the subset of store.API the manager uses.
type Store interface {
	ListRuns(ctx context.Context, limit int) ([]*slapipev1.Run, error)
	LatestRunID(ctx context.Context) (string, error)
	Analyses(ctx context.Context, q store.Query) (runID string, msgs []*slapipev1.SeriesAnalysis, err error)
	SaveSLA(ctx context.Context, objectives []*slapipev1.Objective, actor string) (*slapipev1.SLASet, error)
	LoadSLA(ctx context.Context) (*slapipev1.SLASet, error)
	SaveViolations(ctx context.Context, v *slapipev1.GetViolationsResponse) error
	LatestViolations(ctx context.Context) (*slapipev1.GetViolationsResponse, error)
}

// ETLRunner runs one ETL pass; *etl.ETL implements it.
type ETLRunner interface {
	Run(ctx context.Context, opts etl.RunOptions) (*slapipev1.Run, error)
}

// RangeSource reads raw ranges from Prometheus, counters already turned into
// per-second rates; etl's Prometheus source implements it.
type RangeSource interface {
	Pull(ctx context.Context, selector string, start, end time.Time, step time.Duration) ([]promsource.Series, error)
}

// The production implementations satisfy the interfaces.
var (
	_ Store       = store.API(nil)
	_ ETLRunner   = (*etl.ETL)(nil)
	_ RangeSource = (*promsource.Source)(nil)
)

// Deps are the manager's collaborators. Store is required; a nil Source is
// built from Config.PrometheusURL (bounded by PromTimeout); a nil ETL makes
// RunETL answer FailedPrecondition.
type Deps struct {
	Store      Store
	ETL        ETLRunner
	Source     RangeSource
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// PrometheusTransport carries the requests of the Source New builds
	// (credentials, TLS, proxy); nil means client_golang's default.
	PrometheusTransport http.RoundTripper
}

// Manager implements slapipev1.SLAManagerServer. Its methods are safe for
// concurrent use; RunETL needs Run to be running (it owns the runs).
type Manager struct {
	slapipev1.UnimplementedSLAManagerServer

	cfg     Config
	store   Store
	etl     ETLRunner
	source  RangeSource
	catalog catalog
	log     *slog.Logger
	met     *metrics
	exp     *slaCollector
	notify  *notifier // nil without an Alertmanager
	grpc    *server.GRPC
	now     func() time.Time
	// kick asks the evaluation loop for an evaluation now.
	kick chan struct{}

	slaMu  sync.Mutex // serialises read-modify-write of the set
	setMu  sync.RWMutex
	cached *slapipev1.SLASet // last set read or written, for a store outage
	// pred is the last predictions answer, reused until a new run is
	// stored and served stale through a store outage.
	pred *predCache

	runs *runs

	vflight singleflight.Group
	vmu     sync.Mutex
	vcache  *violationsCache
	vdownTo time.Time // Prometheus considered down until then

	bmu     sync.Mutex           // serialises saveMinutes
	written map[string]time.Time // objectiveKey -> end of the minutes stored
	pruned  time.Time            // last pruning of old minutes

	addrMu    sync.Mutex
	addr      net.Addr
	ready     chan struct{}
	readyOnce sync.Once
}

// New validates cfg, applies defaults and returns a manager; nothing runs
// until Run.
func New(cfg Config, deps Deps) (*Manager, error) {
	if deps.Store == nil {
		return nil, errors.New("slamanager: a store is required")
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Step == 0 {
		cfg.Step = DefaultStep
	}
	if cfg.PromTimeout == 0 {
		cfg.PromTimeout = DefaultPromTimeout
	}
	if cfg.EvaluationInterval == 0 {
		cfg.EvaluationInterval = DefaultEvaluationInterval
	}
	if cfg.AlertProbability == 0 {
		cfg.AlertProbability = DefaultAlertProbability
	}
	switch {
	case cfg.Step < 0:
		return nil, fmt.Errorf("slamanager: step: must be positive (got %s)", cfg.Step)
	case cfg.PromTimeout < 0:
		return nil, fmt.Errorf("slamanager: prom timeout: must be positive (got %s)", cfg.PromTimeout)
	case cfg.EvaluationInterval < 0:
		return nil, fmt.Errorf("slamanager: evaluation interval: must be positive (got %s)", cfg.EvaluationInterval)
	case cfg.ETLInterval < 0:
		return nil, fmt.Errorf("slamanager: etl interval: must be 0 (disabled) or positive (got %s)", cfg.ETLInterval)
	}
	if cfg.WatchList == nil {
		cfg.WatchList = defaultWatchList
	}
	for i, s := range cfg.WatchList {
		if _, _, err := promsource.ParseSelector(s); err != nil {
			return nil, fmt.Errorf("slamanager: watch list[%d]: %w", i, err)
		}
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if deps.Source == nil {
		if cfg.PrometheusURL == "" {
			return nil, errors.New("slamanager: a prometheus url or source is required")
		}
		src, err := promsource.New(promsource.Config{URL: cfg.PrometheusURL, Timeout: cfg.PromTimeout, Logger: logger,
			RoundTripper: deps.PrometheusTransport})
		if err != nil {
			return nil, fmt.Errorf("slamanager: %w", err)
		}
		deps.Source = src
	}
	var nt *notifier
	if cfg.AlertmanagerURL != "" {
		// A firing alert expires by itself when four evaluations (at least
		// a minute) pass without the SLA manager posting it again.
		var err error
		if nt, err = newNotifier(cfg.AlertmanagerURL, cfg.AlertProbability, max(4*cfg.EvaluationInterval, time.Minute)); err != nil {
			return nil, fmt.Errorf("slamanager: %w", err)
		}
	}
	cat, err := newCatalog(cfg, deps.Source, logger)
	if err != nil {
		return nil, fmt.Errorf("slamanager: %w", err)
	}
	m := &Manager{
		cfg:     cfg,
		store:   deps.Store,
		etl:     deps.ETL,
		source:  deps.Source,
		catalog: cat,
		log:     logger.With("component", "slamanager"),
		now:     time.Now,
		ready:   make(chan struct{}),
		kick:    make(chan struct{}, 1),
		notify:  nt,
		written: map[string]time.Time{},
	}
	met, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("slamanager: registering metrics: %w", err)
	}
	m.met = met
	exp := &slaCollector{step: cfg.Step, now: func() time.Time { return m.now() }}
	if m.exp, err = promreg.RegisterOrReuse(deps.Registerer, exp); err != nil {
		return nil, fmt.Errorf("slamanager: registering the sla metrics: %w", err)
	}
	m.runs = newRuns()
	if m.grpc, err = server.NewGRPC(m.log, deps.Registerer, cfg.Listen, cfg.Security); err != nil {
		return nil, fmt.Errorf("slamanager: %w", err)
	}
	slapipev1.RegisterSLAManagerServer(m.grpc, m)
	return m, nil
}

// Run serves gRPC on cfg.Listen and runs the ETL schedule until ctx is done
// or one of them fails; it returns nil after a shutdown asked by ctx.
func (m *Manager) Run(ctx context.Context) error {
	m.seedDefaults(ctx)
	// The runner accepts flights before the port opens, so a RunETL right
	// after Ready never finds it "not running"; runLoop's defer turns it off.
	m.runs.mu.Lock()
	m.runs.loopOn = true
	m.runs.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return m.grpc.ListenAndServe(gctx, func(a net.Addr) {
			m.addrMu.Lock()
			m.addr = a
			m.addrMu.Unlock()
			m.readyOnce.Do(func() { close(m.ready) })
			m.log.Info("slamanager serving", "addr", a.String(), "etl_interval", m.cfg.ETLInterval)
		})
	})
	g.Go(func() error { return m.runLoop(gctx) })
	g.Go(func() error { return m.evalLoop(gctx) })
	return g.Wait()
}

// Addr returns the bound gRPC address once Run listens (nil before).
func (m *Manager) Addr() net.Addr {
	m.addrMu.Lock()
	defer m.addrMu.Unlock()
	return m.addr
}

// Ready is closed once Run listens.
func (m *Manager) Ready() <-chan struct{} { return m.ready }

// staleAfter is the age beyond which stored results are called stale: two
// missed schedules, or 15 minutes without a schedule.
func (m *Manager) staleAfter() time.Duration {
	if m.cfg.ETLInterval > 0 {
		return 2 * m.cfg.ETLInterval
	}
	return defaultStaleAfter
}
