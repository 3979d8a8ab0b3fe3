package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestCLIContract runs the binary on a custom --kafka-topic at two steps,
// against the backfilled Prometheus, kfake and MariaDB: `etl run --step 1s`
// and `--step 15s` each forecast exactly the contract's 10 minutes (600 and
// 40 points, the last 600 s past the range), the run records travel on
// <topic>.runs, a message datastorage cannot decode lands on <topic>.dlq,
// and every topic created is named after the custom one.
func TestCLIContract(t *testing.T) {
	promURL := testenv.PrometheusURL(t)
	baseDSN := testenv.MySQLDSN(t)
	brokers := testkit.Broker(t, 0)
	dsn := testenv.NewMySQLDatabase(t, baseDSN, "e2e")
	st := testkit.OpenStore(t, dsn)
	const topic = "team-a.node-metrics"
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()

	steps := map[string]time.Duration{}
	for _, step := range []time.Duration{time.Second, 15 * time.Second} {
		// One hour: 3601 points at 1 s stay within Prometheus' 11000.
		summary := etlRunCLI(t, ctx, "--prometheus-url", promURL, "--kafka-brokers", strings.Join(brokers, ","),
			"--kafka-topic", topic, "--step", step.String(), "--range", "1h",
			"--selector", backfillSelector("node_memory_MemFree_bytes"), "--selector", backfillSelector("node_cpu_seconds_total"))
		require.Equal(t, "succeeded", summary.Status)
		steps[summary.RunID] = step
	}
	produce(t, brokers, topic, kafka.Message{Key: []byte("garbage"), Value: []byte("not a protobuf at all")})

	ds := startSlapipe(t, "datastorage", "datastorage", "--kafka-brokers", strings.Join(brokers, ","),
		"--kafka-topic", topic, "--mysql-dsn", dsn, "--metrics-listen", "127.0.0.1:0")
	waitCommitted(t, brokers, datastorage.DefaultGroupID, topic, slapipev1.RunsTopic(topic))

	runs, err := st.ListRuns(ctx, 0)
	require.NoError(t, err)
	require.Len(t, runs, len(steps), "both run records came through %s", slapipev1.RunsTopic(topic))
	for runID, step := range steps {
		_, msgs, err := st.Analyses(ctx, store.Query{RunID: runID})
		require.NoError(t, err)
		require.NotEmpty(t, msgs, "run at %s", step)
		forecasts := 0
		for _, m := range msgs {
			require.Equal(t, step.Seconds(), m.GetStepSeconds())
			f := m.GetForecast()
			if f == nil {
				continue
			}
			forecasts++
			want := int(10 * time.Minute / step)
			assert.EqualValues(t, want, f.GetHorizon(), "%s at %s", m.GetSeriesId(), step)
			require.Len(t, f.GetPoints(), want, "%s at %s", m.GetSeriesId(), step)
			last := f.GetPoints()[want-1].GetTime().AsTime()
			assert.Equal(t, 10*time.Minute, last.Sub(m.GetRangeEnd().AsTime()), "%s at %s: forecast reach", m.GetSeriesId(), step)
		}
		require.Positive(t, forecasts, "run at %s stored no forecast", step)
	}

	// The dead letter is written before its offset is committed, but kfake
	// may list the topic it created for it a few seconds later.
	var dead []kafka.Message
	waitFor(t, "the dead letter", func() (bool, error) {
		md, err := kafkaClient(brokers).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{slapipev1.DeadLetterTopic(topic)}})
		if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
			return false, nil
		}
		dead = readAll(t, brokers, slapipev1.DeadLetterTopic(topic))
		return len(dead) > 0, nil
	})
	require.Len(t, dead, 1)
	assert.Equal(t, "garbage", string(dead[0].Key))

	md, err := kafkaClient(brokers).Metadata(ctx, &kafka.MetadataRequest{})
	require.NoError(t, err)
	var names []string
	for _, tp := range md.Topics {
		names = append(names, tp.Name)
		assert.True(t, tp.Name == topic || strings.HasPrefix(tp.Name, topic+"."), "topic %q is not derived from %q", tp.Name, topic)
	}
	assert.Subset(t, names, []string{topic, slapipev1.RunsTopic(topic), slapipev1.DeadLetterTopic(topic)})
	assert.NotContains(t, names, slapipev1.DefaultTopic)

	ds.terminate(t)
}
