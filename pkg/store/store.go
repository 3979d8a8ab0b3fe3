// Package store keeps what the pipeline computed: series, runs, window
// statistics, stationarity, autocorrelation, seasons, forecasts, the SLA set
// and its history, and violation snapshots. It speaks two SQL dialects with
// one schema and one behaviour: MySQL/MariaDB through go-sql-driver/mysql
// (production, Grafana) and SQLite through modernc.org/sqlite (the embedded
// default of `slapipe demo`). It knows nothing of Kafka.
package store

import (
	"context"
	"errors"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// ErrNotFound is returned when the asked-for run, series, metric or SLA set
// does not exist.
var ErrNotFound = errors.New("not found")

// Query selects stored analyses: the series of Metric, or the one series
// SeriesID, in run RunID ("" = the latest complete run).
type Query struct {
	Metric   string
	SeriesID string
	RunID    string
	// Parts is what to read besides each series' header (metric, labels,
	// type, range, samples); 0 reads everything.
	Parts Parts
}

// Parts is a set of the parts of an analysis, each in a table of its own:
// reading only those a caller needs spares the others' rows (a forecast's
// points are most of an analysis).
type Parts uint8

// The parts of an analysis.
const (
	PartWindows     Parts = 1 << iota // window statistics
	PartADF                           // stationarity test
	PartACF                           // autocorrelation
	PartSeasonality                   // season, seasonal indices and the season check
	PartForecast                      // forecast and its points
)

// Page is a pagination request; Token is opaque ("" = first page), Size 0
// means 100.
type Page struct {
	Size  int
	Token string
}

// API is what the components use; *Store implements it. It is spelled out
// here so the components can declare the subsets they need.
type API interface {
	// Migrate creates or upgrades the schema; idempotent.
	Migrate(ctx context.Context) error
	// WriteAnalyses stores a batch in ONE transaction; upserts keyed by
	// (run_id, series_id), so writing the same messages again changes nothing.
	WriteAnalyses(ctx context.Context, msgs []*slapipev1.SeriesAnalysis) error
	// UpsertRun records or updates a run (keyed by run_id).
	UpsertRun(ctx context.Context, run *slapipev1.Run) error
	// ListRuns returns the newest runs first.
	ListRuns(ctx context.Context, limit int) ([]*slapipev1.Run, error)
	// LatestRunID is the latest complete run (succeeded, every series
	// stored), or the newest run with analyses while none is complete.
	LatestRunID(ctx context.Context) (string, error)
	// ListMetrics lists stored metric names matching the RE2 nameFilter
	// ("" = all) in run runID (latest if "", or the page token's), and
	// returns the run it read.
	ListMetrics(ctx context.Context, runID, nameFilter string, p Page) (metrics []*slapipev1.StoredMetric, run, next string, err error)
	// ListSeries lists stored series, of one metric if metric != "", as
	// ListMetrics does.
	ListSeries(ctx context.Context, runID, metric string, p Page) (series []*slapipev1.SeriesRef, run, next string, err error)
	// Analyses returns the stored messages matching q, rebuilt from the tables
	// (equal to what was written), ordered by metric then series id.
	Analyses(ctx context.Context, q Query) (runID string, msgs []*slapipev1.SeriesAnalysis, err error)
	// SaveSLA stores a new version of the SLA set (history kept) and returns it
	// with its version and time.
	SaveSLA(ctx context.Context, objectives []*slapipev1.Objective, actor string) (*slapipev1.SLASet, error)
	// LoadSLA returns the newest SLA set, or ErrNotFound if none was saved.
	LoadSLA(ctx context.Context) (*slapipev1.SLASet, error)
	// SaveViolations keeps the latest violation snapshot (for degraded mode).
	SaveViolations(ctx context.Context, v *slapipev1.GetViolationsResponse) error
	// LatestViolations returns the newest snapshot, or ErrNotFound.
	LatestViolations(ctx context.Context) (*slapipev1.GetViolationsResponse, error)
	// Ping checks the database connection.
	Ping(ctx context.Context) error
	// Close releases the connection pool.
	Close() error
}
