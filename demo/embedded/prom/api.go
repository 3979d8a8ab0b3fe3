package prom

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/grafana/regexp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/features"
	"github.com/prometheus/prometheus/util/notifications"
	apiv1 "github.com/prometheus/prometheus/web/api/v1"
)

// scrapeInterval is what the synthetic targets report; it matches the
// history's step.
const scrapeInterval = 5 * time.Second

// newAPI builds Prometheus' v1 API over s. Every retriever is a stub that
// answers (rather than a nil that would panic): one synthetic target per
// (job, instance) carrying the metadata, no rules, no Alertmanagers.
func newAPI(s *Server, reg *prometheus.Registry, logger *slog.Logger) *apiv1.API {
	start := time.Now()
	cfg := config.DefaultConfig
	cwd, _ := os.Getwd()
	host, _ := os.Hostname()
	return apiv1.NewAPI(
		s.engine,
		s.db,
		nil, // no remote-write or OTLP receiver
		s.db,
		func(context.Context) apiv1.ScrapePoolsRetriever { return s.targets },
		func(context.Context) apiv1.TargetRetriever { return s.targets },
		func(context.Context) apiv1.AlertmanagerRetriever { return noAlertmanagers{} },
		func() config.Config { return cfg },
		map[string]string{"storage.tsdb.path": s.dir, "web.listen-address": s.addr.String()},
		apiv1.GlobalURLOptions{ListenAddress: s.addr.String(), Host: s.addr.String(), Scheme: "http"},
		func(f http.HandlerFunc) http.HandlerFunc { return f }, // ready once Start returns
		adminStats{s.db},
		s.dir,
		false, // admin endpoints off: the demo's data is regenerated, not managed
		false, // search API off
		0,
		logger,
		func(context.Context) apiv1.RulesRetriever { return noRules{} },
		// Remote read limits: Prometheus' flag defaults (a concurrency
		// limit of 0 would block every remote read forever).
		5e7, 10, 1048576,
		false, // not an agent
		regexp.MustCompile(`^(?:.*)$`),
		func() (apiv1.RuntimeInfo, error) {
			return apiv1.RuntimeInfo{
				StartTime: start, CWD: cwd, Hostname: host, ServerTime: time.Now(),
				ReloadConfigSuccess: true, LastConfigTime: start,
				GoroutineCount: runtime.NumGoroutine(), GOMAXPROCS: runtime.GOMAXPROCS(0),
				StorageRetention: "none (embedded demo)",
			}, nil
		},
		&apiv1.PrometheusVersion{Version: "0.316.0", Branch: "embedded", BuildUser: "slapipe", GoVersion: runtime.Version()},
		func() []notifications.Notification { return nil },
		func() (<-chan notifications.Notification, func(), bool) { return nil, func() {}, false },
		reg,
		reg,
		nil,   // default stats renderer
		false, // remote write receiver off
		nil,
		false, false, false, // OTLP receiver off
		5*time.Minute,
		false, false,
		nil,                      // default error codes
		features.DefaultRegistry, // what the linked packages registered (PromQL functions, ...)
		apiv1.OpenAPIOptions{},
		nil, // default PromQL parser
		false,
		2*time.Minute,
	)
}

// metadataStore is the metric metadata of the ingested series; it
// implements scrape.MetricMetadataStore.
type metadataStore struct {
	mu sync.RWMutex
	m  map[string]scrape.MetricMetadata
}

func newMetadataStore() *metadataStore {
	return &metadataStore{m: map[string]scrape.MetricMetadata{}}
}

func (ms *metadataStore) set(metric, typ, help string) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.m[metric] = scrape.MetricMetadata{MetricFamily: metric, Type: model.MetricType(typ), Help: help}
}

func (ms *metadataStore) ListMetadata() []scrape.MetricMetadata {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	out := make([]scrape.MetricMetadata, 0, len(ms.m))
	for _, m := range ms.m {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MetricFamily < out[j].MetricFamily })
	return out
}

func (ms *metadataStore) GetMetadata(name string) (scrape.MetricMetadata, bool) {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	m, ok := ms.m[name]
	return m, ok
}

func (ms *metadataStore) SizeMetadata() int {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	n := 0
	for _, m := range ms.m {
		n += len(m.MetricFamily) + len(m.Help) + len(m.Type) + len(m.Unit)
	}
	return n
}

func (ms *metadataStore) LengthMetadata() int {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	return len(ms.m)
}

// targets are the synthetic scrape targets, one per (job, instance) seen in
// the data, grouped into one scrape pool per job. It implements
// apiv1.ScrapePoolsRetriever and apiv1.TargetRetriever.
type targets struct {
	mu    sync.RWMutex
	pools map[string]*config.ScrapeConfig
	byJob map[string][]*scrape.Target
	seen  map[[2]string]bool
}

func newTargets() *targets {
	return &targets{pools: map[string]*config.ScrapeConfig{}, byJob: map[string][]*scrape.Target{}, seen: map[[2]string]bool{}}
}

func (ts *targets) add(job, instance string, meta scrape.MetricMetadataStore) {
	key := [2]string{job, instance}
	ts.mu.RLock()
	known := ts.seen[key]
	ts.mu.RUnlock()
	if known {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.seen[key] {
		return
	}
	ts.seen[key] = true
	sc, ok := ts.pools[job]
	if !ok {
		c := config.DefaultScrapeConfig
		c.JobName = job
		c.ScrapeInterval = model.Duration(scrapeInterval)
		c.ScrapeTimeout = model.Duration(scrapeInterval)
		sc = &c
		ts.pools[job] = sc
	}
	lset := labels.FromMap(map[string]string{
		model.AddressLabel:        instance,
		model.SchemeLabel:         sc.Scheme,
		model.MetricsPathLabel:    sc.MetricsPath,
		model.ScrapeIntervalLabel: scrapeInterval.String(),
		model.ScrapeTimeoutLabel:  scrapeInterval.String(),
		model.JobLabel:            job,
		model.InstanceLabel:       instance,
	})
	t := scrape.NewTarget(lset, sc, model.LabelSet{model.AddressLabel: model.LabelValue(instance)}, nil)
	t.SetMetadataStore(meta)
	ts.byJob[job] = append(ts.byJob[job], t)
}

func (ts *targets) ScrapePools() []string {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	out := make([]string, 0, len(ts.pools))
	for job := range ts.pools {
		out = append(out, job)
	}
	sort.Strings(out)
	return out
}

func (ts *targets) TargetsActive() map[string][]*scrape.Target {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	out := make(map[string][]*scrape.Target, len(ts.byJob))
	for job, t := range ts.byJob {
		out[job] = append([]*scrape.Target(nil), t...)
	}
	return out
}

func (*targets) TargetsDropped() map[string][]*scrape.Target { return map[string][]*scrape.Target{} }

func (*targets) TargetsDroppedCounts() map[string]int { return map[string]int{} }

func (ts *targets) ScrapePoolConfig(job string) (*config.ScrapeConfig, error) {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	if sc, ok := ts.pools[job]; ok {
		return sc, nil
	}
	return nil, fmt.Errorf("scrape pool %q not found", job)
}

type noAlertmanagers struct{}

func (noAlertmanagers) Alertmanagers() []*url.URL        { return nil }
func (noAlertmanagers) DroppedAlertmanagers() []*url.URL { return nil }

type noRules struct{}

func (noRules) RuleGroups() []*rules.Group           { return nil }
func (noRules) AlertingRules() []*rules.AlertingRule { return nil }

// adminStats adapts *tsdb.DB to the API's admin and status interface as
// Prometheus' own readyStorage does.
type adminStats struct{ db *tsdb.DB }

func (a adminStats) CleanTombstones() error { return a.db.CleanTombstones() }
func (a adminStats) Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error {
	return a.db.Delete(ctx, mint, maxt, ms...)
}
func (a adminStats) Snapshot(dir string, withHead bool) error { return a.db.Snapshot(dir, withHead) }
func (a adminStats) Stats(statsByLabelName string, limit int) (*tsdb.Stats, error) {
	return a.db.Head().Stats(statsByLabelName, limit), nil
}
func (adminStats) WALReplayStatus() (tsdb.WALReplayStatus, error) { return tsdb.WALReplayStatus{}, nil }
func (a adminStats) BlockMetas() ([]tsdb.BlockMeta, error)        { return a.db.BlockMetas(), nil }
