package datastorage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

func TestNewValidatesConfig(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no brokers", Config{}, "brokers"},
		{"batch too large", Config{Brokers: []string{"b:9092"}, BatchSize: 1e6}, "batch size"},
		{"negative batch", Config{Brokers: []string{"b:9092"}, BatchSize: -1}, "batch size"},
		{"bad topic", Config{Brokers: []string{"b:9092"}, Topic: "a/b"}, `kafka topic "a/b": invalid argument`},
		{"retry max below min", Config{Brokers: []string{"b:9092"}, RetryMin: 2e9, RetryMax: 1e9}, "retry max"},
		{"defaults", Config{Brokers: []string{"b:9092"}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cons, err := New(c.cfg, &fakeWriter{}, Deps{})
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, DefaultGroupID, cons.cfg.GroupID)
			require.Equal(t, DefaultBatchSize, cons.cfg.BatchSize)
			require.Equal(t, defaultDLQTopic, cons.cfg.dlqTopic())
		})
	}
}

// TestStoresEveryMessage sends 600 analyses, 150 of them twice (a producer
// retry), and a run: every analysis is stored with its content, the keys
// sent once are written once, and all offsets end up committed.
func TestStoresEveryMessage(t *testing.T) {
	brokers := testkit.Broker(t, testPartitions)
	const n, dup = 600, 150
	as := genAnalyses(t, "run-1", n)
	msgs := analysisMessages(t, as)
	run := &slapipev1.Run{RunId: "run-1", Status: "succeeded", Series: n, StartedAt: timestamppb.Now()}
	cfg := testConfig(brokers)
	produce(t, brokers, defaultTopic, msgs...)
	produce(t, brokers, defaultTopic, msgs[:dup]...)
	produce(t, brokers, defaultRunsTopic, runMessage(t, run))

	w := &fakeWriter{}
	s := startConsumer(t, context.Background(), cfg, w)
	require.Eventually(t, func() bool {
		return len(w.keys()) == n && w.runCount() >= 1 && committedAll(t, brokers, cfg.GroupID, defaultTopic)
	}, waitLong, pollEvery)
	require.NoError(t, s.stop())

	stored := w.latest()
	require.Len(t, stored, n)
	for i, a := range as {
		got := stored[analysisKey{a.GetRunId(), a.GetSeriesId()}]
		require.True(t, proto.Equal(a, got), "analysis %d differs", i)
	}
	for k, times := range w.keys() {
		if id, _ := strconv.ParseInt(k.series, 16, 64); id > dup {
			require.Equal(t, 1, times, "key %v sent once was written %d times", k, times)
		}
	}
	require.True(t, proto.Equal(run, w.runs[0]), "run differs: %v", w.runs[0])
	require.True(t, committedAll(t, brokers, cfg.GroupID, defaultRunsTopic))
	require.Equal(t, float64(n+dup), testkit.Metric(t, s.reg, "slapipe_datastorage_messages_consumed_total", "topic", defaultTopic))
	require.Equal(t, 1.0, testkit.Metric(t, s.reg, "slapipe_datastorage_messages_consumed_total", "topic", defaultRunsTopic))
	require.Positive(t, testkit.Metric(t, s.reg, "slapipe_datastorage_batches_total"))
	require.Equal(t, 0.0, testkit.Metric(t, s.reg, "slapipe_datastorage_consumer_lag", "topic", defaultTopic))
}

// TestDeadLetters sends bad messages between good ones: each bad one lands
// in the DLQ with its reason and origin, the good ones are stored, and the
// bad ones' offsets are committed.
func TestDeadLetters(t *testing.T) {
	brokers := testkit.Broker(t, testPartitions)
	cfg := testConfig(brokers)
	good := genAnalyses(t, "run-dlq", 2)
	noSeries := proto.Clone(good[0]).(*slapipev1.SeriesAnalysis)
	noSeries.SeriesId = ""
	noSeriesBytes, err := proto.Marshal(noSeries)
	require.NoError(t, err)
	noRunBytes, err := proto.Marshal(&slapipev1.Run{Status: "succeeded"})
	require.NoError(t, err)
	longID := proto.Clone(good[0]).(*slapipev1.SeriesAnalysis)
	longID.SeriesId = strings.Repeat("f", 65)
	longIDBytes, err := proto.Marshal(longID)
	require.NoError(t, err)

	cases := []struct {
		key, topic string
		value      []byte
		wantErr    string
	}{
		{"garbage", defaultTopic, []byte("not a protobuf at all"), "decoding SeriesAnalysis"},
		{"no-series", defaultTopic, noSeriesBytes, "invalid SeriesAnalysis: series_id: invalid argument: empty"},
		{"bad-run", defaultRunsTopic, []byte{0xff, 0xff, 0xff}, "decoding Run"},
		{"no-run-id", defaultRunsTopic, noRunBytes, "invalid Run: run_id: invalid argument: empty"},
		{"long-id", defaultTopic, longIDBytes, "series_id: invalid argument"},
	}
	goodMsgs := analysisMessages(t, good)
	produce(t, brokers, defaultTopic, goodMsgs[0])
	for _, c := range cases {
		produce(t, brokers, c.topic, kafka.Message{Key: []byte(c.key), Value: c.value,
			Headers: []kafka.Header{{Key: "origin", Value: []byte("test")}}})
	}
	produce(t, brokers, defaultTopic, goodMsgs[1])

	w := &fakeWriter{}
	s := startConsumer(t, context.Background(), cfg, w)
	require.Eventually(t, func() bool {
		return len(w.keys()) == 2 && committedAll(t, brokers, cfg.GroupID, defaultTopic) &&
			committedAll(t, brokers, cfg.GroupID, defaultRunsTopic)
	}, waitLong, pollEvery)

	dead := consumeAll(t, brokers, defaultDLQTopic, len(cases))
	require.Len(t, dead, len(cases))
	byKey := map[string]kafka.Message{}
	for _, m := range dead {
		byKey[string(m.Key)] = m
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			m, ok := byKey[c.key]
			require.True(t, ok, "no dead letter with key %q", c.key)
			require.Equal(t, c.value, m.Value)
			h := map[string]string{}
			for _, x := range m.Headers {
				h[x.Key] = string(x.Value)
			}
			require.Contains(t, h[HeaderError], c.wantErr)
			require.Equal(t, c.topic, h[HeaderTopic])
			require.Equal(t, "test", h["origin"])
			p, err := strconv.Atoi(h[HeaderPartition])
			require.NoError(t, err)
			require.Less(t, p, testPartitions)
			_, err = strconv.ParseInt(h[HeaderOffset], 10, 64)
			require.NoError(t, err)
		})
	}
	require.Equal(t, float64(len(cases)), testkit.Metric(t, s.reg, "slapipe_datastorage_dlq_messages_total"))
	require.Zero(t, w.runCount())
}

// TestStoreDownRetriesWithoutCommit starts with the store down: while it
// is down nothing is committed, and once it is back every message is stored
// and committed, each once.
func TestStoreDownRetriesWithoutCommit(t *testing.T) {
	brokers := testkit.Broker(t, testPartitions)
	cfg := testConfig(brokers)
	const n = 250
	as := genAnalyses(t, "run-retry", n)
	produce(t, brokers, defaultTopic, analysisMessages(t, as)...)

	w := &fakeWriter{}
	w.down.Store(true)
	s := startConsumer(t, context.Background(), cfg, w)
	require.Eventually(t, func() bool { return w.failures() >= 6 }, waitLong, pollEvery)
	require.False(t, committedAll(t, brokers, cfg.GroupID, defaultTopic), "offsets committed while the store was down")
	require.Empty(t, w.keys())
	w.down.Store(false)

	require.Eventually(t, func() bool {
		return len(w.keys()) == n && committedAll(t, brokers, cfg.GroupID, defaultTopic)
	}, waitLong, pollEvery)
	require.Equal(t, float64(w.failures()), testkit.Metric(t, s.reg, "slapipe_datastorage_write_errors_total", "target", "analyses"))
	for k, times := range w.keys() {
		require.Equal(t, 1, times, "key %v", k)
	}
}

// TestRestartMidStream stops a consumer after a few batches and starts
// another in the same group: together they store everything, and what the
// second one writes again is at most the first one's batches in flight.
func TestRestartMidStream(t *testing.T) {
	cases := []struct {
		name string
		// crash makes the first consumer die inside its third write, before
		// the transaction commits, instead of stopping between batches.
		crash bool
	}{
		{"stop between batches", false},
		{"crash inside a write", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			brokers := testkit.Broker(t, testPartitions)
			cfg := testConfig(brokers)
			cfg.BatchSize = 50
			const n, stopAfter = 1000, 3
			as := genAnalyses(t, "run-restart", n)
			produce(t, brokers, defaultTopic, analysisMessages(t, as)...)

			first := &fakeWriter{}
			ctx1, stop1 := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			if c.crash {
				cfg.ShutdownGrace = 1 // ns: a crash leaves no time to finish
				first.before = func(ctx context.Context, call int) error {
					if call == stopAfter {
						close(stopped)
						stop1()
						<-ctx.Done() // the transaction never commits
						return ctx.Err()
					}
					return nil
				}
			} else {
				first.after = func(batches int) {
					if batches == stopAfter {
						close(stopped)
						stop1()
					}
				}
			}
			s1 := startConsumer(t, ctx1, cfg, first)
			<-stopped
			require.NoError(t, s1.stop())
			firstKeys := first.keys()
			wantFirst := (stopAfter - 1) * cfg.BatchSize
			if !c.crash {
				wantFirst = stopAfter * cfg.BatchSize
			}
			// The consumer may stop with a partial batch in flight.
			require.GreaterOrEqual(t, len(firstKeys), wantFirst)
			require.Less(t, len(firstKeys), n)

			second := &fakeWriter{}
			startConsumer(t, context.Background(), cfg, second)
			require.Eventually(t, func() bool {
				union := second.keys()
				for k := range firstKeys {
					union[k]++
				}
				return len(union) == n && committedAll(t, brokers, cfg.GroupID, defaultTopic)
			}, waitLong, pollEvery)

			again := 0
			for k := range second.keys() {
				if firstKeys[k] > 0 {
					again++
				}
			}
			// At most the batches in flight (one per writer) are written again.
			require.LessOrEqual(t, again, DefaultWriters*cfg.BatchSize, "rewritten by the second consumer")
			for _, w := range []*fakeWriter{first, second} {
				for k, times := range w.keys() {
					require.Equal(t, 1, times, "key %v written twice by one consumer", k)
				}
			}
		})
	}
}

// TestShutdownFinishesInFlightBatch cancels the consumer while a write is
// in progress: the write completes and its offsets are committed.
func TestShutdownFinishesInFlightBatch(t *testing.T) {
	brokers := testkit.Broker(t, testPartitions)
	cfg := testConfig(brokers)
	cfg.BatchSize = 1000
	const n = 120
	produce(t, brokers, defaultTopic, analysisMessages(t, genAnalyses(t, "run-drain", n))...)

	ctx, cancel := context.WithCancel(context.Background())
	writing := make(chan struct{})
	var once sync.Once
	w := &fakeWriter{}
	w.before = func(context.Context, int) error {
		once.Do(func() {
			close(writing)
			cancel() // SIGTERM arrives mid-write
		})
		return nil
	}
	s := startConsumer(t, ctx, cfg, w)
	<-writing
	require.NoError(t, s.stop())
	written := len(w.keys())
	require.Positive(t, written)
	// Whatever was written was committed: a new consumer in the group gets
	// exactly the rest.
	rest := &fakeWriter{}
	startConsumer(t, context.Background(), cfg, rest)
	require.Eventually(t, func() bool {
		return written+len(rest.keys()) == n && committedAll(t, brokers, cfg.GroupID, defaultTopic)
	}, waitLong, pollEvery)
	for k := range rest.keys() {
		require.Zero(t, w.keys()[k], "key %v written by both", k)
	}
}

// TestStoreRefusalGoesToDLQ makes the store refuse one message of a batch
// as invalid: that message is dead-lettered, the rest of its batch stored.
func TestStoreRefusalGoesToDLQ(t *testing.T) {
	brokers := testkit.Broker(t, testPartitions)
	cfg := testConfig(brokers)
	as := genAnalyses(t, "run-refuse", 40)
	produce(t, brokers, defaultTopic, analysisMessages(t, as)...)
	w := &fakeWriter{refuse: as[7].GetSeriesId()}
	s := startConsumer(t, context.Background(), cfg, w)
	require.Eventually(t, func() bool {
		return len(w.keys()) == len(as)-1 && committedAll(t, brokers, cfg.GroupID, defaultTopic)
	}, waitLong, pollEvery)
	dead := consumeAll(t, brokers, defaultDLQTopic, 1)
	require.Len(t, dead, 1)
	require.Equal(t, as[7].GetSeriesId(), string(dead[0].Key))
	require.Contains(t, headerValue(dead[0], HeaderError), "refused by the fake")
	require.Zero(t, w.keys()[analysisKey{"run-refuse", as[7].GetSeriesId()}])
	require.Equal(t, 1.0, testkit.Metric(t, s.reg, "slapipe_datastorage_dlq_messages_total"))
}

func TestDecodeBatchKeepsLastOfAKey(t *testing.T) {
	as := genAnalyses(t, "r", 2)
	newer := proto.Clone(as[0]).(*slapipev1.SeriesAnalysis)
	newer.Gaps = 99
	var msgs []kafka.Message
	for _, a := range []*slapipev1.SeriesAnalysis{as[0], as[1], newer} {
		m := analysisMessages(t, []*slapipev1.SeriesAnalysis{a})[0]
		m.Topic = defaultTopic
		msgs = append(msgs, m)
	}
	msgs = append(msgs, kafka.Message{Topic: "elsewhere", Value: []byte("x")})
	d := decodeBatch(msgs, defaultTopic, defaultRunsTopic, DefaultMaxMessageBytes)
	require.Len(t, d.analyses, 2)
	require.Equal(t, int64(99), d.analyses[0].GetGaps())
	require.Len(t, d.rejected, 1)
	require.True(t, strings.Contains(headerValue(d.rejected[0], HeaderError), "unexpected topic"))
}

// TestPoisonMessageIsIsolated puts one message the store refuses for good
// (MariaDB's packet-too-large error, not an invalid argument) in a batch of
// 200: the batch is split until the message is alone, it is tried
// PoisonTries times and dead-lettered with the reason, and the 199 others
// are stored once each.
func TestPoisonMessageIsIsolated(t *testing.T) {
	cases := []struct {
		name string
		err  error
		// ping is what the store answers to a ping after a failure.
		ping    error
		wantErr string
	}{
		{"permanent error", &mysql.MySQLError{Number: 1153, Message: "Got a packet bigger than 'max_allowed_packet' bytes"}, nil, "max_allowed_packet"},
		{"connection reset while the store answers", errors.New("write tcp: connection reset by peer"), nil, "connection reset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			brokers := testkit.Broker(t, testPartitions)
			cfg := testConfig(brokers)
			cfg.BatchSize = 200
			cfg.BatchWait = time.Second // one batch holds them all
			as := genAnalyses(t, "run-poison", 200)
			produce(t, brokers, defaultTopic, analysisMessages(t, as)...)
			poison := as[77].GetSeriesId()
			w := &pingingWriter{fakeWriter: &fakeWriter{poison: poison, poisonErr: c.err}}
			s := startConsumer(t, context.Background(), cfg, w)
			require.Eventually(t, func() bool {
				return len(w.keys()) == len(as)-1 && committedAll(t, brokers, cfg.GroupID, defaultTopic)
			}, waitLong, pollEvery)
			dead := consumeAll(t, brokers, defaultDLQTopic, 1)
			require.Len(t, dead, 1)
			require.Equal(t, poison, string(dead[0].Key))
			var got slapipev1.SeriesAnalysis
			require.NoError(t, proto.Unmarshal(dead[0].Value, &got))
			require.True(t, proto.Equal(as[77], &got), "the dead letter carries the poison message unchanged")
			reason := headerValue(dead[0], HeaderError)
			require.Contains(t, reason, c.wantErr)
			require.Contains(t, reason, fmt.Sprintf("after %d attempts", DefaultPoisonTries))
			for k, n := range w.keys() {
				require.Equal(t, 1, n, "key %v", k)
				require.NotEqual(t, poison, k.series)
			}
			require.Equal(t, DefaultPoisonTries, w.poisonCalls, "tries of the poison message alone")
			require.Positive(t, testkit.Metric(t, s.reg, "slapipe_datastorage_batch_splits_total"))
			require.Equal(t, 1.0, testkit.Metric(t, s.reg, "slapipe_datastorage_dlq_messages_total"))
		})
	}
}

// TestConnectionFailureWhileStoreDownIsRetried fails writes with a
// connection error while the store does not answer pings: that is the
// database, not a message, so nothing is dead-lettered however long it
// lasts, and once it is back every message is stored.
func TestConnectionFailureWhileStoreDownIsRetried(t *testing.T) {
	brokers := testkit.Broker(t, testPartitions)
	cfg := testConfig(brokers)
	as := genAnalyses(t, "run-down", 50)
	produce(t, brokers, defaultTopic, analysisMessages(t, as)...)
	w := &pingingWriter{fakeWriter: &fakeWriter{}}
	w.setPing(errors.New("dial tcp: connection refused"))
	w.down.Store(true)
	s := startConsumer(t, context.Background(), cfg, w)
	// Far more failures than PoisonTries.
	require.Eventually(t, func() bool { return w.failures() >= 10*DefaultPoisonTries }, waitLong, pollEvery)
	require.Zero(t, testkit.Metric(t, s.reg, "slapipe_datastorage_dlq_messages_total"))
	require.Zero(t, testkit.Metric(t, s.reg, "slapipe_datastorage_batch_splits_total"))
	require.False(t, committedAll(t, brokers, cfg.GroupID, defaultTopic))
	w.setPing(nil)
	w.down.Store(false)
	require.Eventually(t, func() bool {
		return len(w.keys()) == len(as) && committedAll(t, brokers, cfg.GroupID, defaultTopic)
	}, waitLong, pollEvery)
	require.Zero(t, testkit.Metric(t, s.reg, "slapipe_datastorage_dlq_messages_total"))
}

// TestOversizedMessages sends a message over the per-message limit, whose
// dead letter the dead-letter topic (max.message.bytes 4096) is too small
// for, and an undecodable one that fits it: the first is recorded by
// reference (origin, size, reason, no value), the second copied whole, and
// the valid messages around them stored in MariaDB exactly.
func TestOversizedMessages(t *testing.T) {
	brokers := testkit.Broker(t, testPartitions)
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: defaultTopic, NumPartitions: testPartitions, ReplicationFactor: 1,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "max.message.bytes", ConfigValue: "8388608"}}},
		{Topic: defaultDLQTopic, NumPartitions: testPartitions, ReplicationFactor: 1,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "max.message.bytes", ConfigValue: "4096"}}},
	}})
	require.NoError(t, err)
	for topic, err := range res.Errors {
		require.NoError(t, err, topic)
	}
	cfg := testConfig(brokers)
	cfg.MaxMessageBytes = 1 << 20
	good := analysisMessages(t, genAnalyses(t, "run-big", 20))
	huge := kafka.Message{Key: []byte("huge"), Value: make([]byte, 2<<20)}
	small := kafka.Message{Key: []byte("small"), Value: []byte("\xff not a protobuf")}
	// produce's writer takes at most 1 MiB per batch.
	big := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: defaultTopic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchBytes: 8 << 20}
	require.NoError(t, big.WriteMessages(ctx, append(append(good[:10:10], huge, small), good[10:]...)...))
	require.NoError(t, big.Close())

	st := testkit.Store(t, store.DialectMySQL)
	s := startConsumer(t, context.Background(), cfg, st)
	require.Eventually(t, func() bool { return committedAll(t, brokers, cfg.GroupID, defaultTopic) }, waitLong, pollEvery)
	want := testkit.Store(t, store.DialectMySQL)
	require.NoError(t, want.WriteAnalyses(context.Background(), genAnalyses(t, "run-big", 20)))
	require.Equal(t, rowCounts(t, want), rowCounts(t, st), "the 20 valid messages stored exactly")
	dead := consumeAll(t, brokers, defaultDLQTopic, 2)
	require.Len(t, dead, 2)
	byKey := map[string]kafka.Message{}
	for _, m := range dead {
		byKey[string(m.Key)] = m
	}
	ref := byKey["huge"]
	require.Empty(t, ref.Value)
	require.Equal(t, strconv.Itoa(2<<20), headerValue(ref, HeaderSize))
	require.Contains(t, headerValue(ref, HeaderError), "over the per-message limit of 1048576 bytes")
	require.Contains(t, headerValue(ref, HeaderError), "too large for the dead-letter topic")
	require.Equal(t, defaultTopic, headerValue(ref, HeaderTopic))
	_, err = strconv.ParseInt(headerValue(ref, HeaderOffset), 10, 64)
	require.NoError(t, err)
	require.Equal(t, small.Value, byKey["small"].Value)
	require.Contains(t, headerValue(byKey["small"], HeaderError), "decoding SeriesAnalysis")
	require.Empty(t, headerValue(byKey["small"], HeaderSize))
	require.Equal(t, 2.0, testkit.Metric(t, s.reg, "slapipe_datastorage_dlq_messages_total"))
	require.Equal(t, 1.0, testkit.Metric(t, s.reg, "slapipe_datastorage_dlq_references_total"))
}
