package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v2"
	"golang.org/x/sync/errgroup"
)

// MetricsConfig says where and how /metrics is served.
type MetricsConfig struct {
	// Listen is the address ("" means DefaultListen).
	Listen string
	// WebConfigFile is a Prometheus exporter-toolkit web configuration
	// (--web-config-file: tls_server_config, basic_auth_users with bcrypt
	// hashes, http_server_config), re-read on every connection and request;
	// "" serves plain HTTP without authentication.
	WebConfigFile string
}

// ServeMetrics serves GET /metrics (the metrics gathered from g, in any
// format Prometheus negotiates) and GET /healthz ("ok") as cfg says until
// ctx is done. An invalid web configuration fails before listening. The
// bound address is logged at info level and passed to onListen (if not
// nil). It returns nil after a shutdown asked by ctx, letting in-flight
// scrapes finish for up to ShutdownTimeout.
func ServeMetrics(ctx context.Context, cfg MetricsConfig, g prometheus.Gatherer, logger *slog.Logger, onListen func(addr net.Addr)) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	listen := cfg.Listen
	if listen == "" {
		listen = DefaultListen
	}
	if err := web.Validate(cfg.WebConfigFile); err != nil {
		return fmt.Errorf("--web-config-file %s: %w", cfg.WebConfigFile, err)
	}
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		if ctx.Err() != nil {
			return nil // shut down before it started
		}
		return fmt.Errorf("metrics listen on %s: %w", listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
		EnableOpenMetrics: true,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("metrics listening", "addr", lis.Addr().String())
	if onListen != nil {
		onListen(lis.Addr())
	}

	eg, gctx := errgroup.WithContext(ctx)
	serveDone := make(chan struct{})
	eg.Go(func() error {
		defer close(serveDone)
		webCfg := cfg.WebConfigFile
		err := web.Serve(lis, hs, &web.FlagConfig{WebConfigFile: &webCfg}, logger)
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("metrics serve on %s: %w", lis.Addr(), err)
		}
		return nil
	})
	eg.Go(func() error {
		select {
		case <-gctx.Done():
		case <-serveDone:
			return nil
		}
		// The parent context is done; shutdown needs a fresh deadline.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			_ = hs.Close()
		}
		return nil
	})
	return eg.Wait()
}

// Scheme returns "https" when the web configuration serves TLS, else
// "http", for printing the address of /metrics. The file is read with the
// exporter-toolkit's own types; a file that does not load says "http" (and
// ServeMetrics refuses it anyway).
func (c MetricsConfig) Scheme() string {
	if c.WebConfigFile == "" {
		return "http"
	}
	b, err := os.ReadFile(c.WebConfigFile)
	if err != nil {
		return "http"
	}
	var wc web.Config
	if yaml.Unmarshal(b, &wc) != nil || !wc.TLSConfig.IsEnabled() {
		return "http"
	}
	return "https"
}
