package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
)

// ServeMetrics serves GET /metrics (the metrics gathered from g, in any
// format Prometheus negotiates) and GET /healthz ("ok") on listen ("" means
// DefaultListen) until ctx is done. The bound address is logged at info
// level and passed to onListen (if not nil). It returns nil after a shutdown
// asked by ctx, letting in-flight scrapes finish for up to ShutdownTimeout.
func ServeMetrics(ctx context.Context, listen string, g prometheus.Gatherer, logger *slog.Logger, onListen func(addr net.Addr)) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if listen == "" {
		listen = DefaultListen
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
		if err := hs.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
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
