package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
)

// BenchmarkDistributedRun is one ETL run end to end, from the run's start
// to its last row stored in MariaDB, over the series of
// SLAPIPE_BENCH_SELECTOR (default the series scripts/bench-distributed.sh
// backfills) ending at SLAPIPE_BENCH_END (unix seconds), worked by one and
// then two `slapipe etl worker` processes with GOMAXPROCS=1 each, each in
// a session of its own (see distributedRun). This
// process hosts the broker (kfake), the coordinator and datastorage.
// Besides the wall seconds it reports the workers' summed stage seconds
// and where the machine's CPU went: the workers, Prometheus, this
// process, and the rest (MariaDB and whatever else runs on the machine).
func BenchmarkDistributedRun(b *testing.B) {
	promURL := testenv.PrometheusURL(b)
	sel, end := testenv.BenchSeries(b)
	dsn := testenv.NewMySQLDatabase(b, testenv.MySQLDSN(b), "benchdist")
	brokers := testkit.Broker(b, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := store.OpenMigrated(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	consumer, err := datastorage.New(datastorage.Config{Brokers: brokers}, st, datastorage.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := consumer.Run(ctx); err != nil {
			b.Error(err)
		}
	}()
	defer func() { cancel(); wg.Wait() }()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	coord, err := etl.New(etl.Config{PrometheusURL: promURL, Brokers: brokers, Selectors: []string{sel},
		Distributed: true, MaxSeries: 100_000, RunTimeout: 30 * time.Minute, Read: os.Getenv("SLAPIPE_BENCH_READ")}, etl.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	defer coord.Close()

	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			var m runFigures
			for b.Loop() {
				m.add(distributedRun(b, coord, db, brokers, promURL, end, n))
			}
			m.report(b)
		})
	}
}

// runFigures are the measurements of distributed runs, summed.
type runFigures struct {
	runs                                     int
	series, wall, run, tail                  float64
	pull, analyse, publish                   float64
	workersCPU, promCPU, selfCPU, machineCPU float64
}

func (f *runFigures) add(g runFigures) {
	f.runs++
	f.series = g.series
	f.wall += g.wall
	f.run += g.run
	f.tail += g.tail
	f.pull += g.pull
	f.analyse += g.analyse
	f.publish += g.publish
	f.workersCPU += g.workersCPU
	f.promCPU += g.promCPU
	f.selfCPU += g.selfCPU
	f.machineCPU += g.machineCPU
}

func (f *runFigures) report(b *testing.B) {
	n := float64(f.runs)
	b.ReportMetric(f.series, "series")
	b.ReportMetric(f.wall/n, "stored-s/op")
	b.ReportMetric(f.run/n, "run-s/op")
	b.ReportMetric(f.tail/n, "store-tail-s/op")
	b.ReportMetric(f.pull/n, "worker-pull-s/op")
	b.ReportMetric(f.analyse/n, "worker-analyse-s/op")
	b.ReportMetric(f.publish/n, "worker-publish-s/op")
	b.ReportMetric(f.workersCPU/n, "workers-cpu-s/op")
	b.ReportMetric(f.promCPU/n, "prometheus-cpu-s/op")
	b.ReportMetric(f.selfCPU/n, "broker+coordinator+datastorage-cpu-s/op")
	b.ReportMetric((f.machineCPU-f.workersCPU-f.promCPU-f.selfCPU)/n, "other-cpu-s/op")
	b.ReportMetric(f.machineCPU/n, "machine-cpu-s/op")
}

// distributedRun starts n worker processes, runs once, waits for the
// store and stops the workers.
func distributedRun(b *testing.B, coord *etl.ETL, db *sql.DB, brokers []string, promURL string, end time.Time, n int) runFigures {
	b.StopTimer()
	procs := make([]*exec.Cmd, n)
	for i := range procs {
		c := exec.Command(binary, "etl", "worker", "--kafka-brokers", brokers[0], "--prometheus-url", promURL,
			"--metrics-listen", "127.0.0.1:0", "--log-level", "warn")
		if r := os.Getenv("SLAPIPE_BENCH_READ"); r != "" {
			c.Args = append(c.Args, "--prometheus-read", r)
		}
		c.Env = append(cleanEnv(), "GOMAXPROCS=1")
		// A session of its own, as on a machine of its own: Linux' autogroup
		// scheduling shares the CPU between sessions, so workers in the
		// benchmark's session would split one share between them.
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		logf, err := os.Create(filepath.Join(b.TempDir(), fmt.Sprintf("worker%d.log", i)))
		if err != nil {
			b.Fatal(err)
		}
		c.Stdout, c.Stderr = logf, logf
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		procs[i] = c
	}
	waitGroupMembers(b, brokers, n)
	b.StartTimer()

	var f runFigures
	p0, s0, m0 := prometheusCPU(b, promURL), selfCPU(), machineCPU(b)
	t0 := time.Now()
	run, err := coord.Run(context.Background(), etl.RunOptions{End: end})
	if err != nil {
		b.Fatal(err)
	}
	f.run = time.Since(t0).Seconds()
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		var stored int64
		if err := db.QueryRow("SELECT COUNT(*) FROM analyses WHERE run_id = ?", run.GetRunId()).Scan(&stored); err != nil {
			b.Fatal(err)
		}
		if stored >= run.GetSeries() {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d series stored", stored, run.GetSeries())
		}
	}
	f.wall = time.Since(t0).Seconds()
	f.tail = f.wall - f.run
	f.promCPU, f.selfCPU, f.machineCPU = prometheusCPU(b, promURL)-p0, selfCPU()-s0, machineCPU(b)-m0
	b.StopTimer()
	f.series = float64(run.GetSeries())
	f.pull, f.analyse, f.publish = run.GetPullSeconds(), run.GetAnalyseSeconds(), run.GetPublishSeconds()
	for _, c := range procs {
		_ = c.Process.Signal(syscall.SIGTERM)
		_ = c.Wait()
		// The workers' CPU is their whole life's; idle before and after
		// the run, they spend next to nothing then.
		f.workersCPU += (c.ProcessState.UserTime() + c.ProcessState.SystemTime()).Seconds()
	}
	b.StartTimer()
	return f
}

// selfCPU is the user+system CPU seconds of this process so far.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// machineCPU is the busy CPU seconds of the whole machine so far, from
// /proc/stat (user, nice, system, irq, softirq, steal).
func machineCPU(b *testing.B) float64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	fields := strings.Fields(sc.Text()) // cpu user nice system idle iowait irq softirq steal ...
	var ticks float64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			b.Fatal(err)
		}
		ticks += v
	}
	return ticks / 100 // USER_HZ
}

// prometheusCPU reads process_cpu_seconds_total from Prometheus' /metrics.
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
