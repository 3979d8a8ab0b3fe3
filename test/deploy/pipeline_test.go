package deploy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/slapipe/slapipe/dataretrieval"
	"github.com/slapipe/slapipe/datastorage"
	kafkaembed "github.com/slapipe/slapipe/demo/embedded/kafka"
	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/pkg/server"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
	"github.com/slapipe/slapipe/slamanager"
)

// pipeline is the output of one real run, shared by the tests that need
// it: MariaDB filled by etl -> kfake -> datastorage -> store, the SLA
// tables filled by the SLA manager, and every component still serving its
// /metrics.
type pipeline struct {
	// db reads the run's database as Grafana's MySQL datasource does.
	db *sql.DB
	// st is the store the components wrote through.
	st *store.Store
	// run is the ETL run, as reported by the SLA manager.
	run *slapipev1.Run
	// metricsURL maps each component to its /metrics URL.
	metricsURL map[string]string
	// gatherers maps each component to its registry.
	gatherers map[string]prometheus.Gatherer
	// finishedAt is when the run and the SLA answers were all stored.
	finishedAt time.Time

	stop func() error
}

var (
	sharedOnce     sync.Once
	sharedPipeline *pipeline
	sharedErr      error
)

// TestMain stops the shared pipeline (and drops its database) after the
// tests that used it.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedPipeline != nil {
		if err := sharedPipeline.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "deploy: stopping the pipeline:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// runPipeline returns the shared pipeline, running it on first use.
func runPipeline(t testing.TB) *pipeline {
	t.Helper()
	dsn := testenv.MySQLDSN(t)
	promURL := testenv.PrometheusURL(t)
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		sharedPipeline, sharedErr = startPipeline(ctx, dsn, promURL)
	})
	if sharedErr != nil {
		t.Fatalf("running the pipeline: %v", sharedErr)
	}
	return sharedPipeline
}

// freshDatabase creates slapipe_grafana_<random> on the server of dsn and
// returns its DSN, Grafana's DSN for it and a function dropping it.
func freshDatabase(ctx context.Context, dsn string) (storeDSN, grafanaDSN string, drop func() error, err error) {
	storeDSN, drop, err = testenv.CreateMySQLDatabase(ctx, dsn, testenv.Database{Prefix: "grafana", Collation: "utf8mb4_bin"})
	if err != nil {
		return "", "", nil, err
	}
	cfg, err := mysql.ParseDSN(storeDSN)
	if err != nil {
		return "", "", nil, errors.Join(err, drop())
	}
	// What Grafana's MySQL datasource opens (pkg/tsdb/mysql), with the
	// session time zone our provisioning sets.
	g := cfg.Clone()
	g.ParseTime, g.Loc, g.Collation = true, time.UTC, "utf8mb4_unicode_ci"
	g.Params = map[string]string{"time_zone": "'+00:00'"}
	return storeDSN, g.FormatDSN(), drop, nil
}

// startPipeline runs the components in-process, each with its own registry
// as in separate processes, drives one ETL run through the SLA manager, the
// SLA answers and the retrieval service, and sends one undecodable message
// to the analyses topic.
func startPipeline(ctx context.Context, dsn, promURL string) (_ *pipeline, err error) {
	storeDSN, grafanaDSN, drop, err := freshDatabase(ctx, dsn)
	if err != nil {
		return nil, err
	}
	var cleanups []func() error
	stop := func() error {
		var errs []error
		for i := len(cleanups) - 1; i >= 0; i-- {
			errs = append(errs, cleanups[i]())
		}
		return errors.Join(append(errs, drop())...)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, stop())
		}
	}()

	st, err := store.Open(ctx, storeDSN)
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, st.Close)
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	db, err := sql.Open("mysql", grafanaDSN)
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, db.Close)

	runCtx, cancel := context.WithCancel(context.Background())
	broker, err := kafkaembed.Start(runCtx, kafkaembed.Options{})
	if err != nil {
		cancel()
		return nil, err
	}
	cleanups = append(cleanups, broker.Close)
	logger := slog.New(slog.DiscardHandler)
	regs := map[string]*prometheus.Registry{
		"slamanager": prometheus.NewRegistry(), "datastorage": prometheus.NewRegistry(), "dataretrieval": prometheus.NewRegistry(),
	}
	e, err := etl.New(etl.Config{PrometheusURL: promURL, Brokers: broker.Addrs()},
		etl.Deps{Logger: logger, Registerer: regs["slamanager"]})
	if err != nil {
		cancel()
		return nil, err
	}
	cleanups = append(cleanups, e.Close)
	consumer, err := datastorage.New(datastorage.Config{Brokers: broker.Addrs()}, st,
		datastorage.Deps{Logger: logger, Registerer: regs["datastorage"]})
	if err != nil {
		cancel()
		return nil, err
	}
	retrievalAddr := make(chan net.Addr, 1)
	retrieval, err := dataretrieval.New(dataretrieval.Config{Listen: "127.0.0.1:0"}, st, dataretrieval.Deps{
		Logger: logger, Registerer: regs["dataretrieval"], OnListen: func(a net.Addr) { retrievalAddr <- a }})
	if err != nil {
		cancel()
		return nil, err
	}
	manager, err := slamanager.New(slamanager.Config{Listen: "127.0.0.1:0", PrometheusURL: promURL},
		slamanager.Deps{Store: st, ETL: e, Logger: logger, Registerer: regs["slamanager"]})
	if err != nil {
		cancel()
		return nil, err
	}

	g, gctx := errgroup.WithContext(runCtx)
	cleanups = append(cleanups, func() error { cancel(); return g.Wait() })
	g.Go(func() error { return consumer.Run(gctx) })
	g.Go(func() error { return retrieval.Run(gctx) })
	g.Go(func() error { return manager.Run(gctx) })
	p := &pipeline{db: db, st: st, metricsURL: map[string]string{}, gatherers: map[string]prometheus.Gatherer{}, stop: stop}
	for name, reg := range regs {
		addr := make(chan net.Addr, 1)
		g.Go(func() error {
			return server.ServeMetrics(gctx, server.MetricsConfig{Listen: "127.0.0.1:0"}, reg, logger, func(a net.Addr) { addr <- a })
		})
		select {
		case a := <-addr:
			p.metricsURL[name] = "http://" + a.String() + "/metrics"
			p.gatherers[name] = reg
		case <-gctx.Done():
			return nil, fmt.Errorf("starting %s's /metrics: %w", name, g.Wait())
		}
	}
	var raddr net.Addr
	select {
	case <-manager.Ready():
	case <-gctx.Done():
		return nil, fmt.Errorf("starting the SLA manager: %w", g.Wait())
	}
	select {
	case raddr = <-retrievalAddr:
	case <-gctx.Done():
		return nil, fmt.Errorf("starting dataretrieval: %w", g.Wait())
	}

	if p.run, err = drive(ctx, manager.Addr().String(), raddr.String(), db); err != nil {
		return nil, err
	}
	if err := deadLetterOne(ctx, broker.Addrs(), regs["datastorage"]); err != nil {
		return nil, err
	}
	p.finishedAt = time.Now()
	return p, nil
}
