// Package server is the process plumbing shared by every long-running slapipe
// component: one way to build a gRPC server (Prometheus metrics, panic
// recovery, debug logging, TLS with certificate rotation, bearer tokens with
// roles, health and reflection) and serve it until a context ends, and one
// HTTP server for /metrics and /healthz behind Prometheus' exporter-toolkit
// web configuration (TLS, basic auth).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
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

// Security is how a gRPC server is protected: TLS, bearer tokens,
// reflection, and whether it may listen on a non-loopback address without
// tokens. The zero value is today's plaintext server with reflection,
// accepted only on loopback addresses.
type Security struct {
	// TLS are the certificate files; all empty means plaintext.
	TLS TLSFiles
	// AuthFile is the --auth-file (tokens by name, role and SHA-256); ""
	// means every caller is trusted.
	AuthFile string
	// ExtraTokens are accepted besides those of AuthFile (with AuthFile
	// set): a process's own client, such as the demo's, that holds a token
	// generated at start.
	ExtraTokens []Token
	// NoReflection turns server reflection off (--grpc-reflection=false).
	NoReflection bool
	// Insecure allows a non-loopback listen address without AuthFile.
	Insecure bool
}

// GRPC is a gRPC server with slapipe's plumbing: its calls are measured
// (grpc_server_*), logged at debug level, protected from panics (answered
// codes.Internal and counted in slapipe_grpc_panics_total), authenticated
// when Security names an auth file, and served over TLS when it names
// certificates. The health service is open to every caller; reflection
// (unless turned off) is open to every authenticated caller.
type GRPC struct {
	srv     *grpc.Server
	health  *health.Server
	metrics *grpcprom.ServerMetrics
	logger  *slog.Logger
	listen  string
}

// NewGRPC returns a server for listen ("" means DefaultListen) whose
// metrics are registered on reg (nil: registered nowhere; several servers
// may share one registerer and then share the collectors, told apart by the
// grpc_service label). It refuses half a TLS configuration, an invalid auth
// file, and a non-loopback listen address without an auth file unless
// sec.Insecure, each with an error that names the flag to give.
func NewGRPC(logger *slog.Logger, reg prometheus.Registerer, listen string, sec Security, extra ...grpc.ServerOption) (*GRPC, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if listen == "" {
		listen = DefaultListen
	}
	opts, metrics, err := ServerOptions(logger, reg, listen, sec)
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(append(opts, extra...)...)
	hs := health.NewServer()
	// Not serving until ListenAndServe has a listener.
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	if !sec.NoReflection {
		reflection.Register(srv)
	}
	return &GRPC{srv: srv, health: hs, metrics: metrics, logger: logger, listen: listen}, nil
}

// ServerOptions builds the options every slapipe gRPC server is made of:
// metrics, logging, panic recovery and authentication interceptors, and TLS
// credentials. It returns the metrics so the caller can initialise them once
// its services are registered.
func ServerOptions(logger *slog.Logger, reg prometheus.Registerer, listen string, sec Security) ([]grpc.ServerOption, *grpcprom.ServerMetrics, error) {
	tlsCfg, err := sec.TLS.serverConfig(logger)
	if err != nil {
		return nil, nil, err
	}
	// One registration set: a conflicting description fails the server's
	// construction, as it does every other component's.
	set := promreg.NewSet(reg)
	var authz *authorizer
	switch {
	case sec.AuthFile != "":
		f, err := LoadAuthFile(sec.AuthFile)
		if err != nil {
			return nil, nil, err
		}
		// LoadAuthFile validated the file; extra tokens (the demo's) are
		// checked against it.
		if len(sec.ExtraTokens) > 0 {
			f.Tokens = append(f.Tokens, sec.ExtraTokens...)
			if err := f.Validate(); err != nil {
				return nil, nil, fmt.Errorf("extra tokens: %w", err)
			}
		}
		authz = &authorizer{file: f.sums(), refused: newRefusedCounter(set), logger: logger}
		if tlsCfg == nil && !isLoopback(listen) {
			logger.Warn("bearer tokens will cross the network in plaintext: give --tls-cert-file and --tls-key-file", "listen", listen)
		}
	case !isLoopback(listen) && sec.Insecure:
		logger.Warn("serving without authentication on a non-loopback address (--insecure): every caller may change the SLA set and start runs", "listen", listen)
	case !isLoopback(listen):
		return nil, nil, fmt.Errorf("refusing to listen on %s without --auth-file: anyone who reaches it could read every result, "+
			"replace the SLA set and start runs; give --auth-file (docs/security.md), listen on 127.0.0.1, "+
			"or --insecure if only trusted clients can reach this network", listen)
	}

	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
		grpcprom.WithHistogramBuckets([]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
	))
	metrics = promreg.Add(set, metrics)
	panics := promreg.Add(set, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "slapipe_grpc_panics_total",
		Help: "Panics recovered in gRPC handlers (each answered with codes.Internal).",
	}))
	if err := set.Err(); err != nil {
		return nil, nil, fmt.Errorf("registering the gRPC server's metrics: %w", err)
	}

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
	// codes.Internal the recovery interceptor turns a panic into, and the
	// refusals of authentication, which recovery also covers.
	unary := []grpc.UnaryServerInterceptor{
		metrics.UnaryServerInterceptor(),
		logging.UnaryServerInterceptor(lg, logOpts...),
		recovery.UnaryServerInterceptor(recoverPanic),
	}
	stream := []grpc.StreamServerInterceptor{
		metrics.StreamServerInterceptor(),
		logging.StreamServerInterceptor(lg, logOpts...),
		recovery.StreamServerInterceptor(recoverPanic),
	}
	if authz != nil {
		unary = append(unary, auth.UnaryServerInterceptor(authz.authorize))
		stream = append(stream, auth.StreamServerInterceptor(authz.authorize))
	}
	opts := []grpc.ServerOption{grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...)}
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	return opts, metrics, nil
}

// isLoopback reports whether listen (host:port) binds a loopback address
// only. An empty host binds every interface.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RegisterService implements grpc.ServiceRegistrar.
func (s *GRPC) RegisterService(desc *grpc.ServiceDesc, impl any) {
	s.srv.RegisterService(desc, impl)
}

// Health returns the health service, so a component can report a degraded
// state.
func (s *GRPC) Health() *health.Server { return s.health }

// ListenAndServe listens, calls onListen with the bound address (if not
// nil), and serves until ctx is done or serving fails. On ctx done it
// reports NOT_SERVING, stops gracefully, and stops hard after
// ShutdownTimeout. It returns nil after a shutdown asked by ctx.
func (s *GRPC) ListenAndServe(ctx context.Context, onListen func(addr net.Addr)) error {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", s.listen)
	if err != nil {
		if ctx.Err() != nil {
			return nil // shut down before it started
		}
		return fmt.Errorf("grpc listen on %s: %w", s.listen, err)
	}
	// Services are registered by now, so every method gets zero-valued
	// series in /metrics before its first call.
	s.metrics.InitializeMetrics(s.srv)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for name := range s.srv.GetServiceInfo() {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	s.logger.Info("grpc listening", "addr", lis.Addr().String())
	if onListen != nil {
		onListen(lis.Addr())
	}

	g, gctx := errgroup.WithContext(ctx)
	serveDone := make(chan struct{})
	g.Go(func() error {
		defer close(serveDone)
		if err := s.srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
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
		s.health.Shutdown()
		stopped := make(chan struct{})
		go func() { s.srv.GracefulStop(); close(stopped) }()
		t := time.NewTimer(ShutdownTimeout)
		defer t.Stop()
		select {
		case <-stopped:
		case <-t.C:
			s.srv.Stop()
			<-stopped
		}
		return nil
	})
	return g.Wait()
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
