package etl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/internal/kafkatopic"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Defaults of a distributed run (Config.Distributed) and of its workers.
const (
	DefaultGroupID        = "slapipe-etl"
	DefaultTaskSeries     = 100
	DefaultTaskTimeout    = 2 * time.Minute
	DefaultSessionTimeout = 10 * time.Second
	// MaxTaskSeries bounds Config.TaskSeries, keeping a task message (about
	// 100 bytes a series) far below Kafka's 1 MB default message size.
	MaxTaskSeries = 5000
)

// ErrNoWorkers is wrapped by the error of a distributed run that no worker
// advanced within Config.TaskTimeout.
var ErrNoWorkers = errors.New("no etl worker took the run's tasks")

func (c Config) distributedDefaults() Config {
	if c.GroupID == "" {
		c.GroupID = DefaultGroupID
	}
	if c.TaskSeries == 0 {
		c.TaskSeries = DefaultTaskSeries
	}
	if c.TaskTimeout == 0 {
		c.TaskTimeout = DefaultTaskTimeout
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.Read == "" {
		c.Read = promsource.ReadAuto
	}
	return c
}

func (c Config) validateDistributed() error {
	switch {
	case c.TaskSeries < 1 || c.TaskSeries > MaxTaskSeries:
		return fmt.Errorf("etl config: task series: must be between 1 and %d (got %d)", MaxTaskSeries, c.TaskSeries)
	case c.TaskTimeout < time.Second:
		return fmt.Errorf("etl config: task timeout: must be at least 1s (got %s)", c.TaskTimeout)
	case c.SessionTimeout < time.Second:
		return fmt.Errorf("etl config: session timeout: must be at least 1s (got %s)", c.SessionTimeout)
	case !promsource.ValidRead(c.Read):
		return fmt.Errorf("etl config: read: want %s, %s or %s (got %q)", promsource.ReadAuto, promsource.ReadRemote, promsource.ReadQueryRange, c.Read)
	}
	return nil
}

// taskKey keys task index of run runID; taskBalancer reads the index back.
func taskKey(runID string, index int) []byte {
	return []byte(runID + "/" + strconv.Itoa(index))
}

// taskBalancer puts task i on partition i mod n, so a run's tasks spread
// evenly over the partitions and so over the workers (hashing the keys
// leaves some partitions with more).
type taskBalancer struct{}

func (taskBalancer) Balance(msg kafka.Message, partitions ...int) int {
	k := string(msg.Key)
	i, err := strconv.Atoi(k[strings.LastIndexByte(k, '/')+1:])
	if err != nil || i < 0 {
		i = 0
	}
	return partitions[i%len(partitions)]
}

// distribute plans the run, publishes its tasks and follows the workers'
// reports until every task is done, the run stalls, RunTimeout passes or
// ctx ends. empty says the selectors matched nothing.
func (r *runState) distribute(ctx context.Context, start, end time.Time) (empty bool, err error) {
	e := r.etl
	err = r.coordinate(ctx, start, end)
	if errors.Is(err, errEmpty) {
		return true, nil
	}
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = fmt.Errorf("the run took longer than %s (--run-timeout): %w", e.cfg.RunTimeout, err)
	}
	return false, err
}

// errEmpty ends coordinate when the selectors match nothing.
var errEmpty = errors.New("no series")

func (r *runState) coordinate(ctx context.Context, start, end time.Time) error {
	e := r.etl
	ctx, cancel := context.WithDeadline(ctx, r.rep.started.Add(e.cfg.RunTimeout))
	defer cancel()
	t0 := time.Now()
	// Nothing is reported before the series are counted: the one stage a
	// distributed run reports, "analyse", is every worker's series.
	queries, err := e.src.Plan(ctx, r.selectors, start, end)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	refs, err := e.src.List(ctx, queries, start, end, e.cfg.Step, e.cfg.MaxSeries)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	listed := time.Since(t0).Seconds()
	r.run.PullSeconds = listed
	if len(refs) == 0 {
		return errEmpty
	}
	if len(refs) > e.cfg.MaxSeries {
		return fmt.Errorf("plan: %w: the selectors match at least %d series, at most %d per run (--max-series)", ErrLimit, len(refs), e.cfg.MaxSeries)
	}
	tasks := r.tasks(refs, start, end)

	// Reports are read from the end of the progress topic as it is before
	// the first task is out, so none is missed and no older run's is read.
	from, err := lastOffset(ctx, e.cfg.Kafka.Transport(), e.cfg.Brokers, slapipev1.ProgressTopic(e.cfg.Topic))
	if err != nil {
		return fmt.Errorf("progress topic: %w", err)
	}
	msgs := make([]kafka.Message, len(tasks))
	for i, t := range tasks {
		b, err := proto.Marshal(t)
		if err != nil {
			return fmt.Errorf("encoding task %d: %w", i, err)
		}
		msgs[i] = kafka.Message{Topic: slapipev1.TasksTopic(e.cfg.Topic), Key: taskKey(t.RunId, i), Value: b}
	}
	if err := publish(ctx, e.tasks, msgs, func(int, int) {}); err != nil {
		return fmt.Errorf("publishing %d tasks: %w", len(tasks), err)
	}
	e.logger.Info("etl run distributed", "run_id", r.run.RunId, "series", len(refs), "tasks", len(tasks), "topic", slapipev1.TasksTopic(e.cfg.Topic))
	return r.follow(ctx, from, len(tasks), len(refs))
}

// tasks shards refs into tasks of at most TaskSeries series.
func (r *runState) tasks(refs []promsource.SeriesRef, start, end time.Time) []*slapipev1.ETLTask {
	e := r.etl
	n := (len(refs) + e.cfg.TaskSeries - 1) / e.cfg.TaskSeries
	out := make([]*slapipev1.ETLTask, 0, n)
	for i := range n {
		part := refs[i*e.cfg.TaskSeries : min((i+1)*e.cfg.TaskSeries, len(refs))]
		t := &slapipev1.ETLTask{
			RunId: r.run.RunId, Index: int32(i), Count: int32(n),
			Start: ts(start), End: ts(end), StepMs: e.cfg.Step.Milliseconds(),
			HorizonSteps: int32(slapipev1.HorizonSteps(e.cfg.Step)),
			ComputedAt:   r.run.StartedAt,
			Deadline:     ts(r.rep.started.Add(e.cfg.RunTimeout)),
			Series:       make([]*slapipev1.TaskSeries, len(part)),
		}
		for j, ref := range part {
			t.Series[j] = &slapipev1.TaskSeries{Metric: ref.Metric, Labels: ref.Labels, MetricType: ref.Type, Rate: ref.Rate}
		}
		out = append(out, t)
	}
	return out
}

// follow reads the workers' reports from offset from of the progress topic
// until all count tasks of the run are done, and reports the series done
// out of total as stage "analyse". Each task counts once, however often it
// was done.
func (r *runState) follow(ctx context.Context, from int64, count, total int) error {
	e := r.etl
	rd := kafka.NewReader(kafka.ReaderConfig{
		Brokers: e.cfg.Brokers, Topic: slapipev1.ProgressTopic(e.cfg.Topic), Partition: 0, Dialer: e.cfg.Kafka.Dialer(),
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 500 * time.Millisecond,
	})
	defer rd.Close()
	if err := rd.SetOffset(from); err != nil {
		return fmt.Errorf("progress topic: %w", err)
	}
	done := make([]bool, count)
	doneTasks, doneSeries := 0, 0
	r.rep.report("analyse", 0, total, true)
	for doneTasks < count {
		rctx, rcancel := context.WithTimeout(ctx, e.cfg.TaskTimeout)
		m, err := rd.ReadMessage(rctx)
		rcancel()
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return fmt.Errorf("%d of %d tasks done: %w", doneTasks, count, ctx.Err())
			case rctx.Err() != nil:
				return r.stalled(doneTasks, count)
			}
			return fmt.Errorf("reading progress: %w", err)
		}
		var rep slapipev1.ETLTaskDone
		if err := proto.Unmarshal(m.Value, &rep); err != nil || rep.GetRunId() != r.run.RunId {
			continue // another run's, or not a report
		}
		i := int(rep.GetIndex())
		if i < 0 || i >= count || done[i] {
			continue
		}
		if rep.GetError() != "" {
			return fmt.Errorf("task %d on worker %s: %s", i, rep.GetWorker(), rep.GetError())
		}
		done[i] = true
		doneTasks++
		doneSeries += int(rep.GetSeriesDone())
		r.run.Series += rep.GetPublished()
		r.analysisErrors += rep.GetAnalysisErrors()
		r.run.PullSeconds += rep.GetPullSeconds()
		r.run.AnalyseSeconds += rep.GetAnalyseSeconds()
		r.run.PublishSeconds += rep.GetPublishSeconds()
		r.rep.report("analyse", doneSeries, total, doneTasks == count)
	}
	return nil
}

// stalled is the error of a run no task of which was done for TaskTimeout,
// naming the likely reason.
func (r *runState) stalled(done, count int) error {
	e := r.etl
	members, err := groupMembers(e.cfg.Kafka.Transport(), e.cfg.Brokers, e.cfg.GroupID)
	var why string
	switch {
	case err != nil:
		why = fmt.Sprintf("consumer group %s could not be described: %v", e.cfg.GroupID, err)
	case members == 0:
		why = fmt.Sprintf("consumer group %s has no members: start `slapipe etl worker` or give --etl-workers", e.cfg.GroupID)
	default:
		why = fmt.Sprintf("consumer group %s has %d members, none finished a task", e.cfg.GroupID, members)
	}
	return fmt.Errorf("%w: %d of %d tasks done, none within %s: %s", ErrNoWorkers, done, count, e.cfg.TaskTimeout, why)
}

// lastOffset is the offset the next message of partition 0 of topic gets.
// The topic must have that one partition: reports keyed by run id on
// others would never be read, and the run would fail for no visible
// reason.
func lastOffset(ctx context.Context, transport kafka.RoundTripper, brokers []string, topic string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, kafkatopic.Timeout)
	defer cancel()
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: kafkatopic.Timeout, Transport: transport}
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("reading the metadata of %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name == topic && t.Error == nil && len(t.Partitions) != 1 {
			return 0, fmt.Errorf("topic %s has %d partitions, the coordinator reads the workers' reports from one: recreate it with one partition", topic, len(t.Partitions))
		}
	}
	res, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(0)}}})
	if err != nil {
		return 0, fmt.Errorf("listing offsets of %s: %w", topic, err)
	}
	for _, p := range res.Topics[topic] {
		if p.Partition == 0 {
			if p.Error != nil {
				return 0, fmt.Errorf("listing offsets of %s: %w", topic, p.Error)
			}
			return p.LastOffset, nil
		}
	}
	return 0, fmt.Errorf("listing offsets of %s: no partition 0", topic)
}

// groupMembers counts the members of consumer group id.
func groupMembers(transport kafka.RoundTripper, brokers []string, id string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), kafkatopic.Timeout)
	defer cancel()
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: kafkatopic.Timeout, Transport: transport}
	res, err := c.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{id}})
	if err != nil {
		return 0, err
	}
	for _, g := range res.Groups {
		if g.GroupID == id {
			if g.Error != nil {
				return 0, g.Error
			}
			return len(g.Members), nil
		}
	}
	return 0, nil
}
