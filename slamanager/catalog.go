package slamanager

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/pkg/promsource"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// DefaultNameFilter is the ListMetrics filter when the request gives none:
// node_exporter's metrics.
const DefaultNameFilter = "node_.*"

// catalogRange is how far back a metric counts as "known to Prometheus":
// the ETL's range.
const catalogRange = etl.DefaultRange

const maxFilterLen = 1024

// catalog answers what metrics Prometheus has.
type catalog interface {
	// names returns the metric names with samples in the 12 h before now.
	names(ctx context.Context, now time.Time) (map[string]struct{}, error)
	// list returns the metrics whose whole name matches filter, sorted by name.
	list(ctx context.Context, filter nameFilter, now time.Time) ([]*slapipev1.PromMetric, error)
}

// nameFilter is a validated user RE2 expression and its whole-name matcher.
type nameFilter struct {
	expr string
	re   *regexp.Regexp
}

// promCatalog reads names, metadata and series counts through Prometheus'
// HTTP API.
type promCatalog struct {
	api promv1.API
}

// newCatalog returns the catalog of cfg.PrometheusURL, nil when there is no
// URL. It reads through src's client when src is a *promsource.Source (the
// one New builds from that URL), so the manager keeps one Prometheus client.
func newCatalog(cfg Config, src RangeSource, logger *slog.Logger) (catalog, error) {
	if cfg.PrometheusURL == "" {
		return nil, nil
	}
	ps, ok := src.(*promsource.Source)
	if !ok {
		var err error
		ps, err = promsource.New(promsource.Config{URL: cfg.PrometheusURL, Timeout: cfg.PromTimeout, Logger: logger})
		if err != nil {
			return nil, err
		}
	}
	return &promCatalog{api: ps.API()}, nil
}

func (p *promCatalog) names(ctx context.Context, now time.Time) (map[string]struct{}, error) {
	vals, _, _, err := p.api.LabelValues(ctx, model.MetricNameLabel, nil, now.Add(-catalogRange), now)
	if err != nil {
		return nil, fmt.Errorf("listing metric names: %w", err)
	}
	out := make(map[string]struct{}, len(vals))
	for _, v := range vals {
		out[string(v)] = struct{}{}
	}
	return out, nil
}

func (p *promCatalog) list(ctx context.Context, filter nameFilter, now time.Time) ([]*slapipev1.PromMetric, error) {
	var (
		names  map[string]struct{}
		meta   map[string][]promv1.Metadata
		counts = map[string]int64{}
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		names, err = p.names(gctx, now)
		return err
	})
	g.Go(func() (err error) {
		meta, err = p.api.Metadata(gctx, "", "")
		if err != nil {
			return fmt.Errorf("reading metadata: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		// The filter was compiled by regexp, which is the engine PromQL
		// uses, and strconv.Quote yields a valid PromQL string literal; the
		// extra != "" matcher keeps filters matching "" (".*") legal.
		q := fmt.Sprintf(`count by (__name__) (last_over_time({__name__=~%s,__name__!=""}[%ds]))`,
			strconv.Quote(filter.expr), int(catalogRange.Seconds()))
		v, _, _, err := p.api.Query(gctx, q, now)
		if err != nil {
			return fmt.Errorf("counting series: %w", err)
		}
		vec, ok := v.(model.Vector)
		if !ok {
			return fmt.Errorf("counting series: unexpected result type %s", v.Type())
		}
		for _, s := range vec {
			counts[string(s.Metric[model.MetricNameLabel])] = int64(s.Value)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []*slapipev1.PromMetric
	for name := range names {
		if !filter.re.MatchString(name) {
			continue
		}
		pm := &slapipev1.PromMetric{Name: name, Type: "unknown", Series: counts[name]}
		if md := meta[name]; len(md) > 0 {
			pm.Type, pm.Help = string(md[0].Type), md[0].Help
		}
		out = append(out, pm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// compileNameFilter anchors a user RE2 expression to the whole name, as
// PromQL's =~ does.
func compileNameFilter(expr string) (nameFilter, error) {
	if expr == "" {
		expr = DefaultNameFilter
	}
	if len(expr) > maxFilterLen {
		return nameFilter{}, fmt.Errorf("name_filter: must be at most %d bytes (got %d)", maxFilterLen, len(expr))
	}
	// The store's compiler anchors the whole expression, refusing one that
	// does not parse alone (`a)|(.*` would escape the anchors).
	re, err := store.CompileNameFilter(expr)
	if err != nil {
		return nameFilter{}, fmt.Errorf("name_filter: invalid RE2 expression: %w", err)
	}
	return nameFilter{expr: expr, re: re}, nil
}

// ListMetrics lists the metrics Prometheus has whose name matches the
// request's RE2 filter (default node_.*), with type, help and series count.
func (m *Manager) ListMetrics(ctx context.Context, req *slapipev1.ListPromMetricsRequest) (*slapipev1.ListPromMetricsResponse, error) {
	filter, err := compileNameFilter(req.GetNameFilter())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if m.catalog == nil {
		return nil, status.Error(codes.FailedPrecondition, "no prometheus url configured")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*m.cfg.PromTimeout)
	defer cancel()
	ms, err := m.catalog.list(ctx, filter, m.now())
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "prometheus: %v", err)
	}
	return &slapipev1.ListPromMetricsResponse{Metrics: ms}, nil
}
