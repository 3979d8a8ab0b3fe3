package datastorage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

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
	for _, d := range testkit.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st := testkit.Store(t, d)
			brokers := testkit.Broker(t, testPartitions)
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
			produce(t, brokers, defaultTopic, analysisMessages(t, as)...)
			produce(t, brokers, defaultRunsTopic, runMessage(t, run))

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
			require.False(t, committedAll(t, brokers, cfg.GroupID, defaultTopic))
			close(restore)
			<-crashed
			require.NoError(t, s1.stop())
			require.Less(t, rowCounts(t, st)["analyses"], n, "the crash must leave work for the restart")

			// Restart in the same group.
			fw2 := &faultyWriter{Writer: st}
			startConsumer(t, ctx, cfg, fw2)
			require.Eventually(t, func() bool {
				return committedAll(t, brokers, cfg.GroupID, defaultTopic) && committedAll(t, brokers, cfg.GroupID, defaultRunsTopic)
			}, waitLong, pollEvery)

			// Reference: every message written once, directly.
			ref := testkit.Store(t, d)
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

// poisonAnalysis is a valid analysis MariaDB cannot take: its ACF is 8 MB
// as protobuf and 18 MB as the JSON the store writes, over the server's
// 16 MiB max_allowed_packet. The server resets the connection, which looks
// like a lost connection while the server answers pings.
func poisonAnalysis(run string) *slapipev1.SeriesAnalysis {
	p := fixtures.Analysis()
	p.RunId, p.SeriesId = run, "poison"
	p.Acf = make([]float64, 1_000_000)
	for i := range p.Acf {
		p.Acf[i] = 0.123456789012345
	}
	return p
}

// createBigTopics creates the consumed topics with one partition (so the
// log order is the produce order) taking messages up to 16 MiB.
func createBigTopics(t testing.TB, brokers []string, names ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	var topics []kafka.TopicConfig
	for _, topic := range names {
		topics = append(topics, kafka.TopicConfig{Topic: topic, NumPartitions: 1, ReplicationFactor: 1,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "max.message.bytes", ConfigValue: strconv.Itoa(16 << 20)}}})
	}
	res, err := (&kafka.Client{Addr: kafka.TCP(brokers...)}).CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: topics})
	require.NoError(t, err)
	for topic, err := range res.Errors {
		require.NoError(t, err, topic)
	}
}

// produceBig writes msgs to topic in order with a writer taking 16 MiB.
func produceBig(t testing.TB, brokers []string, topic string, msgs ...kafka.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond, BatchBytes: 16 << 20, BatchSize: 1000}
	require.NoError(t, w.WriteMessages(ctx, msgs...))
	require.NoError(t, w.Close())
}

// TestPoisonMessageOnMariaDB puts an analysis MariaDB refuses for its size
// in the middle of one partition's 300 valid ones: the 300 are stored
// exactly, the partition's offsets all committed, and the poison is in the
// dead-letter topic, by reference (it is 8 MB, the dead-letter topic takes
// 1 MiB) with the store's reason.
func TestPoisonMessageOnMariaDB(t *testing.T) {
	ctx := context.Background()
	st := testkit.Store(t, store.DialectMySQL)
	brokers := testkit.Broker(t, testPartitions)
	createBigTopics(t, brokers, defaultTopic, defaultRunsTopic)
	cfg := testConfig(brokers)
	cfg.MaxMessageBytes = 16 << 20 // let it reach the database
	good := genAnalyses(t, "run-mdb-poison", 300)
	msgs := analysisMessages(t, good)
	poison := analysisMessages(t, []*slapipev1.SeriesAnalysis{poisonAnalysis("run-mdb-poison")})[0]
	produceBig(t, brokers, defaultTopic, append(append(msgs[:150:150], poison), msgs[150:]...)...)

	s := startConsumer(t, ctx, cfg, st)
	require.Eventually(t, func() bool { return committedAll(t, brokers, cfg.GroupID, defaultTopic) }, waitLong, pollEvery)

	ref := testkit.Store(t, store.DialectMySQL)
	require.NoError(t, ref.WriteAnalyses(ctx, good))
	require.Equal(t, rowCounts(t, ref), rowCounts(t, st))
	_, got, err := st.Analyses(ctx, store.Query{RunID: "run-mdb-poison", Metric: good[0].GetMetric()})
	require.NoError(t, err)
	require.Len(t, got, len(good))

	dead := consumeAll(t, brokers, defaultDLQTopic, 1)
	require.Len(t, dead, 1)
	require.Equal(t, "poison", string(dead[0].Key))
	require.Empty(t, dead[0].Value, "an 8 MB dead letter is sent by reference")
	require.Equal(t, strconv.Itoa(len(poison.Value)), headerValue(dead[0], HeaderSize))
	require.Equal(t, "150", headerValue(dead[0], HeaderOffset))
	require.Contains(t, headerValue(dead[0], HeaderError), fmt.Sprintf("refused by the store after %d attempts", DefaultPoisonTries))
	require.Equal(t, 1.0, testkit.Metric(t, s.reg, "slapipe_datastorage_dlq_references_total"))
}

// TestPermanentClassifiesRealErrors checks store.Permanent on errors the
// real databases return: a value too long for its column is permanent, a
// lost connection is not.
func TestPermanentClassifiesRealErrors(t *testing.T) {
	for _, d := range testkit.Dialects {
		t.Run(d, func(t *testing.T) {
			st := testkit.Store(t, d)
			_, err := st.DB().Exec("CREATE TABLE probe (id INTEGER PRIMARY KEY, v VARCHAR(4) NOT NULL)")
			require.NoError(t, err)
			_, err = st.DB().Exec("INSERT INTO probe (id, v) VALUES (1, NULL)")
			require.Error(t, err)
			require.True(t, store.Permanent(err), "NOT NULL violation: %v", err)
			require.False(t, store.Contended(err))
			_, err = st.DB().Exec("INSERT INTO probe (id, v) VALUES (1, 'a'), (1, 'b')")
			require.Error(t, err)
			require.True(t, store.Permanent(err), "duplicate key: %v", err)
			require.NoError(t, st.Close())
			err = st.DB().Ping()
			require.Error(t, err)
			require.False(t, store.Permanent(err), "closed database: %v", err)
		})
	}
}
