package etl

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// flakyPublisher refuses its first fails writes, then keeps what it is given.
type flakyPublisher struct {
	fakePublisher
	fails int
}

func (p *flakyPublisher) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	p.mu.Lock()
	if p.fails > 0 {
		p.fails--
		p.mu.Unlock()
		return errors.New("broker unavailable")
	}
	p.mu.Unlock()
	return p.fakePublisher.WriteMessages(ctx, msgs...)
}

// TestWorkTaskRetriesUntilKafkaTakesTheResults: a task whose analyses
// Kafka refuses once is pulled and worked again after the backoff, then
// published and reported once, and counted done; a cancelled context ends
// the retries instead.
func TestWorkTaskRetriesUntilKafkaTakesTheResults(t *testing.T) {
	s := ramp("node_load1", map[string]string{"instance": "a"}, nil)
	src := &fakeSource{series: map[string][]promsource.Series{"node_load1": {s}}}
	task := &slapipev1.ETLTask{RunId: "run-retry", Index: 0, Count: 1, StepMs: step.Milliseconds(), HorizonSteps: 12,
		Start: timestamppb.New(s.Start), End: timestamppb.New(s.End()), ComputedAt: timestamppb.New(runEnd),
		Deadline: timestamppb.New(time.Now().Add(time.Hour)),
		Series:   []*slapipev1.TaskSeries{{Metric: s.Metric, Labels: s.Labels, MetricType: s.Type}}}

	pub := &flakyPublisher{fails: 1}
	e := newFakeETL(t, src, pub, prometheus.NewRegistry(), nil)
	p := pulledTask{task: task}
	p.series, p.pull, p.err = e.pullTask(context.Background(), task)
	require.NoError(t, p.err)
	require.True(t, e.workTask(context.Background(), "w1", p))
	require.Zero(t, pub.fails, "the refused write was retried")
	require.Len(t, pub.topic(slapipev1.DefaultTopic), 1, "the series is published once")
	reports := pub.topic(slapipev1.ProgressTopic(slapipev1.DefaultTopic))
	require.Len(t, reports, 1)
	var done slapipev1.ETLTaskDone
	require.NoError(t, proto.Unmarshal(reports[0].Value, &done))
	require.Equal(t, "w1", done.GetWorker())
	require.EqualValues(t, 1, done.GetPublished())
	require.Equal(t, 1.0, testutil.ToFloat64(e.metrics.tasks.WithLabelValues(taskDone)))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	down := &flakyPublisher{fails: 1 << 30}
	e = newFakeETL(t, src, down, prometheus.NewRegistry(), nil)
	require.False(t, e.workTask(ctx, "w1", p), "a cancelled worker gives the task back")
}
