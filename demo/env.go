package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slapipe/slapipe/demo/embedded/history"
	"github.com/slapipe/slapipe/demo/embedded/kafka"
	"github.com/slapipe/slapipe/demo/embedded/prom"
	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// env is what the components run against: the embedded stand-ins started
// for the settings left empty, or the real servers the settings name.
type env struct {
	promURL string
	brokers []string
	st      *store.Store
	// storeDesc names the store for the report (DSN without password, or
	// the SQLite file).
	storeDesc string

	// Set for the embedded parts only.
	prom    *prom.Server
	gen     *history.Generator
	histLen int // series in the generated history
	broker  *kafka.Broker
	tmpDir  string
	logger  *slog.Logger
}

// startEnv starts the embedded parts that cfg does not replace by a real
// server. On error, whatever was started is stopped again.
func startEnv(ctx context.Context, cfg Config) (_ *env, err error) {
	e := &env{logger: cfg.Logger}
	// The embedded servers must outlive the components that use them: they
	// stop in close, after the components, not when ctx is cancelled.
	ctx = context.WithoutCancel(ctx)
	defer func() {
		if err != nil {
			err = errors.Join(err, e.close())
		}
	}()

	if cfg.PrometheusURL != "" {
		e.promURL = cfg.PrometheusURL
	} else {
		if e.gen, err = history.New(history.Options{}); err != nil {
			return nil, fmt.Errorf("demo history: %w", err)
		}
		hist := e.gen.History()
		e.histLen = len(hist)
		if e.prom, err = prom.Start(ctx, prom.Options{History: hist, Logger: cfg.Logger}); err != nil {
			return nil, err
		}
		e.promURL = e.prom.URL()
	}

	if cfg.KafkaBrokers != "" {
		for _, b := range strings.Split(cfg.KafkaBrokers, ",") {
			if b = strings.TrimSpace(b); b != "" {
				e.brokers = append(e.brokers, b)
			}
		}
		if len(e.brokers) == 0 {
			return nil, fmt.Errorf("demo: --kafka-brokers %q names no broker", cfg.KafkaBrokers)
		}
	} else {
		e.broker, err = kafka.Start(ctx, kafka.Options{
			Addr:       cfg.KafkaListen,
			Topics:     []string{slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic), slapipev1.DeadLetterTopic(slapipev1.DefaultTopic), slapipev1.TasksTopic(slapipev1.DefaultTopic)},
			Partitions: etl.DefaultPartitions,
			Logger:     cfg.Logger,
		})
		if err != nil {
			return nil, err
		}
		e.brokers = e.broker.Addrs()
	}

	dsn := cfg.MySQLDSN
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		e.storeDesc = "SQLite " + path
	} else {
		e.storeDesc = "MySQL " + redactDSN(dsn)
	}
	if dsn == "" {
		if e.tmpDir, err = os.MkdirTemp("", "slapipe-demo-"); err != nil {
			return nil, fmt.Errorf("demo: creating the sqlite directory: %w", err)
		}
		path := filepath.Join(e.tmpDir, "slapipe.db")
		dsn = "sqlite:" + path
		e.storeDesc = "SQLite " + path
	}
	if e.st, err = store.OpenMigrated(ctx, dsn); err != nil {
		return nil, fmt.Errorf("demo store: %w", err)
	}
	return e, nil
}

// live appends the generator's new points to the embedded Prometheus every
// step, as a scrape would, until ctx is done. A failed append is logged and
// retried at the next tick: the history is still served.
func (e *env) live(ctx context.Context) error {
	if e.prom == nil {
		return nil
	}
	t := time.NewTicker(e.gen.Step())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if err := e.prom.Append(ctx, e.gen.Continue(now)); err != nil && ctx.Err() == nil && e.logger != nil {
				e.logger.Warn("demo: appending live points", "err", err)
			}
		}
	}
}

// close stops the embedded parts and removes their files.
func (e *env) close() error {
	var errs []error
	if e.st != nil {
		errs = append(errs, e.st.Close())
	}
	if e.broker != nil {
		errs = append(errs, e.broker.Close())
	}
	if e.prom != nil {
		errs = append(errs, e.prom.Close())
	}
	if e.tmpDir != "" {
		errs = append(errs, os.RemoveAll(e.tmpDir))
	}
	return errors.Join(errs...)
}

// redactDSN hides the password of a go-sql-driver/mysql DSN
// (user:password@tcp(host)/db).
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	if at < 0 {
		return dsn
	}
	cred := dsn[:at]
	if user, _, ok := strings.Cut(cred, ":"); ok {
		return user + ":***" + dsn[at:]
	}
	return dsn
}
