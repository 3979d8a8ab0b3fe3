package history

import "math"

// catalog builds the demo series. Objective series first, in the order of
// the default SLA set.
func catalog(g *Generator) []*generated {
	b := &builder{g: g}
	rangeSec := g.opts.Range.Seconds()

	// Shared per-timestamp state: MemAvailable is derived from MemFree and
	// Cached, and each CPU's idle time from its user and system time, so the
	// series stay consistent with one another.
	var memFree, cached float64
	type cpuState struct{ user, system float64 }
	cpus := []*cpuState{{}, {}}

	// disk-write: 1 h season, peaks near 10 MB/s, far below 100 MB/s.
	b.counter("node_disk_written_bytes_total", "The total number of bytes written successfully.",
		b.labels("device", "vda"), 1.2e12, func(sec float64, n *noise) float64 {
			return 6e6 + 4e6*wave(sec, SeasonLong, 0) + n.autoreg(0.5, 0.6e6)
		})
	b.counter("node_disk_written_bytes_total", "The total number of bytes written successfully.",
		b.labels("device", "vdb"), 3.4e11, func(sec float64, n *noise) float64 {
			return 1.5e6 + 1e6*wave(sec, SeasonShort, 0.1) + n.normal(0.2e6)
		})

	// memory-free: daily and hourly seasons, dips below 256 MiB.
	b.gauge("node_memory_MemFree_bytes", "Memory information field MemFree_bytes.",
		b.labels(), func(sec, rel float64, n *noise) float64 {
			v := 1.5*GiB + 100*MiB*wave(sec, 86400, 0) + 250*MiB*wave(sec, SeasonLong, 0.3) + n.autoreg(0.8, 15*MiB)
			if inMemFreeDip(rel) {
				v = clamp(MemFreeDipLevel+n.normal(8*MiB), MemFreeDipLevel-40*MiB, MemFreeDipLevel+40*MiB)
			}
			memFree = math.Round(v)
			return memFree
		})

	// filesystem-avail: "/" trends down through 1 GiB; the others are healthy.
	b.gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.",
		b.labels("device", "/dev/vda", "fstype", "ext4", "mountpoint", "/"), func(_, rel float64, n *noise) float64 {
			return math.Round(fsRootTrend(rel, rangeSec) + n.autoreg(0.5, 0.5*MiB))
		})
	b.gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.",
		b.labels("device", "/dev/vdb", "fstype", "ext4", "mountpoint", "/home"), func(sec, _ float64, n *noise) float64 {
			return math.Round(42*GiB + 50*MiB*wave(sec, SeasonShort, 0) + n.normal(2*MiB))
		})
	b.gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.",
		b.labels("device", "/dev/vdc", "fstype", "xfs", "mountpoint", "/data"), func(_, rel float64, n *noise) float64 {
			return math.Round(150*GiB + rel*(0.5*GiB/3600) + n.autoreg(0.9, 20*MiB))
		})

	// memory-active: 30 min season and a slow upward trend, about 3 GiB.
	b.gauge("node_memory_Active_bytes", "Memory information field Active_bytes.",
		b.labels(), func(sec, rel float64, n *noise) float64 {
			return math.Round(3*GiB + 400*MiB*wave(sec, SeasonShort, 0) + rel*(30*MiB/3600) + n.autoreg(0.7, 20*MiB))
		})

	// net-rx-packets: 30 min season, peaks near 34k packets/s (< 50k).
	b.counter("node_network_receive_packets_total", "Network device statistic receive_packets.",
		b.labels("device", "eth0"), 8.1e9, func(sec float64, n *noise) float64 {
			return 20000 + 12000*wave(sec, SeasonShort, 0) + n.autoreg(0.6, 800)
		})
	b.counter("node_network_receive_packets_total", "Network device statistic receive_packets.",
		b.labels("device", "lo"), 2.2e8, func(sec float64, n *noise) float64 {
			return 400 + 100*wave(sec, SeasonLong, 0.2) + n.normal(30)
		})

	// Context for the report: more memory, network, disk, CPU and load series.
	b.gauge("node_memory_Cached_bytes", "Memory information field Cached_bytes.",
		b.labels(), func(sec, _ float64, n *noise) float64 {
			cached = math.Round(2.2*GiB + 300*MiB*wave(sec, SeasonShort, 0.25) + n.autoreg(0.8, 10*MiB))
			return cached
		})
	b.gauge("node_memory_MemAvailable_bytes", "Memory information field MemAvailable_bytes.",
		b.labels(), func(_, _ float64, n *noise) float64 {
			return math.Round(memFree + 0.9*cached + 100*MiB + n.normal(2*MiB))
		})
	b.counter("node_network_transmit_packets_total", "Network device statistic transmit_packets.",
		b.labels("device", "eth0"), 6.3e9, func(sec float64, n *noise) float64 {
			return 15000 + 8000*wave(sec, SeasonShort, 0.2) + n.autoreg(0.6, 600)
		})
	for _, d := range []struct {
		dev        string
		rx, tx     float64 // bytes per second at the mean
		amp        float64 // relative season amplitude
		rx0, tx0   float64
		period, ph float64
	}{
		{"eth0", 18e6, 9e6, 0.6, 7.3e12, 2.1e12, SeasonShort, 0},
		{"lo", 120e3, 120e3, 0.25, 6.6e10, 6.6e10, SeasonLong, 0.2},
	} {
		b.counter("node_network_receive_bytes_total", "Network device statistic receive_bytes.",
			b.labels("device", d.dev), d.rx0, func(sec float64, n *noise) float64 {
				return d.rx * (1 + d.amp*wave(sec, d.period, d.ph) + n.autoreg(0.6, 0.05))
			})
		b.counter("node_network_transmit_bytes_total", "Network device statistic transmit_bytes.",
			b.labels("device", d.dev), d.tx0, func(sec float64, n *noise) float64 {
				return d.tx * (1 + d.amp*wave(sec, d.period, d.ph+0.1) + n.autoreg(0.6, 0.05))
			})
	}
	b.counter("node_disk_read_bytes_total", "The total number of bytes read successfully.",
		b.labels("device", "vda"), 9.8e11, func(sec float64, n *noise) float64 {
			return 2e6 + 1.5e6*wave(sec, SeasonLong, 0.5) + n.normal(0.3e6)
		})
	b.counter("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.",
		b.labels("device", "vda"), 5.2e4, func(sec float64, n *noise) float64 {
			return clamp(0.1+0.08*wave(sec, SeasonLong, 0)+n.normal(0.01), 0, 1)
		})
	for i, c := range cpus {
		cpu := string(rune('0' + i))
		b.counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
			b.labels("cpu", cpu, "mode", "user"), 2e5+float64(i)*1e4, func(sec float64, n *noise) float64 {
				c.user = clamp(0.25+0.15*wave(sec, SeasonLong, 0.05*float64(i))+n.normal(0.02), 0.01, 0.9)
				return c.user
			})
		b.counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
			b.labels("cpu", cpu, "mode", "system"), 5e4+float64(i)*3e3, func(sec float64, n *noise) float64 {
				c.system = clamp(0.06+0.02*wave(sec, SeasonLong, 0.1)+n.normal(0.005), 0.005, 0.09)
				return c.system
			})
		b.counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
			b.labels("cpu", cpu, "mode", "idle"), 1e6+float64(i)*2e4, func(float64, *noise) float64 {
				return 1 - c.user - c.system
			})
	}
	var load1, load5, load15 float64
	b.gauge("node_load1", "1m load average.", b.labels(), func(sec, _ float64, n *noise) float64 {
		load1 = math.Max(0.8+0.5*wave(sec, SeasonLong, 0)+n.autoreg(0.9, 0.08), 0.01)
		return round2(load1)
	})
	b.gauge("node_load5", "5m load average.", b.labels(), func(float64, float64, *noise) float64 {
		load5 = ewma(load5, load1, g.step, 300)
		return round2(load5)
	})
	b.gauge("node_load15", "15m load average.", b.labels(), func(float64, float64, *noise) float64 {
		load15 = ewma(load15, load1, g.step, 900)
		return round2(load15)
	})
	b.gauge("node_procs_running", "Number of processes in runnable state.", b.labels(), func(sec, _ float64, n *noise) float64 {
		return math.Max(math.Round(2+1.5*wave(sec, SeasonLong, 0)+n.normal(1)), 1)
	})
	b.counter("node_context_switches_total", "Total number of context switches.", b.labels(), 4.4e9, func(sec float64, n *noise) float64 {
		return 3000 + 1500*wave(sec, SeasonLong, 0.4) + n.normal(200)
	})
	return b.out
}

// ewma moves prev toward x as the kernel's load averages do, with time
// constant tau seconds; a zero prev starts at x.
func ewma(prev, x, step, tau float64) float64 {
	if prev == 0 {
		return x
	}
	a := math.Exp(-step / tau)
	return a*prev + (1-a)*x
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
