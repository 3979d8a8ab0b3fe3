// Package kafkatopic creates the Kafka topics slapipe's producers and
// consumers rely on, through kafka-go's admin client.
package kafkatopic

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/slapipe/slapipe/internal/kafkaconn"
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
	return EnsureVia(ctx, kafkaconn.Security{}, brokers, partitions, topics...)
}

// EnsureVia is Ensure with TLS and SASL. With SASL it first authenticates
// on one connection, so wrong credentials are reported as such rather than
// as the "broker not available" kafka-go's admin client turns them into.
func EnsureVia(ctx context.Context, sec kafkaconn.Security, brokers []string, partitions int, topics ...string) error {
	if err := sec.Check(ctx, brokers); err != nil {
		return err
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: Timeout, Transport: sec.Transport()}
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
