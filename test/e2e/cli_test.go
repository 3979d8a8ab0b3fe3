package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestCLIPipeline runs the binary as users do: `slapipe etl run` on the
// backfilled series publishes to the broker, `slapipe datastorage` stores
// the run in MariaDB. The run's range ends now (the CLI cannot pin it), so
// the statistics are checked by TestPipelineEndToEnd, not here.
func TestCLIPipeline(t *testing.T) {
	promURL := testenv.PrometheusURL(t)
	baseDSN := testenv.MySQLDSN(t)
	brokers := testkit.Broker(t, 0)
	dsn := testenv.NewMySQLDatabase(t, baseDSN, "e2e")
	st := testkit.OpenStore(t, dsn)

	args := []string{"--prometheus-url", promURL, "--kafka-brokers", strings.Join(brokers, ",")}
	for _, b := range backfilled {
		args = append(args, "--selector", backfillSelector(b.metric))
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	summary := etlRunCLI(t, ctx, args...)
	require.Equal(t, "succeeded", summary.Status)
	require.Equal(t, "cli", summary.Trigger)
	require.NotEmpty(t, summary.RunID)

	ds := startSlapipe(t, "datastorage", "datastorage", "--kafka-brokers", strings.Join(brokers, ","),
		"--mysql-dsn", dsn, "--metrics-listen", "127.0.0.1:0")
	waitCommitted(t, brokers, datastorage.DefaultGroupID, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))

	runs, err := st.ListRuns(ctx, 0)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	assert.Equal(t, summary.RunID, runs[0].GetRunId())
	assert.Equal(t, "succeeded", runs[0].GetStatus())
	_, msgs, err := st.Analyses(ctx, store.Query{RunID: summary.RunID})
	require.NoError(t, err)
	assert.EqualValues(t, summary.Series, len(msgs), "stored analyses")
	metrics := map[string]string{}
	for _, m := range msgs {
		metrics[m.GetMetric()] = m.GetTransform()
		assert.Equal(t, backfillInstance, m.GetLabels()["instance"], "only the selected instance is pulled")
	}
	for _, b := range backfilled {
		assert.Equal(t, b.transform, metrics[b.metric], "%s stored with its transform", b.metric)
	}

	ds.terminate(t)
}

// etlSummary is the summary `slapipe etl run -o json` prints.
type etlSummary struct {
	RunID   string `json:"run_id"`
	Status  string `json:"status"`
	Series  int64  `json:"series"`
	Trigger string `json:"trigger"`
}

// etlRunCLI runs `slapipe etl run -o json` with args and returns its
// summary; the test fails if the command does.
func etlRunCLI(t *testing.T, ctx context.Context, args ...string) etlSummary {
	t.Helper()
	cmd := exec.CommandContext(ctx, slapipeBinary(t), append([]string{"etl", "run", "-o", "json"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "slapipe etl run %v: %s", args, tail(stderr.String(), 3000))
	var summary etlSummary
	require.NoError(t, json.Unmarshal(out, &summary), "summary on stdout: %s", out)
	return summary
}
