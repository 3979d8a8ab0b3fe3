// Package dataretrieval is the gRPC service (slapipe.v1.DataRetrieval) over
// what the pipeline stored: metrics and series, window statistics, ADF, ACF
// and season, forecasts with their interval, and the run history. Without
// a run_id, a query of one metric or series reads the latest complete run
// that has it (store.Store.Analyses), and a list of metrics or series reads
// the latest complete run (store.Store.LatestRunID; later pages stay on the
// first page's run); ListRuns reads the run history, not one run. Bad
// arguments are answered with InvalidArgument and the reason, unknown runs,
// metrics and series with NotFound, and store failures with Unavailable
// (connection) or Internal. Every call that can return many series comes a
// page at a time; every call has a server-side deadline, answers have a
// size bound, and at most Config.MaxConcurrent calls that read many series
// run at once (ResourceExhausted with a RetryInfo beyond).
package dataretrieval

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/slapipe/slapipe/pkg/server"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// DefaultListen is the address used when Config.Listen is empty (cli.md).
const DefaultListen = "127.0.0.1:50052"

// Defaults of the call limits, applied to zero Config fields.
const (
	DefaultCallTimeout = 30 * time.Second
	// DefaultMaxConcurrent bounds the reads of many series at once: a page
	// of 1000 forecasts is about 7 MB of answer, several times that while
	// it is built.
	DefaultMaxConcurrent = 4
	DefaultMaxSendBytes  = 16 << 20
	// queueWait is how long a read waits for a slot, retryAfter the hint
	// given when it waited in vain.
	queueWait  = time.Second
	retryAfter = time.Second
)

// Config configures the service.
type Config struct {
	// Listen is the gRPC address (host:port; port 0 picks a free one).
	Listen string
	// Security is the gRPC server's TLS, tokens and reflection setting.
	Security server.Security
	// CallTimeout is the server-side deadline of every call.
	CallTimeout time.Duration
	// MaxConcurrent is how many calls that read many series (lists,
	// statistics, metadata, forecasts) run at once; more wait up to a
	// second, then get ResourceExhausted with a retry hint.
	MaxConcurrent int
	// MaxSendBytes bounds one answer.
	MaxSendBytes int
}

// expensive are the calls CallLimits.MaxConcurrent counts.
var expensive = []string{
	slapipev1.DataRetrieval_ListMetrics_FullMethodName,
	slapipev1.DataRetrieval_ListSeries_FullMethodName,
	slapipev1.DataRetrieval_GetStats_FullMethodName,
	slapipev1.DataRetrieval_GetMetadata_FullMethodName,
	slapipev1.DataRetrieval_GetForecast_FullMethodName,
}

// Store is what the service reads; *store.Store implements it.
type Store interface {
	ListRuns(ctx context.Context, limit int) ([]*slapipev1.Run, error)
	ListMetrics(ctx context.Context, runID, nameFilter string, p store.Page) ([]*slapipev1.StoredMetric, string, string, error)
	ListSeries(ctx context.Context, runID, metric string, p store.Page) ([]*slapipev1.SeriesRef, string, string, error)
	AnalysesPage(ctx context.Context, q store.Query, p store.Page) (string, []*slapipev1.SeriesAnalysis, string, error)
}

// Deps are the process-wide collaborators of the service.
type Deps struct {
	// Logger receives the service's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the gRPC server metrics; nil registers them nowhere.
	Registerer prometheus.Registerer
	// OnListen, if set, is called with the bound address once Run listens.
	OnListen func(addr net.Addr)
}

// Server implements slapipev1.DataRetrievalServer over a Store.
type Server struct {
	slapipev1.UnimplementedDataRetrievalServer

	cfg      Config
	st       Store
	logger   *slog.Logger
	grpc     *server.GRPC
	onListen func(net.Addr)
}

var _ slapipev1.DataRetrievalServer = (*Server)(nil)

// New returns the service reading st, registered on a gRPC server built by
// server.NewGRPC (metrics, panic recovery, TLS, tokens, health,
// reflection). It does not listen; Run does.
func New(cfg Config, st Store, deps Deps) (*Server, error) {
	if st == nil {
		return nil, errors.New("dataretrieval: store is nil")
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.MaxSendBytes == 0 {
		cfg.MaxSendBytes = DefaultMaxSendBytes
	}
	if cfg.CallTimeout < 0 || cfg.MaxConcurrent < 0 || cfg.MaxSendBytes < 0 {
		return nil, fmt.Errorf("dataretrieval: call timeout (%s), max concurrent (%d) and max send bytes (%d) must not be negative",
			cfg.CallTimeout, cfg.MaxConcurrent, cfg.MaxSendBytes)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "dataretrieval")
	s := &Server{cfg: cfg, st: st, logger: logger, onListen: deps.OnListen}
	limits := server.CallLimits{Timeout: cfg.CallTimeout, Expensive: expensive, MaxConcurrent: cfg.MaxConcurrent,
		QueueWait: queueWait, RetryAfter: retryAfter, MaxSendBytes: cfg.MaxSendBytes}
	var err error
	if s.grpc, err = server.NewGRPC(logger, deps.Registerer, cfg.Listen, cfg.Security, limits.ServerOptions()...); err != nil {
		return nil, fmt.Errorf("dataretrieval: %w", err)
	}
	slapipev1.RegisterDataRetrievalServer(s.grpc, s)
	return s, nil
}

// Run serves gRPC on Config.Listen until ctx is done, then stops
// gracefully. It returns nil after a shutdown asked by ctx.
func (s *Server) Run(ctx context.Context) error {
	return s.grpc.ListenAndServe(ctx, s.onListen)
}

// storeError maps a store error to a gRPC status, keeping the operation and
// the store's reason in the message.
func storeError(op string, err error) error {
	code := codes.Internal
	switch {
	case errors.Is(err, store.ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, store.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case unreachable(err):
		code = codes.Unavailable
	}
	if code == codes.Unavailable || code == codes.Internal {
		return status.Errorf(code, "%s: reading the store: %v", op, err)
	}
	return status.Errorf(code, "%s: %v", op, err)
}

// unreachable reports whether err says the database cannot be reached (as
// opposed to a query the database refused).
func unreachable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, net.ErrClosed)
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}
