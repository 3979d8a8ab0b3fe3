package ctl

import (
	"errors"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestFormatValue holds the cases the demo's own formatter had, now read
// the way ctl's tables print them.
func TestFormatValue(t *testing.T) {
	cases := []struct {
		metric, transform string
		v                 float64
		want              string
	}{
		{"node_memory_MemFree_bytes", "raw", 268435456, "256 MiB"},
		{"node_filesystem_avail_bytes", "raw", 1.5 * (1 << 30), "1.5 GiB"},
		{"node_disk_written_bytes_total", "rate", 6e6, "5.72 MiB/s"},
		{"node_memory_MemFree_bytes", "raw", 512, "512 B"},
		{"node_memory_MemFree_bytes", "raw", -2048, "-2 KiB"},
		{"node_network_receive_packets_total", "rate", 20000, "20k/s"},
		{"node_network_receive_packets_total", "raw", 20000, "20k"},
		{"node_load1", "raw", 0.8123, "0.8123"},
		{"node_load1", "raw", math.NaN(), "-"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			require.Equal(t, c.want, FormatValue(c.metric, c.transform, c.v))
		})
	}
}

func TestFormatLabels(t *testing.T) {
	sets := []map[string]string{
		{"instance": "demo:9100", "job": "node", "device": "vda"},
		{"instance": "demo:9100", "job": "node", "mountpoint": "/"},
	}
	common := CommonLabels(sets)
	require.Equal(t, map[string]string{"instance": "demo:9100", "job": "node"}, common)
	require.Equal(t, `{device="vda"}`, FormatLabels(WithoutLabels(sets[0], common)))
	require.Equal(t, `{instance="demo:9100", job="node", mountpoint="/"}`, FormatLabels(sets[1]))
	require.Equal(t, "-", FormatLabels(WithoutLabels(map[string]string{"job": "node"}, common)))
	require.Equal(t, "-", FormatLabels(map[string]string{"__name__": "up"}))

	common = CommonLabels(append(sets, map[string]string{"instance": "other:9100", "job": "node"}))
	require.Equal(t, map[string]string{"job": "node"}, common, "instances differ: keep them")
}

// fakeStream replays messages, then err (io.EOF for a clean end).
type fakeStream struct {
	msgs []*slapipev1.ETLProgress
	err  error
}

func (f *fakeStream) Recv() (*slapipev1.ETLProgress, error) {
	if len(f.msgs) == 0 {
		return nil, f.err
	}
	m := f.msgs[0]
	f.msgs = f.msgs[1:]
	return m, nil
}

func TestFollowRun(t *testing.T) {
	progress := []*slapipev1.ETLProgress{{Stage: "pull", Done: 1, Total: 2}, {Stage: "pull", Done: 2, Total: 2}}
	withRun := func(r *slapipev1.Run) []*slapipev1.ETLProgress {
		return append(append([]*slapipev1.ETLProgress{}, progress...), &slapipev1.ETLProgress{Stage: "done", Run: r})
	}
	broken := errors.New("stream broke")
	cases := []struct {
		name    string
		stream  *fakeStream
		wantErr string
		wantRun bool
	}{
		{"ok", &fakeStream{msgs: withRun(&slapipev1.Run{RunId: "r1", Status: "ok"}), err: io.EOF}, "", true},
		{"failed status", &fakeStream{msgs: withRun(&slapipev1.Run{RunId: "r2", Status: "failed"}), err: io.EOF},
			"etl run r2 failed: no reason given", true},
		{"error without failed status", &fakeStream{msgs: withRun(&slapipev1.Run{RunId: "r3", Status: "ok", Error: "kafka\ndown"}), err: io.EOF},
			"etl run r3 failed: kafka down", true},
		{"no summary", &fakeStream{msgs: progress, err: io.EOF}, "without a summary", false},
		{"stream error", &fakeStream{msgs: progress, err: broken}, "stream broke", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seen := 0
			run, err := FollowRun(c.stream, func(*slapipev1.ETLProgress) { seen++ })
			if c.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, c.wantErr)
			}
			require.Equal(t, c.wantRun, run != nil)
			require.GreaterOrEqual(t, seen, len(progress), "every message reaches onMsg")
		})
	}
}
