// Package prom runs Prometheus as a library for `slapipe demo`: its own tsdb
// in a temporary directory, its PromQL engine and its web/api/v1 HTTP API on
// a loopback listener. Clients (client_golang's api/prometheus/v1, curl,
// Grafana) talk to it exactly as to a real Prometheus; the history and live
// points it holds come from the caller instead of scrapes. Metadata
// (/api/v1/metadata, /api/v1/targets/metadata) is served from the series'
// type and help through one synthetic target per (job, instance).
package prom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/route"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"golang.org/x/sync/errgroup"

	"github.com/slapipe/slapipe/demo/embedded/history"
)

// Options configures Start.
type Options struct {
	// Listen is the HTTP listen address; "" means 127.0.0.1:0 (a free port).
	Listen string
	// History is ingested before Start returns. Samples of one series must be
	// in time order; series may start at different times.
	History []history.Series
	// Dir holds the tsdb; "" means a temporary directory removed by Close.
	Dir string
	// Logger receives Prometheus' own logs (warnings and up); nil discards
	// them.
	Logger *slog.Logger
}

// Server is a running in-process Prometheus. Its methods are safe for
// concurrent use.
type Server struct {
	db      *tsdb.DB
	engine  *promql.Engine
	http    *http.Server
	addr    net.Addr
	dir     string
	tmpDir  bool
	meta    *metadataStore
	targets *targets
	group   *errgroup.Group
	stop    context.CancelFunc

	appendMu  sync.Mutex
	closeOnce sync.Once
	closeErr  error

	ingestSamples int
	ingestTook    time.Duration
}

// shutdownGrace is how long Close lets in-flight requests finish.
const shutdownGrace = time.Second

// ingestWindow bounds one appender transaction of the history. The head
// accepts samples no older than half a block range (1 h) before its newest
// sample, so the history goes in by time windows, every series at once.
const ingestWindow = 30 * time.Minute

// Start opens the tsdb, ingests opts.History, and serves the HTTP API until
// Close or until ctx is cancelled. It returns once the API answers queries
// over the whole history.
func Start(ctx context.Context, opts Options) (_ *Server, err error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{dir: opts.Dir, meta: newMetadataStore(), targets: newTargets()}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "slapipe-prom-"); err != nil {
			return nil, fmt.Errorf("embedded prometheus: creating tsdb directory: %w", err)
		}
		s.tmpDir = true
	}
	defer func() {
		if err != nil {
			s.cleanup()
		}
	}()

	// Prometheus' own metrics go to a private registry: they would clash
	// with nothing, but they are not the process's metrics either.
	reg := prometheus.NewRegistry()
	topts := tsdb.DefaultOptions()
	topts.WALSegmentSize = -1 // nothing to recover: the data is regenerated at each start
	topts.RetentionDuration = 0
	if s.db, err = tsdb.Open(s.dir, logger, reg, topts, nil); err != nil {
		return nil, fmt.Errorf("embedded prometheus: opening tsdb in %s: %w", s.dir, err)
	}
	// A 12 h head is small; compacting it into blocks would only cost CPU
	// while the demo runs.
	s.db.DisableCompactions()

	t0 := time.Now()
	if err := s.ingest(ctx, opts.History); err != nil {
		return nil, err
	}
	s.ingestTook = time.Since(t0)

	s.engine = promql.NewEngine(promql.EngineOpts{
		Logger:               logger,
		Reg:                  reg,
		MaxSamples:           50_000_000,
		Timeout:              2 * time.Minute,
		LookbackDelta:        5 * time.Minute,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
	})

	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("embedded prometheus: listening on %s: %w", listen, err)
	}
	s.addr = ln.Addr()
	router := route.New()
	newAPI(s, reg, logger).Register(router.WithPrefix("/api/v1"))
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", router)
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Prometheus Server is Ready.")
	})
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Prometheus Server is Healthy.")
	})
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}

	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	s.group, runCtx = errgroup.WithContext(runCtx)
	s.group.Go(func() error {
		if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("embedded prometheus: serving http: %w", err)
		}
		return nil
	})
	// Shut the server down when ctx is cancelled or Close is called.
	s.group.Go(func() error {
		select {
		case <-ctx.Done():
		case <-runCtx.Done():
		}
		// In-flight queries get a short grace; after it the connections are
		// closed. A connection accepted but not yet used also holds Shutdown
		// (for up to 5 s, net/http's rule), so running out of grace is
		// expected and not an error.
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := s.http.Shutdown(sctx); err != nil {
			logger.Debug("embedded prometheus: closing connections still open after the grace", "err", err)
			_ = s.http.Close()
		}
		return nil
	})
	logger.Info("embedded prometheus ready", "url", s.URL(), "series", len(opts.History),
		"samples", s.ingestSamples, "ingest", s.ingestTook)
	return s, nil
}

// URL is the base URL of the HTTP API, e.g. http://127.0.0.1:40123.
func (s *Server) URL() string { return "http://" + s.addr.String() }

// Ingested reports how many history samples Start stored and how long it took.
func (s *Server) Ingested() (samples int, took time.Duration) {
	return s.ingestSamples, s.ingestTook
}

// Append stores live samples (newer than the series' previous ones) and
// registers their metadata; they are queryable when Append returns.
func (s *Server) Append(ctx context.Context, series []history.Series) error {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	app := s.db.Appender(ctx)
	n := 0
	for _, h := range series {
		s.register(h)
		lset := seriesLabels(h)
		var ref storage.SeriesRef
		for i, t := range h.Timestamps {
			r, err := app.Append(ref, lset, t, h.Values[i])
			if err != nil {
				_ = app.Rollback()
				return fmt.Errorf("embedded prometheus: appending %s at %d: %w", lset, t, err)
			}
			ref = r
			n++
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("embedded prometheus: committing %d samples: %w", n, err)
	}
	return nil
}

// Close stops the HTTP server, closes the tsdb and removes its temporary
// directory; it is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.stop()
		err := s.group.Wait()
		s.closeErr = errors.Join(err, s.cleanup())
	})
	return s.closeErr
}

func (s *Server) cleanup() error {
	var errs []error
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("embedded prometheus: closing tsdb: %w", err))
		}
	}
	if s.tmpDir {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("embedded prometheus: removing %s: %w", s.dir, err))
		}
	}
	return errors.Join(errs...)
}

// ingest appends the history window by window (see ingestWindow).
func (s *Server) ingest(ctx context.Context, hist []history.Series) error {
	if len(hist) == 0 {
		return nil
	}
	lsets := make([]labels.Labels, len(hist))
	refs := make([]storage.SeriesRef, len(hist))
	pos := make([]int, len(hist))
	var minT, maxT int64 = 1<<63 - 1, -1 << 63
	for i, h := range hist {
		if len(h.Timestamps) != len(h.Values) {
			return fmt.Errorf("embedded prometheus: series %s has %d timestamps and %d values", h.Metric, len(h.Timestamps), len(h.Values))
		}
		if !sort.SliceIsSorted(h.Timestamps, func(a, b int) bool { return h.Timestamps[a] < h.Timestamps[b] }) {
			return fmt.Errorf("embedded prometheus: series %s is not in time order", h.Metric)
		}
		lsets[i] = seriesLabels(h)
		s.register(h)
		if len(h.Timestamps) > 0 {
			minT, maxT = min(minT, h.Timestamps[0]), max(maxT, h.Timestamps[len(h.Timestamps)-1])
		}
	}
	for lo := minT; lo <= maxT; lo += ingestWindow.Milliseconds() {
		hi := lo + ingestWindow.Milliseconds()
		app := s.db.Appender(ctx)
		for i, h := range hist {
			for ; pos[i] < len(h.Timestamps) && h.Timestamps[pos[i]] < hi; pos[i]++ {
				r, err := app.Append(refs[i], lsets[i], h.Timestamps[pos[i]], h.Values[pos[i]])
				if err != nil {
					_ = app.Rollback()
					return fmt.Errorf("embedded prometheus: ingesting %s at %d: %w", lsets[i], h.Timestamps[pos[i]], err)
				}
				refs[i] = r
				s.ingestSamples++
			}
		}
		if err := app.Commit(); err != nil {
			return fmt.Errorf("embedded prometheus: committing history window at %d: %w", lo, err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("embedded prometheus: ingesting history: %w", err)
		}
	}
	return nil
}

// register records a series' metadata and its target.
func (s *Server) register(h history.Series) {
	s.meta.set(h.Metric, h.Type, h.Help)
	s.targets.add(h.Labels["job"], h.Labels["instance"], s.meta)
}

func seriesLabels(h history.Series) labels.Labels {
	b := labels.NewScratchBuilder(len(h.Labels) + 1)
	b.Add(labels.MetricName, h.Metric)
	for k, v := range h.Labels {
		b.Add(k, v)
	}
	b.Sort()
	return b.Labels()
}
