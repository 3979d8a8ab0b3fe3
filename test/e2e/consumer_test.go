package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
)

// consumer is an in-process datastorage consumer with its own registry.
type consumer struct {
	group string
	reg   *prometheus.Registry
}

// startConsumer runs datastorage on brokers' default topics into w (fast
// retries, a fresh group) until the test ends; Run returning an error fails
// the test.
func startConsumer(t *testing.T, brokers []string, w datastorage.Writer) *consumer {
	t.Helper()
	c := &consumer{group: "e2e-" + randomSuffix(4), reg: prometheus.NewRegistry()}
	ds, err := datastorage.New(datastorage.Config{Brokers: brokers, GroupID: c.group, BatchWait: 50 * time.Millisecond,
		RetryMin: 50 * time.Millisecond, RetryMax: time.Second}, w, datastorage.Deps{Logger: testenv.Logger(t), Registerer: c.reg})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ds.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("datastorage: %v", err)
		}
	})
	return c
}

// writeErrors is slapipe_datastorage_write_errors_total summed over targets.
func (c *consumer) writeErrors(t testing.TB) float64 {
	t.Helper()
	sum, ok := testkit.Sum(c.reg, "slapipe_datastorage_write_errors_total")
	require.True(t, ok, "slapipe_datastorage_write_errors_total gathered")
	return sum
}
