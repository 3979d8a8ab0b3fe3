package e2e

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/internal/kafkatopic"
)

func kafkaClient(brokers []string) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
}

// createTopics creates topics with the given partition count, leaving
// existing ones alone.
func createTopics(t testing.TB, brokers []string, partitions int, topics ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	require.NoError(t, kafkatopic.Ensure(ctx, brokers, partitions, topics...))
}

// produce writes msgs to topic, keyed as given, with acks from all replicas.
func produce(t testing.TB, brokers []string, topic string, msgs ...kafka.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 500}
	defer func() { require.NoError(t, w.Close()) }()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		// kafka-go joins one error per message: keep the report readable.
		t.Fatalf("producing %d messages to %s: %s", len(msgs), topic, tail(err.Error(), 600))
	}
}

// partitions returns the partition ids of topic.
func partitions(ctx context.Context, brokers []string, topic string) ([]int, error) {
	md, err := kafkaClient(brokers).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	for _, tp := range md.Topics {
		if tp.Name != topic {
			continue
		}
		if tp.Error != nil {
			return nil, fmt.Errorf("metadata of %s: %w", topic, tp.Error)
		}
		var ps []int
		for _, p := range tp.Partitions {
			ps = append(ps, p.ID)
		}
		sort.Ints(ps)
		return ps, nil
	}
	return nil, fmt.Errorf("topic %s not in metadata", topic)
}

// endOffsets returns the next offset to be written of every partition of
// topic.
func endOffsets(ctx context.Context, brokers []string, topic string) (map[int]int64, error) {
	ps, err := partitions(ctx, brokers, topic)
	if err != nil {
		return nil, err
	}
	reqs := make([]kafka.OffsetRequest, len(ps))
	for i, p := range ps {
		reqs[i] = kafka.LastOffsetOf(p)
	}
	res, err := kafkaClient(brokers).ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("listing offsets of %s: %w", topic, err)
	}
	out := map[int]int64{}
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		out[po.Partition] = po.LastOffset
	}
	return out, nil
}

// committedAll reports whether group has committed, on every partition of
// every topic, the end offset (so everything produced so far was stored).
func committedAll(ctx context.Context, brokers []string, group string, topics ...string) (bool, error) {
	ends := map[string]map[int]int64{}
	req := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{}}
	for _, tp := range topics {
		e, err := endOffsets(ctx, brokers, tp)
		if err != nil {
			return false, err
		}
		ends[tp] = e
		for p := range e {
			req.Topics[tp] = append(req.Topics[tp], p)
		}
	}
	res, err := kafkaClient(brokers).OffsetFetch(ctx, req)
	if err != nil {
		return false, fmt.Errorf("fetching offsets of group %s: %w", group, err)
	}
	if errors.Is(res.Error, kafka.GroupIdNotFound) {
		return false, nil // the consumer has not joined yet
	}
	if res.Error != nil {
		return false, fmt.Errorf("fetching offsets of group %s: %w", group, res.Error)
	}
	for tp, e := range ends {
		got := map[int]int64{}
		for _, p := range res.Topics[tp] {
			got[p.Partition] = p.CommittedOffset
		}
		for p, end := range e {
			// An empty partition needs no commit.
			if end > 0 && got[p] != end {
				return false, nil
			}
		}
	}
	return true, nil
}

// waitCommitted waits until group has committed everything on topics.
func waitCommitted(t testing.TB, brokers []string, group string, topics ...string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("group %s to commit all of %v", group, topics), func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return committedAll(ctx, brokers, group, topics...)
	})
}

// readAll returns every message of topic, partition by partition, in offset
// order, as a group-less reader sees them.
func readAll(t testing.TB, brokers []string, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	ends, err := endOffsets(ctx, brokers, topic)
	require.NoError(t, err)
	ps := make([]int, 0, len(ends))
	for p := range ends {
		ps = append(ps, p)
	}
	sort.Ints(ps)
	var out []kafka.Message
	for _, p := range ps {
		if ends[p] == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p,
			MinBytes: 1, MaxBytes: 32 << 20, MaxWait: 500 * time.Millisecond})
		require.NoError(t, r.SetOffset(kafka.FirstOffset))
		for {
			m, err := r.ReadMessage(ctx)
			require.NoError(t, err, "reading %s/%d", topic, p)
			out = append(out, m)
			if m.Offset >= ends[p]-1 {
				break
			}
		}
		require.NoError(t, r.Close())
	}
	return out
}

// republish writes msgs again, with their keys, values and headers, to the
// topic each came from.
func republish(t testing.TB, brokers []string, msgs []kafka.Message) {
	t.Helper()
	byTopic := map[string][]kafka.Message{}
	for _, m := range msgs {
		byTopic[m.Topic] = append(byTopic[m.Topic], kafka.Message{Key: m.Key, Value: m.Value, Headers: m.Headers})
	}
	for tp, ms := range byTopic {
		produce(t, brokers, tp, ms...)
	}
}
