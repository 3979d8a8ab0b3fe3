package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

// TestProduceConsumeGroup drives the broker with the same kafka-go client
// the pipeline uses: a keyed, acks=all producer and a consumer-group reader
// with explicit commits; a second reader of the group after the commit must
// see nothing left to read.
func TestProduceConsumeGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := Start(ctx, Options{Topics: []string{"prometheusdata"}})
	require.NoError(t, err)
	defer b.Close()
	require.Len(t, b.Addrs(), 1)

	const n = 200
	w := &kafkago.Writer{
		Addr:         kafkago.TCP(b.Addrs()...),
		Topic:        "prometheusdata",
		Balancer:     &kafkago.Hash{},
		RequiredAcks: kafkago.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
	}
	msgs := make([]kafkago.Message, n)
	for i := range msgs {
		msgs[i] = kafkago.Message{Key: fmt.Appendf(nil, "k%03d", i), Value: fmt.Appendf(nil, "v%03d", i)}
	}
	require.NoError(t, w.WriteMessages(ctx, msgs...))
	require.NoError(t, w.Close())

	r := newReader(b)
	seen := map[string]string{}
	partitions := map[int]bool{}
	for len(seen) < n {
		m, err := r.FetchMessage(ctx)
		require.NoError(t, err)
		seen[string(m.Key)] = string(m.Value)
		partitions[m.Partition] = true
		require.NoError(t, r.CommitMessages(ctx, m))
	}
	require.NoError(t, r.Close())
	require.Len(t, seen, n)
	require.Equal(t, "v042", seen["k042"])
	require.Greater(t, len(partitions), 1, "keys must spread over the topic's partitions")

	// Everything was committed: a new member of the group finds no message.
	r2 := newReader(b)
	defer r2.Close()
	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	defer cancelShort()
	_, err = r2.FetchMessage(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func newReader(b *Broker) *kafkago.Reader {
	return kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:        b.Addrs(),
		Topic:          "prometheusdata",
		GroupID:        "test-group",
		MinBytes:       1,
		MaxBytes:       10 << 20,
		MaxWait:        100 * time.Millisecond,
		CommitInterval: 0,
		StartOffset:    kafkago.FirstOffset,
	})
}

func TestStartBadAddr(t *testing.T) {
	cases := []struct{ name, addr string }{
		{"no port", "127.0.0.1"},
		{"bad port", "127.0.0.1:http99"},
		{"port out of range", "127.0.0.1:70000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Start(context.Background(), Options{Addr: c.addr})
			require.Error(t, err)
		})
	}
}

func TestStartFixedPortTaken(t *testing.T) {
	ctx := context.Background()
	a, err := Start(ctx, Options{})
	require.NoError(t, err)
	defer a.Close()
	_, err = Start(ctx, Options{Addr: a.Addrs()[0]})
	require.Error(t, err, "a second broker on the same port must fail, not hang")
}
