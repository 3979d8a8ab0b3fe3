// Package demo runs the whole slapipe pipeline in one process for
// `slapipe demo`: an embedded Prometheus holding 12 h of node_exporter-shaped
// history, an embedded Kafka-protocol broker and an SQLite store (each
// replaced by a real server when its setting is given), then the SLA
// manager, datastorage and dataretrieval on their usual ports. It runs one
// ETL through the SLA manager, waits until datastorage has stored it, prints
// a report (SLA set, violations, predictions, series statistics, what to try
// next) and keeps serving until its context is cancelled, or returns at once
// with Config.Once.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/slapipe/slapipe/dataretrieval"
	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/internal/kafkaconn"
	"github.com/slapipe/slapipe/pkg/ctl"
	"github.com/slapipe/slapipe/pkg/server"
	"github.com/slapipe/slapipe/slamanager"
)

// Defaults applied to zero Config fields.
const (
	DefaultSLAListen       = slamanager.DefaultListen
	DefaultRetrievalListen = dataretrieval.DefaultListen
	// DefaultStoreTimeout bounds the wait for datastorage to store the run.
	DefaultStoreTimeout = 2 * time.Minute
	// DefaultETLInterval spaces the scheduled runs while the demo serves, so
	// predictions follow the live points instead of going stale.
	DefaultETLInterval = 5 * time.Minute
)

// Config configures Run. Empty server settings mean the embedded stand-in.
type Config struct {
	// Once makes Run return after the report instead of serving until ctx is
	// cancelled.
	Once bool
	// PrometheusURL is a real Prometheus to read; "" starts the embedded one
	// with the demo history (and live points every 5 s).
	PrometheusURL string
	// KafkaBrokers is a comma-separated list of real brokers; "" starts the
	// embedded kfake broker on a free loopback port.
	KafkaBrokers string
	// MySQLDSN is a real MySQL/MariaDB database; "" uses SQLite in a
	// temporary directory removed when Run returns.
	MySQLDSN string
	// SLAListen and RetrievalListen are the gRPC listen addresses of the SLA
	// manager and of dataretrieval; "" means DefaultSLAListen and
	// DefaultRetrievalListen. Port 0 picks a free port (tests).
	SLAListen, RetrievalListen string
	// MetricsListen serves /metrics of the whole process when Gatherer is
	// set; "" means a free loopback port.
	MetricsListen string
	// PrometheusTransport carries the requests to a real Prometheus
	// (credentials, TLS: --prometheus-config-file); nil means the default.
	PrometheusTransport http.RoundTripper
	// Kafka is the TLS and SASL to real brokers.
	Kafka kafkaconn.Security
	// WebConfigFile protects /metrics with an exporter-toolkit web
	// configuration (TLS, basic auth); "" serves plain HTTP.
	WebConfigFile string
	// Security protects both gRPC servers (TLS, tokens, reflection). The
	// report's own client is given a token generated at start and trusts
	// the served certificate; mutual TLS is not supported by the demo.
	Security server.Security
	// Out receives the report; nil means os.Stdout.
	Out io.Writer
	// Logger receives the components' logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives every component's metrics and Gatherer serves
	// them; nil means none (metrics are then not registered or served).
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// StoreTimeout bounds the wait for datastorage to store the run; 0 means
	// DefaultStoreTimeout.
	StoreTimeout time.Duration
	// ETLInterval spaces the SLA manager's scheduled runs while the demo
	// serves; 0 means DefaultETLInterval, negative disables them. Once runs
	// have none.
	ETLInterval time.Duration
	// ETLWorkers is the number of in-process ETL workers; 0 means 1, and
	// a negative number none: every task is left to external `slapipe etl
	// worker` processes.
	ETLWorkers int
	// KafkaListen is the embedded broker's address, so external workers
	// can join; "" means a free loopback port.
	KafkaListen string
}

func (c Config) withDefaults() Config {
	if c.SLAListen == "" {
		c.SLAListen = DefaultSLAListen
	}
	if c.RetrievalListen == "" {
		c.RetrievalListen = DefaultRetrievalListen
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.StoreTimeout <= 0 {
		c.StoreTimeout = DefaultStoreTimeout
	}
	switch {
	case c.ETLWorkers == 0:
		c.ETLWorkers = 1
	case c.ETLWorkers < 0:
		c.ETLWorkers = 0
	}
	switch {
	case c.Once || c.ETLInterval < 0:
		c.ETLInterval = 0
	case c.ETLInterval == 0:
		c.ETLInterval = DefaultETLInterval
	}
	return c
}

// Run starts the pipeline, runs one ETL, prints the report to cfg.Out and
// then serves until ctx is cancelled (returning nil) or, with cfg.Once,
// shuts everything down and returns nil. Any component failing ends the run
// with its error; everything started is stopped before Run returns.
func Run(ctx context.Context, cfg Config) (err error) {
	cfg = cfg.withDefaults()
	started := time.Now()
	e, err := startEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, e.close()) }()
	if cfg.ETLWorkers == 0 {
		// The run waits for external workers, which need both addresses.
		fmt.Fprintf(cfg.Out, "demo: no in-process ETL worker; start one with\n  slapipe etl worker --kafka-brokers %s --prometheus-url %s\n",
			strings.Join(e.brokers, ","), e.promURL)
	}

	p, err := newPipeline(cfg, e)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.close()) }()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error { return listenHint(p.manager.Run(gctx), "slamanager", "--sla-listen") })
	g.Go(func() error { return p.consumer.Run(gctx) })
	g.Go(func() error { return listenHint(p.retrieval.Run(gctx), "dataretrieval", "--retrieval-listen") })
	g.Go(func() error { return e.live(gctx) })
	for i := range cfg.ETLWorkers {
		g.Go(func() error { return p.etl.Work(gctx, etl.WorkerName(i)) })
	}
	metricsAddr := make(chan net.Addr, 1)
	if cfg.Gatherer != nil {
		g.Go(func() error {
			err := server.ServeMetrics(gctx, server.MetricsConfig{Listen: cfg.MetricsListen, WebConfigFile: cfg.WebConfigFile}, cfg.Gatherer, cfg.Logger, func(a net.Addr) { metricsAddr <- a })
			return listenHint(err, "metrics", "--metrics-listen")
		})
	} else {
		metricsAddr <- nil
	}
	g.Go(func() error {
		r, err := p.runOnce(gctx, cfg, e)
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted before the report: not a failure
			}
			return err
		}
		select {
		case a := <-metricsAddr:
			if a != nil {
				r.metricsURL = "http://" + a.String() + "/metrics"
			}
		case <-gctx.Done():
			return nil
		}
		r.wall = time.Since(started)
		if err := render(cfg.Out, r, cfg.Once); err != nil {
			return fmt.Errorf("demo: writing the report: %w", err)
		}
		if cfg.Once {
			stop()
		}
		return nil
	})
	return g.Wait()
}

// pipeline holds the components.
type pipeline struct {
	etl       *etl.ETL
	consumer  *datastorage.Consumer
	retrieval *dataretrieval.Server
	// retrievalAddr receives the retrieval server's bound address.
	retrievalAddr chan net.Addr
	manager       *slamanager.Manager
	// creds are what the report's client presents to the SLA manager.
	creds ctl.Credentials
}

func newPipeline(cfg Config, e *env) (_ *pipeline, err error) {
	p := &pipeline{}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.close())
		}
	}()
	sec, creds, err := reportAccess(cfg.Security)
	if err != nil {
		return nil, err
	}
	p.creds = creds
	p.etl, err = etl.New(etl.Config{PrometheusURL: e.promURL, Brokers: e.brokers, Kafka: cfg.Kafka, Distributed: true},
		etl.Deps{Logger: cfg.Logger, Registerer: cfg.Registerer, PrometheusTransport: cfg.PrometheusTransport})
	if err != nil {
		return nil, fmt.Errorf("demo: etl: %w", err)
	}
	// datastorage's default topics are the ETL's defaults.
	p.consumer, err = datastorage.New(datastorage.Config{Brokers: e.brokers, Kafka: cfg.Kafka}, e.st, datastorage.Deps{Logger: cfg.Logger, Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("demo: datastorage: %w", err)
	}
	p.retrievalAddr = make(chan net.Addr, 1)
	p.retrieval, err = dataretrieval.New(dataretrieval.Config{Listen: cfg.RetrievalListen, Security: sec}, e.st, dataretrieval.Deps{
		Logger: cfg.Logger, Registerer: cfg.Registerer,
		OnListen: func(a net.Addr) { p.retrievalAddr <- a },
	})
	if err != nil {
		return nil, fmt.Errorf("demo: dataretrieval: %w", err)
	}
	p.manager, err = slamanager.New(slamanager.Config{Listen: cfg.SLAListen, Security: sec, PrometheusURL: e.promURL, ETLInterval: cfg.ETLInterval},
		slamanager.Deps{Store: e.st, ETL: p.etl, Logger: cfg.Logger, Registerer: cfg.Registerer, PrometheusTransport: cfg.PrometheusTransport})
	if err != nil {
		return nil, fmt.Errorf("demo: slamanager: %w", err)
	}
	return p, nil
}

func (p *pipeline) close() error {
	if p.etl != nil {
		return p.etl.Close()
	}
	return nil
}

// listenHint says what to do when a component's address is taken, which
// happens when a demo (or the component itself) already runs.
func listenHint(err error, component, flag string) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s: %w: is another slapipe running? stop it or pick a free address with %s", component, err, flag)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", component, err)
	}
	return nil
}
