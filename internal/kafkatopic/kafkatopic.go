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

// The topics' default names and partition count, one definition for the
// producer (etl), the consumer (datastorage), the embedded broker and the
// command. The run-record and dead-letter topics are named after the
// analyses topic, so a deployment renames them all with one setting.
const (
	DefaultTopic      = "prometheusdata"
	DefaultRunsTopic  = DefaultTopic + runsSuffix
	DefaultDLQTopic   = DefaultTopic + dlqSuffix
	DefaultPartitions = 6

	runsSuffix = ".runs"
	dlqSuffix  = ".dlq"
)

// Runs is the name of the run-record topic beside analyses topic t.
func Runs(t string) string { return t + runsSuffix }

// DeadLetters is the name of the dead-letter topic beside analyses topic t.
func DeadLetters(t string) string { return t + dlqSuffix }

// Timeout bounds one CreateTopics round trip.
const Timeout = 10 * time.Second

// Ensure creates the topics that do not exist yet with the given partition
// count and the brokers' default replication factor; topics that exist are
// left alone, whatever their partition count.
func Ensure(ctx context.Context, brokers []string, partitions int, topics ...string) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: Timeout}
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
