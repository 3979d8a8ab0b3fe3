package datastorage

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/internal/kafkaconn"
	"github.com/slapipe/slapipe/internal/testing/fixtures"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// The default topics the tests produce to and read from.
var (
	defaultTopic     = slapipev1.DefaultTopic
	defaultRunsTopic = slapipev1.RunsTopic(defaultTopic)
	defaultDLQTopic  = slapipev1.DeadLetterTopic(defaultTopic)
)

// testPartitions is the partition count of the test topics: several, so
// that batches mix partitions and commits cover more than one.
const testPartitions = 3

// waitLong bounds every wait for the consumer; the tests assert outcomes,
// not speed.
const (
	waitLong  = 60 * time.Second
	pollEvery = 20 * time.Millisecond
)

// genAnalyses returns n distinct analyses of run (fixtures.Analyses), all
// of the template's metric: these tests read them back by it.
func genAnalyses(t testing.TB, run string, n int) []*slapipev1.SeriesAnalysis {
	t.Helper()
	out := fixtures.Analyses(run, n)
	metric := fixtures.Analysis().Metric
	for _, m := range out {
		m.Metric = metric
	}
	return out
}

// testConfig is a Config on brokers with fast retries and a fresh group.
func testConfig(brokers []string) Config {
	return Config{
		Brokers:    brokers,
		GroupID:    "test-" + fmt.Sprint(time.Now().UnixNano()),
		BatchSize:  100,
		BatchWait:  50 * time.Millisecond,
		Partitions: testPartitions,
		RetryMin:   time.Millisecond,
		RetryMax:   20 * time.Millisecond,
	}
}

// produce writes msgs to topic, keyed like the ETL does (series or run id).
func produce(t testing.TB, brokers []string, topic string, msgs ...kafka.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	require.NoError(t, ensureTopics(ctx, kafkaconn.Security{}, brokers, testPartitions, topic))
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 1000}
	defer func() { require.NoError(t, w.Close()) }()
	require.NoError(t, w.WriteMessages(ctx, msgs...))
}

// analysisMessages encodes as, keyed by series id as the ETL does.
func analysisMessages(t testing.TB, as []*slapipev1.SeriesAnalysis) []kafka.Message {
	t.Helper()
	msgs, err := fixtures.Messages(as)
	require.NoError(t, err)
	return msgs
}

// runMessage encodes r, keyed by run id as the ETL does.
func runMessage(t testing.TB, r *slapipev1.Run) kafka.Message {
	t.Helper()
	m, err := fixtures.RunMessage(r)
	require.NoError(t, err)
	return m
}

// started is a consumer running in the background.
type started struct {
	cancel context.CancelFunc
	done   chan error
	reg    *prometheus.Registry
	once   sync.Once
	err    error
}

// stop cancels the consumer and returns what Run returned.
func (s *started) stop() error {
	s.cancel()
	s.once.Do(func() { s.err = <-s.done })
	return s.err
}

// startConsumer runs a consumer of cfg writing to w until ctx is done or
// the test ends.
func startConsumer(t testing.TB, ctx context.Context, cfg Config, w Writer) *started {
	t.Helper()
	reg := prometheus.NewRegistry()
	c, err := New(cfg, w, Deps{Registerer: reg, Logger: testLogger(t)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(ctx)
	s := &started{cancel: cancel, done: make(chan error, 1), reg: reg}
	go func() { s.done <- c.Run(ctx) }()
	t.Cleanup(func() { _ = s.stop() })
	return s
}

// committedAll reports whether the group's committed offsets reached the end
// of every partition of topic.
func committedAll(t testing.TB, brokers []string, group, topic string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	require.NoError(t, err)
	require.Len(t, md.Topics, 1)
	n := len(md.Topics[0].Partitions)
	parts := make([]int, n)
	reqs := make([]kafka.OffsetRequest, n)
	for p := range parts {
		parts[p] = p
		reqs[p] = kafka.LastOffsetOf(p)
	}
	ends, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	require.NoError(t, err)
	got, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	require.NoError(t, err)
	committed := map[int]int64{}
	for _, p := range got.Topics[topic] {
		require.NoError(t, p.Error)
		committed[p.Partition] = p.CommittedOffset
	}
	for _, p := range ends.Topics[topic] {
		require.NoError(t, p.Error)
		if p.LastOffset > 0 && committed[p.Partition] != p.LastOffset {
			return false
		}
	}
	return true
}

// consumeAll reads every partition of topic from the beginning (no group)
// until it has at least n messages.
func consumeAll(t testing.TB, brokers []string, topic string, n int) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	for {
		var out []kafka.Message
		for p := range testPartitions {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxWait: 50 * time.Millisecond})
			for {
				lctx, lcancel := context.WithTimeout(ctx, 300*time.Millisecond)
				m, err := r.ReadMessage(lctx)
				lcancel()
				if err != nil {
					break
				}
				out = append(out, m)
			}
			require.NoError(t, r.Close())
		}
		if len(out) >= n {
			return out
		}
		require.NoError(t, ctx.Err(), "reading %d messages of %s: got %d", n, topic, len(out))
	}
}
