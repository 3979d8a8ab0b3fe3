package history

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testEnd = time.Date(2026, 3, 14, 15, 9, 27, 0, time.UTC)

func generate(t *testing.T) (*Generator, []Series) {
	t.Helper()
	g, err := New(Options{End: testEnd})
	require.NoError(t, err)
	return g, g.History()
}

func find(t *testing.T, ss []Series, metric string, kv ...string) Series {
	t.Helper()
	for _, s := range ss {
		if s.Metric != metric {
			continue
		}
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			ok = ok && s.Labels[kv[i]] == kv[i+1]
		}
		if ok {
			return s
		}
	}
	t.Fatalf("no series %s%v", metric, kv)
	return Series{}
}

func TestShape(t *testing.T) {
	g, ss := generate(t)
	end := testEnd.Truncate(5 * time.Second)
	require.Equal(t, end, g.End())
	require.GreaterOrEqual(t, len(ss), 25)
	seen := map[string]bool{}
	for _, s := range ss {
		require.Len(t, s.Values, 8641, s.Metric)
		require.Len(t, s.Timestamps, 8641, s.Metric)
		require.Equal(t, end.UnixMilli(), s.Timestamps[8640])
		require.Equal(t, end.Add(-12*time.Hour).UnixMilli(), s.Timestamps[0])
		require.Equal(t, "demo:9100", s.Labels["instance"])
		require.Equal(t, "node", s.Labels["job"])
		require.Contains(t, []string{Gauge, Counter}, s.Type)
		require.NotEmpty(t, s.Help)
		key := s.Metric + labelKey(s.Labels)
		require.False(t, seen[key], "duplicate series %s", key)
		seen[key] = true
		for i, v := range s.Values {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s[%d] = %v", s.Metric, i, v)
			if i > 0 {
				require.Equal(t, int64(5000), s.Timestamps[i]-s.Timestamps[i-1])
			}
		}
	}
}

func labelKey(m map[string]string) string {
	return m["device"] + "|" + m["mountpoint"] + "|" + m["cpu"] + "|" + m["mode"]
}

// TestMemFreeViolatedLastHour: the memory-free objective (min 256 MiB) is
// violated by exactly the constructed dips: 60 samples in 3 episodes in the
// last hour, none before.
func TestMemFreeViolatedLastHour(t *testing.T) {
	_, ss := generate(t)
	s := find(t, ss, "node_memory_MemFree_bytes")
	const bound = 256 * MiB
	cases := []struct {
		name             string
		from, to         int // sample indexes, [from, to)
		samples, episode int
	}{
		{"last hour", 8641 - 720, 8641, 60, 3},
		{"before the last hour", 0, 8641 - 720, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, eps := 0, 0
			for i := c.from; i < c.to; i++ {
				if s.Values[i] < bound {
					out++
					if i == c.from || s.Values[i-1] >= bound {
						eps++
					}
				}
			}
			require.Equal(t, c.samples, out)
			require.Equal(t, c.episode, eps)
		})
	}
	// Outside the dips MemFree stays well above the bound.
	for i, v := range s.Values {
		if v >= bound {
			require.Greater(t, v, 700.0*MiB, "sample %d", i)
		}
	}
}

// TestFilesystemCrossesWithinTenMinutes fits a least-squares line to the last
// hour of "/" and extrapolates it: it must reach 1 GiB between End and
// End+10 min (by construction at End+150 s), while the last sample is still
// above 1 GiB.
func TestFilesystemCrossesWithinTenMinutes(t *testing.T) {
	_, ss := generate(t)
	s := find(t, ss, "node_filesystem_avail_bytes", "mountpoint", "/")
	require.Equal(t, "/dev/vda", s.Labels["device"])
	require.Equal(t, "ext4", s.Labels["fstype"])
	last := s.Values[len(s.Values)-720:]
	var sx, sy, sxx, sxy float64
	for i, v := range last {
		x := float64(i-len(last)+1) * 5 // seconds relative to End
		sx, sy, sxx, sxy = sx+x, sy+v, sxx+x*x, sxy+x*v
	}
	n := float64(len(last))
	slope := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	icept := (sy - slope*sx) / n
	require.Less(t, slope, 0.0)
	cross := (GiB - icept) / slope
	require.Greater(t, cross, 0.0)
	require.Less(t, cross, 600.0)
	require.InDelta(t, FSCrossingAfterEnd, cross, 20)
	require.Greater(t, s.Values[len(s.Values)-1], float64(GiB))
	require.InDelta(t, 0.2*MiB, -slope, 0.01*MiB)

	for _, mp := range []string{"/home", "/data"} {
		o := find(t, ss, "node_filesystem_avail_bytes", "mountpoint", mp)
		for _, v := range o.Values {
			require.Greater(t, v, 10.0*GiB, mp)
		}
	}
}

func TestCountersMonotone(t *testing.T) {
	_, ss := generate(t)
	counters := 0
	for _, s := range ss {
		if s.Type != Counter {
			continue
		}
		counters++
		for i := 1; i < len(s.Values); i++ {
			require.GreaterOrEqual(t, s.Values[i], s.Values[i-1], "%s%v at %d", s.Metric, s.Labels, i)
		}
	}
	require.GreaterOrEqual(t, counters, 15)
}

// TestObjectiveRates checks the objectives with an upper bound (counters
// through the ETL's transform, r_i = (v_i - v_{i-1})/step): disk writes stay
// under 100 MB/s, eth0 packets under 50k/s, active memory under 16 GiB, and
// they (and MemFree) have the designed seasonal period: autocorrelation high
// at the period, negative at half of it.
func TestObjectiveRates(t *testing.T) {
	_, ss := generate(t)
	cases := []struct {
		metric, device string
		max            float64
		period         int
	}{
		{"node_disk_written_bytes_total", "vda", 100e6, 720},
		{"node_network_receive_packets_total", "eth0", 50000, 360},
		{"node_memory_Active_bytes", "", 16 * GiB, 360},
		{"node_memory_MemFree_bytes", "", 4 * GiB, 720},
	}
	for _, c := range cases {
		t.Run(c.metric, func(t *testing.T) {
			s := find(t, ss, c.metric, "device", c.device)
			r := s.Values
			if s.Type == Counter {
				r = make([]float64, len(s.Values)-1)
				for i := range r {
					r[i] = (s.Values[i+1] - s.Values[i]) / 5
				}
			}
			for _, v := range r {
				require.Less(t, v, c.max)
			}
			require.Greater(t, acf(r, c.period), 0.6)
			require.Less(t, acf(r, c.period/2), -0.3)
		})
	}
}

func acf(x []float64, lag int) float64 {
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	var num, den float64
	for i, v := range x {
		den += (v - mean) * (v - mean)
		if i >= lag {
			num += (v - mean) * (x[i-lag] - mean)
		}
	}
	return num / den
}

func TestDeterministicAndContinuous(t *testing.T) {
	_, a := generate(t)
	g, b := generate(t)
	require.Equal(t, a, b)

	// Live points continue the history: timestamps step on, counters keep
	// growing from where they were, nothing is produced twice.
	require.Nil(t, g.History())
	live := g.Continue(g.End().Add(12 * time.Second))
	for i, s := range live {
		require.Len(t, s.Values, 2)
		require.Equal(t, g.End().Add(5*time.Second).UnixMilli(), s.Timestamps[0])
		if s.Type == Counter {
			require.GreaterOrEqual(t, s.Values[0], b[i].Values[8640])
		}
	}
	again := g.Continue(g.End().Add(14 * time.Second))
	require.Empty(t, again[0].Values)

	// Far in the future the root filesystem was cleaned up and stays positive.
	far := g.Continue(g.End().Add(30 * time.Minute))
	fs := find(t, far, "node_filesystem_avail_bytes", "mountpoint", "/")
	for _, v := range fs.Values {
		require.Greater(t, v, 0.5*GiB)
	}
	require.Greater(t, fs.Values[len(fs.Values)-1], 5.0*GiB)
}

func TestNewRejectsBadOptions(t *testing.T) {
	cases := []struct {
		name string
		opts Options
	}{
		{"step longer than range", Options{Step: time.Hour, Range: time.Minute}},
		{"range not a multiple", Options{Step: 7 * time.Second, Range: time.Hour}},
		{"sub-millisecond step", Options{Step: time.Microsecond}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.opts)
			require.Error(t, err)
		})
	}
}

// BenchmarkHistory measures generating the 12 h demo history.
func BenchmarkHistory(b *testing.B) {
	for range b.N {
		g, err := New(Options{End: testEnd})
		require.NoError(b, err)
		_ = g.History()
	}
}
