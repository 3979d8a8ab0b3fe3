package datastorage

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testenv"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
	"github.com/slapipe/slapipe/store"
)

var dialects = []string{store.DialectSQLite, store.DialectMySQL}

// freshStore opens a migrated store on a new empty database of dialect,
// dropped when the test ends. MySQL without SLAPIPE_TEST_MYSQL_DSN skips,
// or fails under CI=true.
func freshStore(t testing.TB, dialect string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "store.db")
	if dialect == store.DialectMySQL {
		dsn = testenv.NewMySQLDatabase(t, testenv.MySQLDSN(t), "ds")
	}
	st, err := store.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(ctx))
	return st
}

// rowCounts counts the rows of every table (not view) of st.
func rowCounts(t testing.TB, st *store.Store) map[string]int {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if st.Dialect() == store.DialectMySQL {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
	}
	rows, err := st.DB().Query(q)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	sort.Strings(tables)
	out := map[string]int{}
	for _, table := range tables {
		var n int
		// Table names come from the catalogue, not from input.
		require.NoError(t, st.DB().QueryRow("SELECT COUNT(*) FROM "+table).Scan(&n), table)
		out[table] = n
	}
	return out
}

// faultyWriter wraps the real store with the faults of a production night:
// an outage while down is set, and one write whose commit is not
// acknowledged (the transaction committed, the client saw an error).
type faultyWriter struct {
	Writer
	down      atomic.Bool
	lostAckAt int // the call whose acknowledgement is lost
	mu        sync.Mutex
	calls     int
	written   int
	failures  int
	// beforeCall runs before each WriteAnalyses with its 1-based number.
	beforeCall func(ctx context.Context, call int)
}

func (f *faultyWriter) WriteAnalyses(ctx context.Context, msgs []*slapipev1.SeriesAnalysis) error {
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.mu.Unlock()
	if f.beforeCall != nil {
		f.beforeCall(ctx, call)
	}
	if f.down.Load() {
		f.mu.Lock()
		f.failures++
		f.mu.Unlock()
		return errors.New("dial tcp 127.0.0.1:3306: connect: connection refused")
	}
	if err := f.Writer.WriteAnalyses(ctx, msgs); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.written += len(msgs)
	if call == f.lostAckAt {
		return errors.New("invalid connection: commit acknowledgement lost")
	}
	return nil
}

func (f *faultyWriter) stats() (written, failures int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.written, f.failures
}

// TestRealStoreSurvivesFaults runs the consumer into the real store through
// a lost acknowledgement, an outage of the database and a crash in the
// middle of a batch followed by a restart: the tables end up exactly as a
// direct write of every message leaves them, and every message reads back
// equal.
func TestRealStoreSurvivesFaults(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st := freshStore(t, d)
			brokers := newCluster(t)
			cfg := testConfig(brokers)
			cfg.BatchSize = 100
			cfg.ShutdownGrace = 1 // ns: the crash leaves no time to finish
			// One lane, so the writer's calls are sequential and the row
			// counts taken at the outage cannot move under another lane's
			// write still in flight.
			cfg.Writers = 1
			const n = 1200
			as := genAnalyses(t, "run-faults", n)
			run := &slapipev1.Run{RunId: "run-faults", Status: "succeeded", Series: n,
				StartedAt:  timestamppb.New(time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)),
				FinishedAt: timestamppb.New(time.Date(2026, 11, 23, 11, 0, 30, 0, time.UTC)), Trigger: "schedule"}
			produce(t, brokers, DefaultTopic, analysisMessages(t, as)...)
			produce(t, brokers, DefaultRunsTopic, runMessage(t, run))

			// First consumer: the 2nd write loses its ack, the database is
			// down from the 4th call for a while, and the consumer crashes
			// inside its 10th call.
			ctx1, crash := context.WithCancel(ctx)
			outage := make(chan struct{})
			restore := make(chan struct{})
			crashed := make(chan struct{})
			fw := &faultyWriter{Writer: st, lostAckAt: 2}
			fw.beforeCall = func(ctx context.Context, call int) {
				switch call {
				case 4:
					fw.down.Store(true)
					close(outage)
				case 10:
					close(crashed)
					crash()
					<-ctx.Done() // the grace is over: the write gets a dead context
				}
				if call > 4 && fw.down.Load() {
					select {
					case <-restore:
						fw.down.Store(false)
					default:
					}
				}
			}
			s1 := startConsumer(t, ctx1, cfg, fw)
			<-outage
			before := rowCounts(t, st)
			// While the store is down nothing new is committed or written.
			require.Eventually(t, func() bool { _, f := fw.stats(); return f >= 3 }, waitLong, pollEvery)
			require.Equal(t, before, rowCounts(t, st))
			require.False(t, committedAll(t, brokers, cfg.GroupID, DefaultTopic))
			close(restore)
			<-crashed
			require.NoError(t, s1.stop())
			require.Less(t, rowCounts(t, st)["analyses"], n, "the crash must leave work for the restart")

			// Restart in the same group.
			fw2 := &faultyWriter{Writer: st}
			startConsumer(t, ctx, cfg, fw2)
			require.Eventually(t, func() bool {
				return committedAll(t, brokers, cfg.GroupID, DefaultTopic) && committedAll(t, brokers, cfg.GroupID, DefaultRunsTopic)
			}, waitLong, pollEvery)

			// Reference: every message written once, directly.
			ref := freshStore(t, d)
			require.NoError(t, ref.WriteAnalyses(ctx, as))
			require.NoError(t, ref.UpsertRun(ctx, run))
			want := rowCounts(t, ref)
			require.Equal(t, want, rowCounts(t, st))
			for _, table := range []string{"analyses", "window_stats", "forecasts", "runs"} {
				require.Positive(t, want[table], "reference store table %s", table)
			}

			gotRun, got, err := st.Analyses(ctx, store.Query{RunID: "run-faults", Metric: as[0].GetMetric()})
			require.NoError(t, err)
			require.Equal(t, "run-faults", gotRun)
			require.Len(t, got, n)
			byID := map[string]*slapipev1.SeriesAnalysis{}
			for _, m := range got {
				byID[m.GetSeriesId()] = m
			}
			for i, a := range as {
				require.True(t, proto.Equal(a, byID[a.GetSeriesId()]), "analysis %d reads back different", i)
			}
			runs, err := st.ListRuns(ctx, 10)
			require.NoError(t, err)
			require.Len(t, runs, 1)
			require.True(t, proto.Equal(run, runs[0]), "run reads back different: %v", runs[0])
		})
	}
}
