// Command benchgen writes node_exporter-shaped history in OpenMetrics text
// for `promtool tsdb create-blocks-from openmetrics`: 1000 series (counters
// and gauges over 11 metrics, the mix of a busy host) for 12 h at 5 s by
// default, under their own instance label. scripts/etl-bench.sh uses it to
// give the ETL benchmark a real Prometheus with many series. With -tsdb
// DIR it writes the same samples as a TSDB block into DIR instead (what
// promtool would make of the text, without the text: 10,000 series are
// 8 GB of it).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"time"
)

// family is one metric family and the label sets of its series.
type family struct {
	name    string // family name; counters get _total on their samples
	counter bool
	help    string
	labels  []string // rendered label sets without instance/job
}

func families(scale int) []family {
	modes := []string{"idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"}
	var cpu []string
	for c := range 40 * scale / 1000 {
		for _, m := range modes {
			cpu = append(cpu, fmt.Sprintf(`cpu="%d",mode="%s"`, c, m))
		}
	}
	devs := func(prefix, label string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(`%s="%s%d"`, label, prefix, i)
		}
		return out
	}
	disk, net, fs := devs("sd", "device", 60*scale/1000), devs("eth", "device", 50*scale/1000), devs("/m", "mountpoint", 100*scale/1000)
	var hw []string
	for c := range 10 * scale / 1000 {
		for s := range 10 {
			hw = append(hw, fmt.Sprintf(`chip="chip%d",sensor="temp%d"`, c, s))
		}
	}
	return []family{
		{"node_cpu_seconds", true, "Seconds the CPUs spent in each mode.", cpu},
		{"node_disk_read_bytes", true, "The total number of bytes read successfully.", disk},
		{"node_disk_written_bytes", true, "The total number of bytes written successfully.", disk},
		{"node_disk_io_time_seconds", true, "Total seconds spent doing I/Os.", disk},
		{"node_network_receive_bytes", true, "Network device statistic receive_bytes.", net},
		{"node_network_transmit_bytes", true, "Network device statistic transmit_bytes.", net},
		{"node_network_receive_packets", true, "Network device statistic receive_packets.", net},
		{"node_network_transmit_packets", true, "Network device statistic transmit_packets.", net},
		{"node_filesystem_avail_bytes", false, "Filesystem space available to non-root users in bytes.", fs},
		{"node_filesystem_free_bytes", false, "Filesystem free space in bytes.", fs},
		{"node_hwmon_temp_celsius", false, "Hardware monitor for temperature (input).", hw},
	}
}

func main() {
	out := flag.String("out", "", "output file (OpenMetrics text)")
	tsdbDir := flag.String("tsdb", "", "write a TSDB block into this Prometheus data directory instead of -out")
	series := flag.Int("series", 1000, "number of series, a multiple of 1000")
	hours := flag.Float64("hours", 12, "hours of history")
	step := flag.Int("step", 5, "seconds between samples")
	instance := flag.String("instance", "bench:9100", "instance label of every series")
	end := flag.Int64("end", 0, "last timestamp (unix seconds); 0 = now - 1s, rounded down to the step")
	flag.Parse()
	if (*out == "") == (*tsdbDir == "") || *series < 1000 || *series%1000 != 0 || *step <= 0 || *hours <= 0 {
		log.Fatal("usage: benchgen -out FILE|-tsdb DIR [-series 1000*k] [-hours 12] [-step 5] [-instance bench:9100]")
	}
	last := *end
	if last == 0 {
		last = time.Now().Unix() - 1
	}
	last -= last % int64(*step)
	n := int(*hours * 3600 / float64(*step))
	first := last - int64(n)*int64(*step)

	var sk sink
	var err error
	if *tsdbDir != "" {
		sk, err = newBlockSink(*tsdbDir)
	} else {
		sk, err = newTextSink(*out)
	}
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(42, 1))
	total := 0
	for _, fam := range families(*series) {
		sample := fam.name
		if fam.counter {
			sample = fam.name + "_total"
		}
		sk.family(fam)
		for k, lbls := range fam.labels {
			sk.series(sample, lbls, *instance)
			base := 1e3 * float64(1+k%17)
			phase := float64(k) * 0.37
			v := base * 1e3
			for i := 0; i <= n; i++ {
				ts := first + int64(i)*int64(*step)
				day := math.Sin(2*math.Pi*float64(ts)/86400 + phase)
				hour := math.Sin(2*math.Pi*float64(ts)/3600 + phase)
				if fam.counter {
					v += float64(*step) * base * (1 + 0.5*day + 0.3*hour + 0.2*rng.Float64())
				} else {
					v = base*1e3*(1+0.2*day+0.05*hour) + base*10*rng.NormFloat64()
				}
				sk.sample(ts, math.Round(v*100)/100)
			}
			total++
		}
	}
	if err := sk.close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d series x %d samples, %d..%d step %ds\n", total, n+1, first, last, *step)
}

// sink receives the families, series and samples in order.
type sink interface {
	family(f family)
	// series starts a series: sample name, rendered labels, instance.
	series(name, lbls, instance string)
	// sample adds a sample at ts (unix seconds) to the current series.
	sample(ts int64, v float64)
	close() error
}

// textSink writes OpenMetrics text.
type textSink struct {
	f      *os.File
	w      *bufio.Writer
	prefix string
	buf    []byte
}

func newTextSink(path string) (*textSink, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &textSink{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (s *textSink) family(f family) {
	typ := "gauge"
	if f.counter {
		typ = "counter"
	}
	fmt.Fprintf(s.w, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, typ)
}

func (s *textSink) series(name, lbls, instance string) {
	s.prefix = fmt.Sprintf("%s{%s,instance=%q,job=\"node\"} ", name, lbls, instance)
}

func (s *textSink) sample(ts int64, v float64) {
	s.buf = append(s.buf[:0], s.prefix...)
	s.buf = strconv.AppendFloat(s.buf, v, 'f', -1, 64)
	s.buf = append(s.buf, ' ')
	s.buf = strconv.AppendInt(s.buf, ts, 10)
	s.buf = append(s.buf, '\n')
	s.w.Write(s.buf)
}

func (s *textSink) close() error {
	fmt.Fprintln(s.w, "# EOF")
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.f.Close()
}
