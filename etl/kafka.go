package etl

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// publishChunk is how many messages one WriteMessages call carries; it is
// also the writer's batch size, so a call fills about one batch per
// partition and progress advances per call.
const publishChunk = 500

// ensureTopics creates the topics with the given partition count and the
// brokers' default replication factor; topics that exist are left alone,
// whatever their partition count.
func ensureTopics(ctx context.Context, brokers []string, partitions int, topics ...string) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: -1})
	}
	res, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("creating kafka topics %v on %v: %w", topics, brokers, err)
	}
	for topic, err := range res.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("creating kafka topic %s: %w", topic, err)
		}
	}
	return nil
}

// publish writes msgs in chunks, calling done after each with the number
// written so far and the chunk's size. It stops at the first error.
func publish(ctx context.Context, pub publisher, msgs []kafka.Message, done func(sent, chunk int)) error {
	for i := 0; i < len(msgs); i += publishChunk {
		j := min(i+publishChunk, len(msgs))
		if err := pub.WriteMessages(ctx, msgs[i:j]...); err != nil {
			return fmt.Errorf("writing messages %d-%d of %d: %w", i, j-1, len(msgs), err)
		}
		done(j, j-i)
	}
	return nil
}
