package etl

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
)

// BenchmarkRun is one full ETL run (real Prometheus -> real engine ->
// in-process broker) over the series of SLAPIPE_BENCH_SELECTOR (default
// the 1000 series scripts/etl-bench.sh backfills) ending at
// SLAPIPE_BENCH_END (unix seconds; default now). It reports each stage's
// wall seconds per run and, since the machine may be shared, the CPU
// seconds this process spent in each stage plus those Prometheus spent
// answering (its process_cpu_seconds_total). scripts/etl-bench.sh sets
// everything up.
func BenchmarkRun(b *testing.B) {
	url := testenv.PrometheusURL(b)
	sel, end := testenv.BenchSeries(b)
	brokers := testkit.Broker(b, 0)
	e, err := New(Config{PrometheusURL: url, Brokers: brokers, Selectors: []string{sel}}, Deps{Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	var pull, analyse, publish, series float64
	cpu := map[string]float64{}
	var promCPU float64
	for b.Loop() {
		stageCPU := map[string]float64{}
		var stage string
		mark := func(next string) {
			now := processCPU()
			if stage != "" {
				cpu[stage] += now - stageCPU[stage]
			}
			stage, stageCPU[next] = next, now
		}
		p0 := prometheusCPU(b, url)
		run, err := e.Run(context.Background(), RunOptions{Trigger: "cli", End: end, Progress: func(p Progress) {
			if p.Stage != stage {
				mark(p.Stage)
			}
		}})
		if err != nil {
			b.Fatal(err)
		}
		promCPU += prometheusCPU(b, url) - p0
		pull += run.PullSeconds
		analyse += run.AnalyseSeconds
		publish += run.PublishSeconds
		series = float64(run.Series)
	}
	n := float64(b.N)
	b.ReportMetric(pull/n, "pull-s/op")
	b.ReportMetric(analyse/n, "analyse-s/op")
	b.ReportMetric(publish/n, "publish-s/op")
	b.ReportMetric(cpu["pull"]/n, "pull-cpu-s/op")
	b.ReportMetric(promCPU/n, "prometheus-cpu-s/op")
	b.ReportMetric(cpu["analyse"]/n, "analyse-cpu-s/op")
	b.ReportMetric(cpu["publish"]/n, "publish-cpu-s/op")
	b.ReportMetric(series, "series")
	b.ReportMetric(testutil.ToFloat64(e.metrics.analysisErrors)/n, "analysis-errors/op")
}

// processCPU is the user+system CPU seconds of this process so far.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// prometheusCPU reads process_cpu_seconds_total from Prometheus' own
// /metrics.
func prometheusCPU(b *testing.B, url string) float64 {
	resp, err := http.Get(strings.TrimSuffix(url, "/") + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
	}
	return 0
}
