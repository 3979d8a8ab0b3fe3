// Package server is the process plumbing shared by every long-running slapipe
// component: one way to build a gRPC server (Prometheus metrics, panic
// recovery, debug logging, health and reflection), one way to serve it until
// a context ends, and one HTTP server for /metrics and /healthz.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/slapipe/slapipe/internal/promreg"
)

// DefaultListen is the address used when a listen address is empty: a free
// loopback port, so nothing is exposed by accident.
const DefaultListen = "127.0.0.1:0"

// ShutdownTimeout bounds how long a graceful stop waits for in-flight calls
// or requests before the server is stopped hard.
const ShutdownTimeout = 10 * time.Second

// GRPCOptions configures NewGRPC. The zero value is usable: metrics are then
// collected but registered nowhere, and logs are discarded.
type GRPCOptions struct {
	// Registerer receives the gRPC server metrics (grpc_server_*) and
	// slapipe_grpc_panics_total. Several servers may share one Registerer:
	// they then share the collectors, told apart by the grpc_service label.
	Registerer prometheus.Registerer
	// Logger receives one debug line per finished call, and panics at error level.
	Logger *slog.Logger
	// ServerOptions are appended after the interceptors (TLS credentials,
	// message size limits, ...).
	ServerOptions []grpc.ServerOption
}

// plumbing is what ServeGRPC needs to know about a server built by NewGRPC.
type plumbing struct {
	health  *health.Server
	metrics *grpcprom.ServerMetrics
	logger  *slog.Logger
}

// servers maps *grpc.Server to its *plumbing, so that ServeGRPC keeps the
// signature of a plain *grpc.Server.
var servers sync.Map

// NewGRPC returns a gRPC server whose unary and stream calls are measured
// (grpc_server_started/handled_total, grpc_server_handling_seconds), logged
// at debug level, and protected from panics: a panicking handler answers
// codes.Internal and increments slapipe_grpc_panics_total instead of
// crashing the process. The health service (reporting SERVING once
// ServeGRPC runs) and server reflection are registered.
func NewGRPC(opts GRPCOptions) *grpc.Server {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
		grpcprom.WithHistogramBuckets([]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
	))
	metrics = registerOrReuse(opts.Registerer, metrics)
	panics := registerOrReuse(opts.Registerer, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "slapipe_grpc_panics_total",
		Help: "Panics recovered in gRPC handlers (each answered with codes.Internal).",
	}))

	recoverPanic := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		panics.Inc()
		method, _ := grpc.Method(ctx)
		logger.ErrorContext(ctx, "grpc handler panicked", "method", method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return status.Errorf(codes.Internal, "internal error in %s", method)
	})
	logOpts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(callLevel),
	}
	lg := interceptorLogger(logger)

	// Order matters: metrics and logging are outermost so they see the
	// codes.Internal the recovery interceptor turns a panic into.
	serverOpts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(
			metrics.UnaryServerInterceptor(),
			logging.UnaryServerInterceptor(lg, logOpts...),
			recovery.UnaryServerInterceptor(recoverPanic),
		),
		grpc.ChainStreamInterceptor(
			metrics.StreamServerInterceptor(),
			logging.StreamServerInterceptor(lg, logOpts...),
			recovery.StreamServerInterceptor(recoverPanic),
		),
	}
	srv := grpc.NewServer(append(serverOpts, opts.ServerOptions...)...)

	hs := health.NewServer()
	// Not serving until ServeGRPC has a listener.
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	servers.Store(srv, &plumbing{health: hs, metrics: metrics, logger: logger})
	return srv
}

// Health returns the health service of a server built by NewGRPC (nil for
// any other server), so a component can report a degraded state.
func Health(srv *grpc.Server) *health.Server {
	if p, ok := servers.Load(srv); ok {
		return p.(*plumbing).health
	}
	return nil
}

// ServeGRPC listens on listen ("" means DefaultListen), calls onListen with
// the bound address (if not nil), and serves srv until ctx is done or serving
// fails. On ctx done it reports NOT_SERVING, stops gracefully, and stops hard
// after ShutdownTimeout. It returns nil after a shutdown asked by ctx.
func ServeGRPC(ctx context.Context, srv *grpc.Server, listen string, onListen func(addr net.Addr)) error {
	if listen == "" {
		listen = DefaultListen
	}
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		if ctx.Err() != nil {
			return nil // shut down before it started
		}
		return fmt.Errorf("grpc listen on %s: %w", listen, err)
	}
	var p *plumbing
	if v, ok := servers.Load(srv); ok {
		p = v.(*plumbing)
		defer servers.Delete(srv)
		// Services are registered by now, so every method gets zero-valued
		// series in /metrics before its first call.
		p.metrics.InitializeMetrics(srv)
		p.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		for name := range srv.GetServiceInfo() {
			p.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
		}
	}
	if p != nil {
		p.logger.Info("grpc listening", "addr", lis.Addr().String())
	}
	if onListen != nil {
		onListen(lis.Addr())
	}

	g, gctx := errgroup.WithContext(ctx)
	serveDone := make(chan struct{})
	g.Go(func() error {
		defer close(serveDone)
		if err := srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("grpc serve on %s: %w", lis.Addr(), err)
		}
		return nil
	})
	g.Go(func() error {
		select {
		case <-gctx.Done():
		case <-serveDone:
			return nil
		}
		if p != nil {
			p.health.Shutdown()
		}
		stopped := make(chan struct{})
		go func() { srv.GracefulStop(); close(stopped) }()
		t := time.NewTimer(ShutdownTimeout)
		defer t.Stop()
		select {
		case <-stopped:
		case <-t.C:
			srv.Stop()
			<-stopped
		}
		return nil
	})
	return g.Wait()
}

// registerOrReuse is promreg.RegisterOrReuse for the server's collectors:
// a conflicting registration leaves the server working, its metrics just
// not exported, and says so.
func registerOrReuse[C prometheus.Collector](r prometheus.Registerer, c C) C {
	c, err := promreg.RegisterOrReuse(r, c)
	if err != nil {
		slog.Default().Warn("grpc metrics not registered", "err", err)
	}
	return c
}

// callLevel logs ordinary outcomes at debug level and failures of the
// server itself at warn level, so that a production log at info stays quiet
// while a bug is still visible.
func callLevel(c codes.Code) logging.Level {
	switch c {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unimplemented:
		return logging.LevelWarn
	default:
		return logging.LevelDebug
	}
}

// interceptorLogger adapts slog to the go-grpc-middleware logging interface.
func interceptorLogger(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}
