// Package etl is slapipe's extract-transform-load stage: one run pulls the
// last Range (12 h) of every series matching the watch list from Prometheus
// at Step (5 s), one query_range per metric (package promsource), analyses
// every series with package analysis, bounded-parallel over the cores, and
// publishes one slapipev1.SeriesAnalysis per series to Kafka, keyed by the
// series id, then one slapipev1.Run describing the run.
//
// The grid of a run ends at the run's time rounded down to a multiple of
// Step and holds Range/Step points, so it covers (end-Range, end]. Window
// "1h" is its last 1h/Step points, "3h" its last 3h/Step, "12h" its last
// 12h/Step (all of it by default); a window longer than the grid is the
// whole grid. Counters (see promsource.Classify) are analysed as per-second
// rates; the grid's first point has a rate because one point before it is
// pulled too.
package etl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/slapipe/slapipe/internal/kafkaconn"
	"github.com/slapipe/slapipe/internal/kafkatopic"
	"github.com/slapipe/slapipe/pkg/analysis"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Default configuration values, applied by New to zero fields.
const (
	DefaultPartitions   = kafkatopic.DefaultPartitions
	DefaultStep         = 5 * time.Second
	DefaultRange        = slapipev1.LongestWindow
	DefaultQueryTimeout = promsource.DefaultTimeout // one bound for both: a run only queries through promsource
	// DefaultMaxSelectors is far above the default selection (the watch
	// list and at most 50 objectives) and far below the thousands of range
	// queries that would keep the ETL busy for a minute.
	DefaultMaxSelectors = 200
	// DefaultMaxSeries is 5x the 1000 series the pipeline is sized for; a
	// run holds every series' 12 h grid in memory (69 MB per 1000 series).
	DefaultMaxSeries  = 5000
	DefaultRunTimeout = 5 * time.Minute
)

// DefaultWatchList is what a run pulls when no selectors are configured: the
// metrics of the default SLA set, then node_exporter's usual health metrics.
var DefaultWatchList = []string{
	"node_disk_written_bytes_total",
	"node_memory_MemFree_bytes",
	`node_filesystem_avail_bytes{mountpoint="/"}`,
	"node_memory_Active_bytes",
	"node_network_receive_packets_total",
	"node_cpu_seconds_total",
	"node_load1",
	"node_load5",
	"node_load15",
	"node_memory_MemAvailable_bytes",
	"node_filesystem_avail_bytes",
	"node_disk_read_bytes_total",
	"node_disk_io_time_seconds_total",
	"node_network_receive_bytes_total",
	"node_network_transmit_bytes_total",
	"node_network_transmit_packets_total",
	"node_context_switches_total",
	"node_procs_running",
}

// Config is the whole configuration of the ETL. Zero fields take the
// defaults above.
type Config struct {
	// PrometheusURL is the Prometheus to read, e.g. http://127.0.0.1:9090.
	PrometheusURL string
	// Brokers are the Kafka bootstrap addresses (host:port).
	Brokers []string
	// Kafka is the TLS and SASL of every connection to the brokers; the
	// zero value is plaintext.
	Kafka kafkaconn.Security
	// Topic receives one SeriesAnalysis per series; default
	// slapipev1.DefaultTopic. Run records go to slapipev1.RunsTopic(Topic).
	Topic string
	// Partitions is the partition count of topics New creates; default 6.
	Partitions int
	// Step is the grid step; default 5 s.
	Step time.Duration
	// Range is how far back a run pulls; default 12 h.
	Range time.Duration
	// Selectors is the watch list (see promsource.ParseSelector for the
	// accepted forms); nil means DefaultWatchList.
	Selectors []string
	// Parallelism bounds concurrent queries and analyses; 0 means GOMAXPROCS.
	Parallelism int
	// QueryTimeout bounds each Prometheus request; default 2 min.
	QueryTimeout time.Duration
	// Compression of produced batches: "", "none", "gzip", "snappy", "lz4"
	// or "zstd".
	Compression string
	// MaxSelectors is the most selectors one run takes; default 200.
	MaxSelectors int
	// MaxSeries is the most series one run pulls, counted before pulling;
	// default 5000.
	MaxSeries int
	// RunTimeout bounds a run's pull and analysis; default 5 min.
	RunTimeout time.Duration

	// Distributed makes Run a coordinator: it lists the run's series and
	// hands them out as tasks on slapipev1.TasksTopic(Topic) to the workers
	// of consumer group GroupID (Work), which pull, analyse and publish
	// them; the run ends when every task is reported done on
	// slapipev1.ProgressTopic(Topic).
	Distributed bool
	// GroupID is the workers' consumer group; default "slapipe-etl".
	GroupID string
	// TaskSeries is the number of series per task; default 100.
	TaskSeries int
	// TaskTimeout fails a distributed run when no task is done for that
	// long (no workers, or all stuck); default 2 min.
	TaskTimeout time.Duration
	// SessionTimeout is how long the group waits for a silent worker before
	// its tasks go to another; default 10 s.
	SessionTimeout time.Duration
	// Read is how workers pull: promsource.ReadAuto (""), ReadRemote or
	// ReadQueryRange.
	Read string
}

// Deps are the process-wide facilities the ETL uses.
type Deps struct {
	// Logger receives one line per run and per failed analysis; nil discards.
	Logger *slog.Logger
	// Registerer receives the ETL's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// PrometheusTransport carries the requests to Prometheus (credentials,
	// TLS, proxy: --prometheus-config-file); nil means client_golang's default.
	PrometheusTransport http.RoundTripper
}

// RunOptions tune one run.
type RunOptions struct {
	// Selectors replace Config.Selectors for this run when non-nil.
	Selectors []string
	// Trigger is recorded in the Run: "manual" (default), "schedule", "cli".
	Trigger string
	// Progress, when set, is called as stages advance: at each stage's start
	// and end and at most every 100 ms in between, never concurrently.
	Progress func(Progress)
	// End is the time the pulled range ends at (rounded down to the step);
	// zero means now. Tests and replays pin it.
	End time.Time
}

// Progress reports how far a run is.
type Progress struct {
	RunID string
	// Stage is "pull" (Done/Total count metrics), "analyse" (series),
	// "publish" (messages) or "done".
	Stage       string
	Done, Total int
	// Elapsed is the time since the run started.
	Elapsed time.Duration
}

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("etl closed")

// ErrInvalidSelector is promsource.ErrInvalidSelector, re-exported so
// callers of the ETL need not import promsource to branch on it.
var ErrInvalidSelector = promsource.ErrInvalidSelector

// ErrLimit is wrapped by the error of a run refused for asking too much (a
// limit of Config); the error names the limit. Callers answer it as an
// invalid argument.
var ErrLimit = errors.New("over a limit")

// source is what a run needs from Prometheus.
type source interface {
	Plan(ctx context.Context, selectors []string, start, end time.Time) ([]promsource.Query, error)
	Fetch(ctx context.Context, q promsource.Query, start, end time.Time, step time.Duration) ([]promsource.Series, error)
	List(ctx context.Context, queries []promsource.Query, start, end time.Time, step time.Duration, limit int) ([]promsource.SeriesRef, error)
	FetchSeries(ctx context.Context, refs []promsource.SeriesRef, start, end time.Time, step time.Duration, parallelism int) ([]promsource.Series, error)
}

// publisher is what a run needs from Kafka; *kafka.Writer is one.
type publisher interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
	Close() error
}

// ETL runs the pipeline. Runs are serialised: a Run waits for the one in
// progress (or for its context) before starting.
type ETL struct {
	cfg Config
	src source
	pub publisher
	// tasks publishes a distributed run's tasks, one partition after the
	// other (taskBalancer); nil in tests that run nothing distributed.
	tasks   publisher
	logger  *slog.Logger
	metrics *metrics
	slot    chan struct{} // holds a token while a run is in progress
	// topicsReady is set once a run has created the topics; read and
	// written only while holding slot.
	topicsReady bool
	closed      chan struct{}
	// analyze is analysis.Analyze outside tests.
	analyze analyzeFunc
}

// New checks cfg and returns an ETL ready to Run. It fails only on an
// invalid configuration: neither Kafka nor Prometheus is contacted before a
// run, so a component holding an ETL starts while they are down.
func New(cfg Config, deps Deps) (*ETL, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("etl config: brokers: at least one Kafka broker is required")
	}
	src, err := promsource.New(promsource.Config{URL: cfg.PrometheusURL, Timeout: cfg.QueryTimeout, Logger: deps.Logger, Read: cfg.Read,
		RoundTripper: deps.PrometheusTransport})
	if err != nil {
		return nil, fmt.Errorf("etl config: %w", err)
	}
	codec, err := compression(cfg.Compression)
	if err != nil {
		return nil, err
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Transport:    cfg.Kafka.Transport(),
		Balancer:     &kafka.Hash{}, // one series, one partition: its messages stay ordered
		RequiredAcks: kafka.RequireAll,
		BatchSize:    publishChunk,
		BatchTimeout: 10 * time.Millisecond,
		Compression:  codec,
	}
	e, err := newETL(cfg, deps, src, w)
	if err != nil {
		return nil, err
	}
	e.tasks = &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Transport:    cfg.Kafka.Transport(),
		Balancer:     taskBalancer{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
	}
	return e, nil
}

// newETL wires a checked configuration to its source and publisher and
// registers the ETL's metrics.
func newETL(cfg Config, deps Deps, src source, pub publisher) (*ETL, error) {
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &ETL{
		cfg:     cfg,
		src:     src,
		pub:     pub,
		logger:  logger,
		metrics: m,
		slot:    make(chan struct{}, 1),
		closed:  make(chan struct{}),
		analyze: defaultAnalyze,
	}, nil
}

// Close waits for the run in progress, then releases the Kafka writer.
// Later Runs return ErrClosed.
func (e *ETL) Close() error {
	e.slot <- struct{}{}
	defer func() { <-e.slot }()
	select {
	case <-e.closed:
		return nil
	default:
	}
	close(e.closed)
	var errs []error
	for _, p := range []publisher{e.pub, e.tasks} {
		if p != nil {
			if err := p.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing kafka writer: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// withDefaults fills zero fields and validates the rest; errors name the
// field and the bad value.
func (c Config) withDefaults() (Config, error) {
	if c.Topic == "" {
		c.Topic = slapipev1.DefaultTopic
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.Step == 0 {
		c.Step = DefaultStep
	}
	if c.Range == 0 {
		c.Range = DefaultRange
	}
	if c.Selectors == nil {
		c.Selectors = DefaultWatchList
	}
	if c.Parallelism == 0 {
		c.Parallelism = runtime.GOMAXPROCS(0)
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = DefaultQueryTimeout
	}
	if c.MaxSelectors == 0 {
		c.MaxSelectors = DefaultMaxSelectors
	}
	if c.MaxSeries == 0 {
		c.MaxSeries = DefaultMaxSeries
	}
	if c.RunTimeout == 0 {
		c.RunTimeout = DefaultRunTimeout
	}
	c = c.distributedDefaults()
	switch {
	case c.PrometheusURL == "":
		return c, errors.New("etl config: prometheus url is required")
	case c.Partitions < 1:
		return c, fmt.Errorf("etl config: partitions: must be at least 1 (got %d)", c.Partitions)
	case c.Step < time.Millisecond || c.Step%time.Millisecond != 0:
		return c, fmt.Errorf("etl config: step: must be a whole number of milliseconds, at least 1ms (got %s)", c.Step)
	case c.Range < c.Step:
		return c, fmt.Errorf("etl config: range: must be at least the step %s (got %s)", c.Step, c.Range)
	case int64(c.Range/c.Step)+1 > promsource.MaxPoints:
		return c, fmt.Errorf("etl config: range %s at step %s needs %d points, Prometheus answers at most %d", c.Range, c.Step, int64(c.Range/c.Step)+1, promsource.MaxPoints)
	case c.Parallelism < 1:
		return c, fmt.Errorf("etl config: parallelism: must be at least 1 (got %d)", c.Parallelism)
	case c.QueryTimeout < 0:
		return c, fmt.Errorf("etl config: query timeout: must not be negative (got %s)", c.QueryTimeout)
	case c.MaxSelectors < 1 || c.MaxSeries < 1 || c.RunTimeout < 0:
		return c, fmt.Errorf("etl config: max selectors (%d) and max series (%d) must be positive, run timeout (%s) not negative",
			c.MaxSelectors, c.MaxSeries, c.RunTimeout)
	case slapipev1.HorizonSteps(c.Step) > analysis.MaxHorizon:
		return c, fmt.Errorf("etl config: step %s needs %d forecast points to cover %s, the engine computes at most %d",
			c.Step, slapipev1.HorizonSteps(c.Step), slapipev1.ForecastHorizon, analysis.MaxHorizon)
	}
	if err := slapipev1.CheckTopic(c.Topic); err != nil {
		return c, fmt.Errorf("etl config: %w", err)
	}
	if err := c.validateDistributed(); err != nil {
		return c, err
	}
	if len(c.Selectors) == 0 {
		return c, errors.New("etl config: selectors: at least one selector is required")
	}
	if len(c.Selectors) > c.MaxSelectors {
		return c, fmt.Errorf("etl config: selectors: %d, at most %d (max selectors)", len(c.Selectors), c.MaxSelectors)
	}
	for i, s := range c.Selectors {
		if _, _, err := promsource.ParseSelector(s); err != nil {
			return c, fmt.Errorf("etl config: selectors[%d]: %w", i, err)
		}
	}
	return c, nil
}

func compression(name string) (kafka.Compression, error) {
	switch strings.ToLower(name) {
	case "", "none":
		return 0, nil
	case "gzip":
		return kafka.Gzip, nil
	case "snappy":
		return kafka.Snappy, nil
	case "lz4":
		return kafka.Lz4, nil
	case "zstd":
		return kafka.Zstd, nil
	}
	return 0, fmt.Errorf("etl config: compression: want none, gzip, snappy, lz4 or zstd (got %q)", name)
}
