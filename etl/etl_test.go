package etl

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

func TestRunAfterClose(t *testing.T) {
	pub := &fakePublisher{}
	e := newFakeETL(t, &fakeSource{}, pub, nil, nil)
	require.NoError(t, e.Close())
	require.True(t, pub.closed)
	require.NoError(t, e.Close())
	_, err := e.Run(context.Background(), RunOptions{Selectors: []string{"up"}})
	require.ErrorIs(t, err, ErrClosed)
}

func TestConfigValidation(t *testing.T) {
	ok := Config{PrometheusURL: "http://p:9090", Brokers: []string{"k:9092"}}
	cases := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"no prometheus", func(c *Config) { c.PrometheusURL = "" }, "prometheus url is required"},
		{"negative partitions", func(c *Config) { c.Partitions = -1 }, "partitions: must be at least 1 (got -1)"},
		{"sub-millisecond step", func(c *Config) { c.Step = time.Microsecond }, "step: must be a whole number of milliseconds"},
		{"range below step", func(c *Config) { c.Range = time.Second }, "range: must be at least the step 5s (got 1s)"},
		{"too many points", func(c *Config) { c.Step = time.Second }, "needs 43201 points, Prometheus answers at most 11000"},
		{"bad selector", func(c *Config) { c.Selectors = []string{"up", "up or vector(1)"} }, "selectors[1]: invalid selector"},
		{"empty selectors", func(c *Config) { c.Selectors = []string{} }, "selectors: at least one selector is required"},
		{"bad topic", func(c *Config) { c.Topic = "a topic" }, "kafka topic \"a topic\": invalid argument: only ASCII letters"},
		{"horizon beyond the engine", func(c *Config) { c.Step, c.Range = time.Millisecond, time.Second }, "step 1ms needs 600000 forecast points to cover 10m0s, the engine computes at most 100000"},
		{"negative parallelism", func(c *Config) { c.Parallelism = -2 }, "parallelism: must be at least 1 (got -2)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.mutate(&cfg)
			got, err := cfg.withDefaults()
			if c.wantErr == "" {
				require.NoError(t, err)
				require.Equal(t, slapipev1.DefaultTopic, got.Topic)
				require.Equal(t, 6, got.Partitions)
				require.Equal(t, 5*time.Second, got.Step)
				require.Equal(t, 12*time.Hour, got.Range)
				require.Equal(t, DefaultWatchList, got.Selectors)
				require.Positive(t, got.Parallelism)
				return
			}
			require.ErrorContains(t, err, c.wantErr)
		})
	}
	_, err := compression("brotli")
	require.ErrorContains(t, err, `compression: want none, gzip, snappy, lz4 or zstd (got "brotli")`)
}

func TestDefaultWatchListIsValid(t *testing.T) {
	for _, s := range DefaultWatchList {
		_, _, err := promsource.ParseSelector(s)
		require.NoError(t, err, s)
	}
	// The SLA metrics of the default set are watched.
	for _, m := range []string{"node_disk_written_bytes_total", "node_memory_MemFree_bytes",
		`node_filesystem_avail_bytes{mountpoint="/"}`, "node_memory_Active_bytes", "node_network_receive_packets_total"} {
		require.Contains(t, DefaultWatchList, m)
	}
}

func TestRunsAreSerialised(t *testing.T) {
	e := newFakeETL(t, &fakeSource{}, &fakePublisher{}, nil, nil)
	e.slot <- struct{}{} // a run in progress
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.Run(ctx, RunOptions{Selectors: []string{"up"}})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	<-e.slot
	run, err := e.Run(context.Background(), RunOptions{Selectors: []string{"up"}})
	require.NoError(t, err)
	require.Zero(t, run.Series)
	require.Equal(t, StatusEmpty, run.Status, "the fake source has no series")
}
