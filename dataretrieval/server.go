// Package dataretrieval is the gRPC service (slapipe.v1.DataRetrieval) over
// what the pipeline stored: metrics and series, window statistics, ADF, ACF
// and season, forecasts with their interval, and the run history. Without
// a run_id, a query of one metric or series reads the latest complete run
// that has it (store.Store.Analyses), and a list of metrics or series reads
// the latest complete run (store.Store.LatestRunID; later pages stay on the
// first page's run); ListRuns reads the run history, not one run. Bad
// arguments are answered with InvalidArgument and the reason, unknown runs,
// metrics and series with NotFound, and store failures with Unavailable
// (connection) or Internal.
package dataretrieval

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
	"github.com/slapipe/slapipe/server"
	"github.com/slapipe/slapipe/store"
)

// DefaultListen is the address used when Config.Listen is empty (cli.md).
const DefaultListen = "127.0.0.1:50052"

// Config configures the service.
type Config struct {
	// Listen is the gRPC address (host:port; port 0 picks a free one).
	Listen string
	// Security is the gRPC server's TLS, tokens and reflection setting.
	Security server.Security
}

// Store is what the service reads; *store.Store implements it.
type Store interface {
	ListRuns(ctx context.Context, limit int) ([]*slapipev1.Run, error)
	ListMetrics(ctx context.Context, runID, nameFilter string, p store.Page) ([]*slapipev1.StoredMetric, string, string, error)
	ListSeries(ctx context.Context, runID, metric string, p store.Page) ([]*slapipev1.SeriesRef, string, string, error)
	Analyses(ctx context.Context, q store.Query) (string, []*slapipev1.SeriesAnalysis, error)
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
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "dataretrieval")
	s := &Server{cfg: cfg, st: st, logger: logger, onListen: deps.OnListen}
	var err error
	if s.grpc, err = server.NewGRPC(logger, deps.Registerer, cfg.Listen, cfg.Security); err != nil {
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
