package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/internal/kafkatopic"
	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestBrokerRestartedOnSamePort stores a first half of a run through
// datastorage, restarts the broker (kfake, in memory: it comes back empty)
// on the same port, publishes the second half and the run record, and
// checks that the same datastorage process stores the whole run exactly.
func TestBrokerRestartedOnSamePort(t *testing.T) {
	baseDSN := testenv.MySQLDSN(t)
	st := testkit.OpenStore(t, testenv.NewMySQLDatabase(t, baseDSN, "e2e"))
	port := freePort(t)
	startBroker := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.Ports(port))
		require.NoError(t, err)
		return c
	}
	broker := startBroker()
	brokers := broker.ListenAddrs()
	createTopics(t, brokers, 3, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))
	startConsumer(t, brokers, st)

	run := "0193a5b0-0000-7000-8000-0000000b0b0b"
	want := fixtures.Analyses(run, 600)
	msgs := analysisMessages(t, want)
	produce(t, brokers, slapipev1.DefaultTopic, msgs[:300]...)
	waitFor(t, "the first half stored", func() (bool, error) {
		n, err := countRows(context.Background(), st.DB(), "analyses")
		return n == 300, err
	})

	broker.Close()
	restarted := time.Now()
	broker = startBroker()
	t.Cleanup(broker.Close)
	require.Equal(t, brokers, broker.ListenAddrs(), "same address")
	// The client's pooled connections to the old broker fail once.
	waitFor(t, "the topics on the restarted broker", func() (bool, error) {
		return kafkatopic.Ensure(context.Background(), brokers, 3, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic)) == nil, nil
	})
	produce(t, brokers, slapipev1.DefaultTopic, msgs[300:]...)
	produce(t, brokers, slapipev1.RunsTopic(slapipev1.DefaultTopic), runMessage(t, runRecord(run, len(want))))
	waitFor(t, "the whole run stored after the restart", func() (bool, error) {
		n, err := countRows(context.Background(), st.DB(), "analyses")
		if err != nil || n < len(want) {
			return false, err
		}
		runs, err := st.ListRuns(context.Background(), 1)
		return err == nil && len(runs) == 1, err
	})
	t.Logf("normal again %s after the broker restarted", time.Since(restarted).Round(time.Millisecond))
	checkStoredExactly(t, st.DB(), st, want)
}

// ownPrometheus is a Debian Prometheus of this test on its own port and data
// directory, backfilled with faultMetrics, that can be stopped and started
// again on the same data.
type ownPrometheus struct {
	t          *testing.T
	addr, dir  string
	cmd        *exec.Cmd
	exited     chan struct{}
	end        time.Time
	logPath    string
	stopOnce   sync.Once
	startCount int
}

// faultMetrics are the backfilled gauges of ownPrometheus: three queries,
// so a run can be stopped between two of them.
var faultMetrics = []string{"slapipe_fault_a", "slapipe_fault_b", "slapipe_fault_c"}

func startOwnPrometheus(t *testing.T) *ownPrometheus {
	t.Helper()
	for _, bin := range []string{"/usr/bin/prometheus", "/usr/bin/promtool"} {
		if _, err := os.Stat(bin); err != nil {
			testenv.Unavailable(t, bin+" not installed")
		}
	}
	p := &ownPrometheus{t: t, dir: t.TempDir(), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	p.end = time.Now().Add(-time.Second).Truncate(5 * time.Second)
	var om strings.Builder
	for _, m := range faultMetrics {
		fmt.Fprintf(&om, "# TYPE %s gauge\n", m)
		for ts := p.end.Add(-12 * time.Hour); !ts.After(p.end); ts = ts.Add(5 * time.Second) {
			fmt.Fprintf(&om, "%s{instance=\"fault:9100\"} %d %d\n", m, ts.Unix()%97, ts.Unix())
		}
	}
	om.WriteString("# EOF\n")
	omPath := filepath.Join(p.dir, "backfill.om")
	require.NoError(t, os.WriteFile(omPath, []byte(om.String()), 0o600))
	out, err := exec.Command("/usr/bin/promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h",
		omPath, filepath.Join(p.dir, "data")).CombinedOutput()
	require.NoError(t, err, "promtool: %s", out)
	require.NoError(t, os.WriteFile(filepath.Join(p.dir, "prometheus.yml"), []byte("global:\n  scrape_interval: 1m\n"), 0o600))
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *ownPrometheus) url() string { return "http://" + p.addr }

func (p *ownPrometheus) start() {
	p.t.Helper()
	p.startCount++
	p.logPath = filepath.Join(p.dir, fmt.Sprintf("prometheus-%d.log", p.startCount))
	f, err := os.Create(p.logPath)
	require.NoError(p.t, err)
	p.cmd = exec.Command("/usr/bin/prometheus", "--config.file="+filepath.Join(p.dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(p.dir, "data"), "--web.listen-address="+p.addr, "--storage.tsdb.retention.time=30d")
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(p.t, p.cmd.Start())
	p.exited = make(chan struct{})
	exited := p.exited
	go func() { _ = p.cmd.Wait(); _ = f.Close(); close(exited) }()
	p.stopOnce = sync.Once{}
	waitFor(p.t, "prometheus ready", func() (bool, error) {
		resp, err := http.Get(p.url() + "/-/ready")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// stop stops Prometheus (SIGTERM, then SIGKILL after 10 s) and waits.
func (p *ownPrometheus) stop() {
	p.stopOnce.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
}

// TestPrometheusStoppedMidRun stops the test's own Prometheus while an ETL
// run is between its queries: the run ends "failed" with the reason, is
// recorded, publishes no analysis and does not become the run readers see;
// once Prometheus is back on the same data the next run stores every series.
func TestPrometheusStoppedMidRun(t *testing.T) {
	prom := startOwnPrometheus(t)
	baseDSN := testenv.MySQLDSN(t)
	st := testkit.OpenStore(t, testenv.NewMySQLDatabase(t, baseDSN, "e2e"))
	brokers := testkit.Broker(t, 0)
	createTopics(t, brokers, 3, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))
	startConsumer(t, brokers, st)
	e, err := etl.New(etl.Config{PrometheusURL: prom.url(), Brokers: brokers, Partitions: 3, Parallelism: 1,
		Selectors: faultMetrics}, etl.Deps{Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()

	var once sync.Once
	failed, err := e.Run(ctx, etl.RunOptions{End: prom.end, Progress: func(p etl.Progress) {
		// Reported once the queries are planned (label values and
		// metadata asked), before the series are counted and pulled.
		if p.Stage == "pull" && p.Done == 0 && p.Total == len(faultMetrics) {
			once.Do(prom.stop)
		}
	}})
	require.Error(t, err)
	require.Equal(t, etl.StatusFailed, failed.GetStatus())
	require.Contains(t, failed.GetError(), "connection refused")
	stopped := time.Now()

	prom.start()
	good, err := e.Run(ctx, etl.RunOptions{End: prom.end})
	require.NoError(t, err)
	require.Equal(t, etl.StatusSucceeded, good.GetStatus())
	require.EqualValues(t, len(faultMetrics), good.GetSeries())
	waitFor(t, "the good run stored", func() (bool, error) {
		latest, err := st.LatestRunID(ctx)
		return err == nil && latest == good.GetRunId(), nil
	})
	t.Logf("normal again %s after Prometheus stopped (restart and one run)", time.Since(stopped).Round(time.Millisecond))
	runs, err := st.ListRuns(ctx, 10)
	require.NoError(t, err)
	require.Len(t, runs, 2, "both runs are recorded")
	byID := map[string]*slapipev1.Run{}
	for _, r := range runs {
		byID[r.GetRunId()] = r
	}
	require.Equal(t, etl.StatusFailed, byID[failed.GetRunId()].GetStatus())
	_, _, err = st.Analyses(ctx, store.Query{RunID: failed.GetRunId()})
	require.ErrorIs(t, err, store.ErrNotFound, "the failed run published no analysis")
	_, got, err := st.Analyses(ctx, store.Query{RunID: good.GetRunId()})
	require.NoError(t, err)
	require.Len(t, got, len(faultMetrics))
	require.Equal(t, len(faultMetrics), mustCount(t, st.DB(), "analyses"))
}

// TestSIGTERMDuringRun sends SIGTERM to `slapipe etl run` while its pull
// is held by a slow proxy in front of the shared Prometheus: the
// process exits within seconds, its run is recorded "failed" with nothing
// published by then; the next run stores every series and is the one
// readers see. (The interrupted run's task stays in the tasks topic: the
// next process's worker may still analyse it, under the failed run's id.)
func TestSIGTERMDuringRun(t *testing.T) {
	promURL := testenv.PrometheusURL(t)
	baseDSN := testenv.MySQLDSN(t)
	st := testkit.OpenStore(t, testenv.NewMySQLDatabase(t, baseDSN, "e2e"))
	brokers := testkit.Broker(t, 0)
	createTopics(t, brokers, 3, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))
	startConsumer(t, brokers, st)

	target, err := url.Parse(promURL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	held := make(chan struct{}, 1)
	release := make(chan struct{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The pull itself: remote read, or query_range.
		if strings.HasSuffix(r.URL.Path, "/read") || strings.HasSuffix(r.URL.Path, "/query_range") {
			select {
			case held <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { close(release); _ = srv.Close() })

	args := []string{"etl", "run", "--kafka-brokers", strings.Join(brokers, ","), "-o", "json"}
	for _, b := range backfilled {
		args = append(args, "--selector", backfillSelector(b.metric))
	}
	p := startSlapipe(t, "etl-sigterm", append(args, "--prometheus-url", "http://"+lis.Addr().String())...)
	select {
	case <-held:
	case <-p.exited:
		t.Fatal("etl run exited before querying Prometheus")
	case <-time.After(waitLong):
		t.Fatal("the run never queried Prometheus")
	}
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	signalled := time.Now()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("etl run did not exit within 30 s of SIGTERM")
	}
	t.Logf("exited %s after SIGTERM: %v", time.Since(signalled).Round(time.Millisecond), p.err)
	require.Error(t, p.err, "an interrupted run exits non-zero")
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	var interrupted *slapipev1.Run
	waitFor(t, "the interrupted run recorded", func() (bool, error) {
		runs, err := st.ListRuns(ctx, 10)
		if err != nil || len(runs) == 0 {
			return false, err
		}
		interrupted = runs[0]
		return true, nil
	})
	require.Equal(t, etl.StatusFailed, interrupted.GetStatus())
	require.Contains(t, interrupted.GetError(), "context canceled")
	require.Zero(t, mustCount(t, st.DB(), "analyses"), "the interrupted run published nothing")

	cmd := exec.CommandContext(ctx, slapipeBinary(t), append(args, "--prometheus-url", promURL)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the next run: %s", out)
	var next *slapipev1.Run
	waitFor(t, "the next run stored", func() (bool, error) {
		runs, err := st.ListRuns(ctx, 10)
		if err != nil || len(runs) < 2 {
			return false, err
		}
		next = runs[0]
		latest, err := st.LatestRunID(ctx)
		return err == nil && latest == next.GetRunId(), nil
	})
	require.Equal(t, etl.StatusSucceeded, next.GetStatus())
	_, got, err := st.Analyses(ctx, store.Query{RunID: next.GetRunId()})
	require.NoError(t, err)
	require.Len(t, got, len(backfilled), "the next run stores every series")
	t.Logf("normal again %s after SIGTERM (the next run)", time.Since(signalled).Round(time.Millisecond))
}
