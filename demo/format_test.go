package demo

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
	"github.com/slapipe/slapipe/store"
)

func TestFmtValue(t *testing.T) {
	cases := []struct {
		metric, transform string
		v                 float64
		want              string
	}{
		{"node_memory_MemFree_bytes", "raw", 268435456, "256 MiB"},
		{"node_filesystem_avail_bytes", "raw", 1.5 * (1 << 30), "1.50 GiB"},
		{"node_disk_written_bytes_total", "rate", 6e6, "5.72 MiB/s"},
		{"node_memory_MemFree_bytes", "raw", 512, "512 B"},
		{"node_memory_MemFree_bytes", "raw", -2048, "-2.00 KiB"},
		{"node_network_receive_packets_total", "rate", 20000, "20000/s"},
		{"node_load1", "raw", 0.8123, "0.8123"},
		{"node_load1", "raw", math.NaN(), "-"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			require.Equal(t, c.want, fmtValue(c.metric, c.transform, c.v))
		})
	}
}

func TestFmtDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{850 * time.Millisecond, "850ms"},
		{2400 * time.Millisecond, "2.4s"},
		{190 * time.Second, "3m10s"},
		{time.Hour, "1h"},
		{30 * time.Minute, "30m"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) { require.Equal(t, c.want, fmtDuration(c.d)) })
	}
}

func TestLabels(t *testing.T) {
	sets := []map[string]string{
		{"instance": "demo:9100", "job": "node", "device": "vda"},
		{"instance": "demo:9100", "job": "node", "mountpoint": "/"},
	}
	hide, shared := sharedLabels(sets)
	require.Equal(t, map[string]string{"instance": "demo:9100", "job": "node"}, shared)
	require.Equal(t, `{device="vda"}`, fmtLabels(sets[0], hide))
	require.Equal(t, `{instance="demo:9100",job="node",mountpoint="/"}`, fmtLabels(sets[1], nil))
	require.Equal(t, "", fmtLabels(map[string]string{"job": "node"}, hide))

	hide, _ = sharedLabels(append(sets, map[string]string{"instance": "other:9100", "job": "node"}))
	require.False(t, hide["instance"], "instances differ: keep them")
}

func TestRedactDSN(t *testing.T) {
	require.Equal(t, "slapipe:***@tcp(127.0.0.1:3306)/slapipe?parseTime=true",
		redactDSN("slapipe:s3cr@t@tcp(127.0.0.1:3306)/slapipe?parseTime=true"))
	require.Equal(t, "root@unix(/tmp/x.sock)/db", redactDSN("root@unix(/tmp/x.sock)/db"))
}

// fakeStore stores the run's analyses one poll at a time.
type fakeStore struct {
	runID    string
	polls    int
	recorded int // poll from which the run is listed
	perPoll  int
}

func (f *fakeStore) ListRuns(context.Context, int) ([]*slapipev1.Run, error) {
	f.polls++
	if f.polls >= f.recorded {
		return []*slapipev1.Run{{RunId: f.runID}}, nil
	}
	return nil, nil
}

func (f *fakeStore) Analyses(_ context.Context, q store.Query) (string, []*slapipev1.SeriesAnalysis, error) {
	if q.RunID != f.runID {
		return "", nil, errors.New("wrong run")
	}
	n := f.polls * f.perPoll
	if n == 0 {
		return "", nil, store.ErrNotFound
	}
	return q.RunID, make([]*slapipev1.SeriesAnalysis, n), nil
}

func TestWaitStored(t *testing.T) {
	run := &slapipev1.Run{RunId: "r1", Series: 10}
	f := &fakeStore{runID: "r1", recorded: 4, perPoll: 3}
	msgs, err := waitStored(context.Background(), f, run, time.Minute)
	require.NoError(t, err)
	require.Len(t, msgs, 12) // 4 polls: recorded and 12 >= 10 stored
	require.Equal(t, 4, f.polls)

	never := &fakeStore{runID: "r1", recorded: 1 << 30, perPoll: 1}
	_, err = waitStored(context.Background(), never, run, 300*time.Millisecond)
	require.ErrorContains(t, err, "of the 10 series of run r1")
}
