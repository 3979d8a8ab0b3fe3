package etl

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// readTopic reads every message of topic, by partition, with kafka-go
// Readers bounded by the partitions' end offsets.
func readTopic(t *testing.T, brokers []string, topic string) map[int][]kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	require.NoError(t, err)
	require.Len(t, md.Topics, 1)
	require.NoError(t, md.Topics[0].Error)
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafka.LastOffsetOf(p.ID))
	}
	offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	require.NoError(t, err)
	out := map[int][]kafka.Message{}
	for _, po := range offs.Topics[topic] {
		require.NoError(t, po.Error)
		if po.LastOffset == 0 {
			out[po.Partition] = nil
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: po.Partition, MaxBytes: 10 << 20,
			// Close waits for the fetch in flight, which an idle broker holds
			// for MaxWait.
			MaxWait: 100 * time.Millisecond})
		for int64(len(out[po.Partition])) < po.LastOffset {
			m, err := r.ReadMessage(ctx)
			require.NoError(t, err, "partition %d", po.Partition)
			out[po.Partition] = append(out[po.Partition], m)
		}
		require.NoError(t, r.Close())
	}
	return out
}

func TestPublishToKafka(t *testing.T) {
	brokers := testkit.Broker(t, 0)
	cfg := Config{PrometheusURL: "http://127.0.0.1:1", Brokers: brokers, Topic: "pd", Partitions: 3}
	e, err := New(cfg, Deps{Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	defer func() { require.NoError(t, e.Close()) }()
	// A second ETL on the same cluster finds the topics already there.
	e2, err := New(cfg, Deps{Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	require.NoError(t, e2.Close())

	var series []promsource.Series
	ids := map[string]bool{}
	for i := range 25 {
		s := ramp("node_cpu_seconds_total", map[string]string{"cpu": fmt.Sprint(i), "mode": "idle"}, nil)
		series = append(series, s)
		ids[s.ID] = true
	}
	e.src = &fakeSource{series: map[string][]promsource.Series{"node_cpu_seconds_total": series}}
	e.analyze = fakeResult

	var runs []*slapipev1.Run
	for range 2 {
		run, err := e.Run(context.Background(), RunOptions{Selectors: []string{"node_cpu_seconds_total"}, End: runEnd})
		require.NoError(t, err)
		runs = append(runs, run)
	}

	parts := readTopic(t, brokers, "pd")
	require.Len(t, parts, 3, "topic not created with the configured partitions")
	partitionOf := map[string]int{}
	perRun := map[string]int{}
	for p, msgs := range parts {
		for _, m := range msgs {
			key := string(m.Key)
			require.True(t, ids[key], "unknown key %q", key)
			if q, seen := partitionOf[key]; seen {
				require.Equal(t, q, p, "series %s on two partitions", key)
			}
			partitionOf[key] = p
			var sa slapipev1.SeriesAnalysis
			require.NoError(t, proto.Unmarshal(m.Value, &sa))
			require.Equal(t, key, sa.SeriesId)
			require.Equal(t, "node_cpu_seconds_total", sa.Metric)
			require.Len(t, sa.Windows, 3)
			require.Len(t, sa.Forecast.GetPoints(), 120)
			perRun[sa.RunId]++
		}
	}
	require.Len(t, partitionOf, 25, "not one message per series")
	require.Equal(t, map[string]int{runs[0].RunId: 25, runs[1].RunId: 25}, perRun)

	recs := map[string]*slapipev1.Run{}
	for _, msgs := range readTopic(t, brokers, "pd.runs") {
		for _, m := range msgs {
			var r slapipev1.Run
			require.NoError(t, proto.Unmarshal(m.Value, &r))
			require.Equal(t, r.RunId, string(m.Key))
			recs[r.RunId] = &r
		}
	}
	require.Len(t, recs, 2)
	for _, run := range runs {
		require.True(t, proto.Equal(run, recs[run.RunId]), "published %v, returned %v", recs[run.RunId], run)
		require.Equal(t, StatusSucceeded, run.Status)
		require.EqualValues(t, 25, run.Series)
	}
	require.Less(t, runs[0].RunId, runs[1].RunId, "run ids are not time-ordered")
}

func TestFirstRunCreatesTheTopicsOnceKafkaIsUp(t *testing.T) {
	_, err := New(Config{PrometheusURL: "http://127.0.0.1:1"}, Deps{})
	require.ErrorContains(t, err, "at least one Kafka broker")

	// New does not need Kafka; a run does, and the next run after the
	// broker is up creates the topics and succeeds.
	port := freePort(t)
	brokers := []string{fmt.Sprintf("127.0.0.1:%d", port)}
	e, err := New(Config{PrometheusURL: "http://127.0.0.1:1", Brokers: brokers, Topic: "pd", Partitions: 2},
		Deps{Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	defer func() { require.NoError(t, e.Close()) }()
	e.src = &fakeSource{series: map[string][]promsource.Series{"node_load1": {ramp("node_load1", nil, nil)}}}
	e.analyze = fakeResult
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	run, err := e.Run(ctx, RunOptions{Selectors: []string{"node_load1"}, End: runEnd})
	require.ErrorContains(t, err, "etl run not started")
	require.Nil(t, run)

	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	// kafka-go's shared transport remembers the cluster it could not reach
	// for its metadata TTL (6 s): runs fail until it looks again.
	deadline := time.Now().Add(20 * time.Second)
	for {
		run, err = e.Run(context.Background(), RunOptions{Selectors: []string{"node_load1"}, End: runEnd})
		if err == nil || time.Now().After(deadline) {
			break
		}
		require.ErrorContains(t, err, "etl run not started")
		time.Sleep(200 * time.Millisecond)
	}
	require.NoError(t, err)
	require.Equal(t, StatusSucceeded, run.Status)
	parts := readTopic(t, brokers, "pd")
	require.Len(t, parts, 2, "topic created with the configured partitions")
	n := 0
	for _, msgs := range parts {
		n += len(msgs)
	}
	require.Equal(t, 1, n)
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
