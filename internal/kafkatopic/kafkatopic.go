// Package kafkatopic creates the Kafka topics slapipe's producers and
// consumers rely on, through kafka-go's admin client.
package kafkatopic

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// DefaultPartitions is the partition count of the topics slapipe creates
// when they are missing: one definition for the producer (etl), the
// consumer (datastorage), the embedded broker and the command. Their names
// are the contract's (slapipev1.DefaultTopic, RunsTopic, DeadLetterTopic).
const DefaultPartitions = 6

// Timeout bounds one CreateTopics round trip.
const Timeout = 10 * time.Second

// Ensure creates the topics that do not exist yet with the given partition
// count and the brokers' default replication factor; topics that exist are
// left alone, whatever their partition count.
func Ensure(ctx context.Context, brokers []string, partitions int, topics ...string) error {
	return EnsureVia(ctx, nil, brokers, partitions, topics...)
}

// EnsureVia is Ensure through transport (TLS, SASL: kafkaconn); nil means
// kafka-go's default transport.
func EnsureVia(ctx context.Context, transport kafka.RoundTripper, brokers []string, partitions int, topics ...string) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: Timeout, Transport: transport}
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
