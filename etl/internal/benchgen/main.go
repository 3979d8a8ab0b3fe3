// Command benchgen writes node_exporter-shaped history in OpenMetrics text
// for `promtool tsdb create-blocks-from openmetrics`: 1000 series (counters
// and gauges over 11 metrics, the mix of a busy host) for 12 h at 5 s by
// default, under their own instance label. scripts/etl-bench.sh uses it to
// give the ETL benchmark a real Prometheus with many series.
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
	series := flag.Int("series", 1000, "number of series, a multiple of 1000")
	hours := flag.Float64("hours", 12, "hours of history")
	step := flag.Int("step", 5, "seconds between samples")
	instance := flag.String("instance", "bench:9100", "instance label of every series")
	end := flag.Int64("end", 0, "last timestamp (unix seconds); 0 = now - 1s, rounded down to the step")
	flag.Parse()
	if *out == "" || *series < 1000 || *series%1000 != 0 || *step <= 0 || *hours <= 0 {
		log.Fatal("usage: benchgen -out FILE [-series 1000*k] [-hours 12] [-step 5] [-instance bench:9100]")
	}
	last := *end
	if last == 0 {
		last = time.Now().Unix() - 1
	}
	last -= last % int64(*step)
	n := int(*hours * 3600 / float64(*step))
	first := last - int64(n)*int64(*step)

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(42, 1))
	total := 0
	var buf []byte
	for _, fam := range families(*series) {
		typ, sample := "gauge", fam.name
		if fam.counter {
			typ, sample = "counter", fam.name+"_total"
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", fam.name, fam.help, fam.name, typ)
		for k, lbls := range fam.labels {
			prefix := fmt.Sprintf("%s{%s,instance=%q,job=\"node\"} ", sample, lbls, *instance)
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
				buf = append(buf[:0], prefix...)
				buf = strconv.AppendFloat(buf, math.Round(v*100)/100, 'f', -1, 64)
				buf = append(buf, ' ')
				buf = strconv.AppendInt(buf, ts, 10)
				buf = append(buf, '\n')
				w.Write(buf)
			}
			total++
		}
	}
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d series x %d samples, %d..%d step %ds\n", total, n+1, first, last, *step)
}
