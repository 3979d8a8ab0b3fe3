package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/slapipe/slapipe/dataretrieval"
	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// throughputMessages is how many messages one iteration of
// BenchmarkDatastorageThroughput moves.
const throughputMessages = 10000

// BenchmarkDatastorageThroughput measures datastorage end to end: realistic
// messages (internal/fixtures/analysis.json, about 7 KiB each) already on the
// in-process broker are consumed with the production configuration and
// stored into MariaDB, each iteration a new run (all inserts) and a new
// consumer group. "msgs/s" runs from the consumer's start (group join
// included) until every offset is committed; "steady-msgs/s" from the first
// stored row until then.
func BenchmarkDatastorageThroughput(b *testing.B) {
	baseDSN := testenv.MySQLDSN(b)
	brokers := testkit.Broker(b, 0)
	st := testkit.OpenStore(b, testenv.NewMySQLDatabase(b, baseDSN, "e2e"))
	db := st.DB()
	var total, steady time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		run := fmt.Sprintf("0193a5b0-0000-7000-8000-%012d", i)
		topic := "bench-" + randomSuffix(4)
		cfg := datastorage.Config{Brokers: brokers, Topic: topic,
			GroupID: topic}
		createTopics(b, brokers, datastorage.DefaultPartitions, cfg.Topic, slapipev1.RunsTopic(cfg.Topic))
		produce(b, brokers, topic, analysisMessages(b, fixtures.Analyses(run, throughputMessages))...)
		c, err := datastorage.New(cfg, st, datastorage.Deps{Logger: testenv.Logger(b)})
		require.NoError(b, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		b.StartTimer()

		start := time.Now()
		go func() { done <- c.Run(ctx) }()
		var first time.Time
		for {
			if first.IsZero() {
				var n int
				err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM analyses WHERE run_id = ?", run).Scan(&n)
				require.NoError(b, err)
				if n > 0 {
					first = time.Now()
				}
			}
			ok, err := committedAll(ctx, brokers, cfg.GroupID, cfg.Topic)
			require.NoError(b, err)
			if ok {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		end := time.Now()

		b.StopTimer()
		total += end.Sub(start)
		steady += end.Sub(first)
		cancel()
		require.NoError(b, <-done)
		require.Equal(b, throughputMessages, mustCountRun(b, db, run))
		b.StartTimer()
	}
	n := float64(b.N * throughputMessages)
	b.ReportMetric(n/total.Seconds(), "msgs/s")
	b.ReportMetric(n/steady.Seconds(), "steady-msgs/s")
}

// mustCountRun returns how many analyses of run are stored.
func mustCountRun(t testing.TB, db *sql.DB, run string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM analyses WHERE run_id = ?", run).Scan(&n))
	return n
}

// retrievalSeries is how many series (over len(fixtures.Metrics) metrics) the
// retrieval benchmark serves.
const retrievalSeries = 1000

// BenchmarkRetrievalLatency measures the retrieval service over MariaDB
// holding one run of 1000 realistic series, with 1, 8 and 64 concurrent
// clients (one gRPC connection each) calling GetStats or GetForecast for one
// series, or GetStats for a whole metric (100 series), on the latest run.
// It reports the latency percentiles p50 and p99 and the calls per second.
func BenchmarkRetrievalLatency(b *testing.B) {
	baseDSN := testenv.MySQLDSN(b)
	st := testkit.OpenStore(b, testenv.NewMySQLDatabase(b, baseDSN, "e2e"))
	run := "0193a5b0-0000-7000-8000-0000000be4c0"
	msgs := fixtures.Analyses(run, retrievalSeries)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < len(msgs); i += 500 {
		require.NoError(b, st.WriteAnalyses(ctx, msgs[i:min(i+500, len(msgs))]))
	}
	require.NoError(b, st.UpsertRun(ctx, runRecord(run, len(msgs))))

	addr := make(chan string, 1)
	srv, err := dataretrieval.New(dataretrieval.Config{Listen: "127.0.0.1:0"}, st,
		dataretrieval.Deps{OnListen: func(a net.Addr) { addr <- a.String() }})
	require.NoError(b, err)
	served := make(chan error, 1)
	go func() { served <- srv.Run(ctx) }()
	defer func() {
		cancel()
		require.NoError(b, <-served)
	}()
	target := <-addr

	calls := []struct {
		name string
		call func(ctx context.Context, c slapipev1.DataRetrievalClient, i int) error
	}{
		{"GetStats-series", func(ctx context.Context, c slapipev1.DataRetrievalClient, i int) error {
			_, err := c.GetStats(ctx, &slapipev1.SeriesQuery{SeriesId: msgs[i%len(msgs)].GetSeriesId()})
			return err
		}},
		{"GetForecast-series", func(ctx context.Context, c slapipev1.DataRetrievalClient, i int) error {
			_, err := c.GetForecast(ctx, &slapipev1.SeriesQuery{SeriesId: msgs[i%len(msgs)].GetSeriesId()})
			return err
		}},
		{"GetStats-metric", func(ctx context.Context, c slapipev1.DataRetrievalClient, i int) error {
			_, err := c.GetStats(ctx, &slapipev1.SeriesQuery{Metric: fixtures.Metrics[i%len(fixtures.Metrics)]})
			return err
		}},
	}
	for _, call := range calls {
		for _, clients := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("%s/clients=%d", call.name, clients), func(b *testing.B) {
				benchLatency(b, target, clients, call.call)
			})
		}
	}
}

// benchLatency makes b.N calls from clients goroutines, each with its own
// connection, and reports p50/p99 latency and throughput.
func benchLatency(b *testing.B, target string, clients int,
	call func(ctx context.Context, c slapipev1.DataRetrievalClient, i int) error) {
	ctx := context.Background()
	conns := make([]slapipev1.DataRetrievalClient, clients)
	for i := range conns {
		conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(b, err)
		defer func() { _ = conn.Close() }()
		conns[i] = slapipev1.NewDataRetrievalClient(conn)
		require.NoError(b, call(ctx, conns[i], i)) // connect and warm up outside the timing
	}
	testkit.Load(b, clients, func(w, i int) error { return call(ctx, conns[w], i) })
}
