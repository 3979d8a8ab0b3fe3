package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// startWorker starts `slapipe etl worker` on brokers with one core, as
// a machine of its own would have.
func startWorker(t *testing.T, brokers []string, promURL string) *daemon {
	t.Helper()
	d := &daemon{t: t, exited: make(chan struct{})}
	d.cmd = exec.Command(binary, "etl", "worker", "--kafka-brokers", brokers[0], "--prometheus-url", promURL,
		"--etl-session-timeout", "6s", "--metrics-listen", "127.0.0.1:0", "--log-level", "debug")
	d.cmd.Env = append(cleanEnv(), "GOMAXPROCS=1")
	d.cmd.Stdout = lockedWriter{&d.mu, &d.out}
	d.cmd.Stderr = lockedWriter{&d.mu, &d.err}
	require.NoError(t, d.cmd.Start())
	go func() {
		d.exitErr = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.exited
	})
	return d
}

// waitGroupMembers waits until consumer group slapipe-etl has n members
// that each hold partitions of the tasks topic.
func waitGroupMembers(t testing.TB, brokers []string, n int) {
	t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		res, err := c.DescribeGroups(context.Background(), &kafka.DescribeGroupsRequest{GroupIDs: []string{etl.DefaultGroupID}})
		if err == nil && len(res.Groups) == 1 && res.Groups[0].GroupState == "Stable" && len(res.Groups[0].Members) == n {
			holding := 0
			for _, m := range res.Groups[0].Members {
				for _, a := range m.MemberAssignments.Topics {
					if len(a.Partitions) > 0 {
						holding++
					}
				}
			}
			if holding == n {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("consumer group %s never had %d members holding partitions", etl.DefaultGroupID, n)
}

// childRows counts the rows of run in every table keyed by run and series.
func childRows(t *testing.T, db *sql.DB, run string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"analyses", "window_stats", "stationarity", "autocorrelation", "seasonality", "forecasts"} {
		var n int
		// Table names cannot be placeholders; these are constants.
		require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM "+table+" WHERE run_id = ?", run).Scan(&n))
		out[table] = n
	}
	return out
}

// storedAnalyses waits until the store holds want analyses of run and
// returns them by series id, run id and computed_at cleared.
func storedAnalyses(t *testing.T, st *store.Store, run string, want int) map[string]*slapipev1.SeriesAnalysis {
	t.Helper()
	deadline := time.Now().Add(2 * waitLimit)
	for {
		_, msgs, err := st.Analyses(context.Background(), store.Query{RunID: run})
		if err == nil && len(msgs) >= want {
			out := map[string]*slapipev1.SeriesAnalysis{}
			for _, m := range msgs {
				m.RunId, m.ComputedAt = "", nil
				out[m.SeriesId] = m
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s: %d of %d analyses stored (err %v)", run, len(msgs), want, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestWorkerKilledMidRun: two `slapipe etl worker` processes (one core
// each) share a run of the real Prometheus' node series in tasks of 10;
// one is SIGKILLed once a third of the series are done. The run completes
// through the survivor, and MariaDB holds every series once, with the
// same rows and contents as a single-process run of the same range.
func TestWorkerKilledMidRun(t *testing.T) {
	promURL := testenv.PrometheusURL(t)
	dsn := testenv.NewMySQLDatabase(t, testenv.MySQLDSN(t), "scaleout")
	brokers := testkit.Broker(t, 0)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := store.OpenMigrated(ctx, dsn)
	require.NoError(t, err)
	defer st.Close()
	consumer, err := datastorage.New(datastorage.Config{Brokers: brokers}, st, datastorage.Deps{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := consumer.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	defer func() { cancel(); wg.Wait() }()

	// Both runs read the same range: up to a minute ago, every sample is in.
	// A Prometheus started moments ago (as CI's is) has scraped
	// node_exporter for less than that: wait until it has for a minute.
	end := time.Now().Add(-time.Minute)
	selectors := []string{`{job="node"}`}
	end = waitNodeSeries(t, promURL, selectors[0], 100)
	newETL := func(distributed bool) *etl.ETL {
		e, err := etl.New(etl.Config{PrometheusURL: promURL, Brokers: brokers, Selectors: selectors,
			Distributed: distributed, TaskSeries: 10, TaskTimeout: waitLimit}, etl.Deps{})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, e.Close()) })
		return e
	}
	single, err := newETL(false).Run(ctx, etl.RunOptions{End: end})
	require.NoError(t, err)
	require.Greater(t, single.GetSeries(), int64(100), "too few node series on the test Prometheus")

	workers := []*daemon{startWorker(t, brokers, promURL), startWorker(t, brokers, promURL)}
	waitGroupMembers(t, brokers, 2)

	var killed sync.Once
	t0 := time.Now()
	var killedAt time.Duration
	run, err := newETL(true).Run(ctx, etl.RunOptions{End: end, Progress: func(p etl.Progress) {
		if p.Stage == "analyse" && p.Total > 0 && p.Done*3 >= p.Total {
			killed.Do(func() {
				require.NoError(t, workers[0].cmd.Process.Signal(syscall.SIGKILL))
				killedAt = time.Since(t0)
			})
		}
	}})
	require.NoError(t, err)
	took := time.Since(t0)
	require.Equal(t, etl.StatusSucceeded, run.GetStatus())
	require.Equal(t, single.GetSeries(), run.GetSeries())
	<-workers[0].exited
	t.Logf("%d series in %d tasks: killed a worker after %s, run done in %s", run.GetSeries(), (run.GetSeries()+9)/10, killedAt.Round(time.Millisecond), took.Round(time.Millisecond))
	require.Less(t, took, 2*waitLimit, "the run took minutes")

	// The killed worker did less than its half of the tasks; the survivor
	// did the rest, its own half and what was left of the other's.
	done := tasksDoneBy(t, brokers, run.GetRunId())
	names := regexp.MustCompile(`worker started" worker=(\S+)`)
	killedName := names.FindStringSubmatch(workers[0].stderr())
	require.NotNil(t, killedName, workers[0].stderr())
	tasks := int((run.GetSeries() + 9) / 10)
	require.Less(t, done[killedName[1]], tasks/2, "the killed worker finished its share: %v", done)
	require.Greater(t, done[killedName[1]], 0, "the killed worker did nothing: %v", done)

	want := storedAnalyses(t, st, single.GetRunId(), int(single.GetSeries()))
	got := storedAnalyses(t, st, run.GetRunId(), int(run.GetSeries()))
	require.Len(t, got, len(want))
	for id, w := range want {
		g, ok := got[id]
		require.True(t, ok, "series %s %s %v not stored by the distributed run", id, w.GetMetric(), w.GetLabels())
		require.True(t, proto.Equal(w, g), "series %s differs:\n%v\n%v", id, w, g)
	}
	db, err := sql.Open("mysql", dsn)
	require.NoError(t, err)
	defer db.Close()
	rows := childRows(t, db, single.GetRunId())
	require.Equal(t, int(single.GetSeries()), rows["analyses"])
	require.Equal(t, rows, childRows(t, db, run.GetRunId()))
}

// tasksDoneBy counts the tasks of run each worker reported done (each
// task once: the first report), from the progress topic.
func tasksDoneBy(t *testing.T, brokers []string, run string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	topic := slapipev1.ProgressTopic(slapipev1.DefaultTopic)
	offs, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(0)}}})
	require.NoError(t, err)
	last := offs.Topics[topic][0].LastOffset
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	seen := map[int32]bool{}
	out := map[string]int{}
	for i := int64(0); i < last; i++ {
		m, err := r.ReadMessage(ctx)
		require.NoError(t, err)
		var rep slapipev1.ETLTaskDone
		require.NoError(t, proto.Unmarshal(m.Value, &rep))
		if rep.GetRunId() == run && !seen[rep.GetIndex()] {
			seen[rep.GetIndex()] = true
			out[rep.GetWorker()]++
		}
	}
	return out
}

// TestCtlETLRunFollowsTwoWorkers: an SLA manager without in-process
// workers and two `slapipe etl worker` processes; `ctl etl run` shows one
// progress bar, the workers' series together, that reaches the run's
// total (on a terminal), and one stage counted up to it (plain stderr).
func TestCtlETLRunFollowsTwoWorkers(t *testing.T) {
	promURL := testenv.PrometheusURL(t)
	brokers := testkit.Broker(t, 0)

	manager := startDaemon(t, "slamanager", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
		"--mysql-dsn", "sqlite:"+filepath.Join(t.TempDir(), "slapipe.db"), "--kafka-brokers", brokers[0],
		"--prometheus-url", promURL, "--etl-workers", "0", "--etl-interval", "0", "--etl-task-series", "10")
	var addr string
	listening := regexp.MustCompile(`grpc listening.* addr=(\S+)`)
	for deadline := time.Now().Add(waitLimit); addr == ""; time.Sleep(50 * time.Millisecond) {
		if m := listening.FindStringSubmatch(manager.stderr()); m != nil {
			addr = m[1]
		}
		require.True(t, time.Now().Before(deadline), "the slamanager never listened:\n%s", manager.stderr())
	}
	startWorker(t, brokers, promURL)
	startWorker(t, brokers, promURL)
	waitGroupMembers(t, brokers, 2)

	tm := startTerminal(t, "ctl", "--sla-addr", addr, "etl", "run")
	tm.waitFor("analyse")
	summary := regexp.MustCompile(`succeeded: (\d+) series`)
	var series string
	for deadline := time.Now().Add(2 * waitLimit); series == ""; time.Sleep(50 * time.Millisecond) {
		if m := summary.FindStringSubmatch(tm.screen()); m != nil {
			series = m[1]
		}
		require.True(t, time.Now().Before(deadline), "no summary; screen:\n%s", tm.screen())
	}
	require.Equal(t, 0, tm.exit())
	scr := tm.screen()
	require.Contains(t, scr, "("+series+"/"+series, "the bar did not reach the total; screen:\n%s", scr)
	for _, other := range []string{"pull ", "publish ", "etl: "} {
		require.NotContains(t, scr[:strings.Index(scr, "succeeded")], other, "more than one bar; screen:\n%s", scr)
	}
	n, err := strconv.Atoi(series)
	require.NoError(t, err)
	require.Greater(t, n, 20, "too few series for several tasks")

	// Without a terminal: one line per tenth of the one stage, up to the
	// total the summary gives.
	r := runBinary(t, "", nil, "ctl", "--sla-addr", addr, "-o", "json", "etl", "run")
	doc := jsonDoc(t, r)
	total := int(doc["series"].(float64))
	require.Regexp(t, fmt.Sprintf(`^(etl: analyse \d+/%[1]d \(.*\)\n)+etl: analyse %[1]d/%[1]d \(.*\)\n$`, total), r.stderr)
	// The total counts both workers' series.
	require.Len(t, tasksDoneBy(t, brokers, doc["run_id"].(string)), 2, "not both workers did tasks of the run")
}

// waitNodeSeries waits (up to two minutes) until Prometheus at promURL has
// more than want series matching selector with samples up to a minute ago,
// and returns that moment, the end of a range every one of them covers.
func waitNodeSeries(t *testing.T, promURL, selector string, want int) time.Time {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		end := time.Now().Add(-time.Minute)
		q := url.Values{"match[]": {selector}, "start": {fmt.Sprint(end.Add(-time.Minute).Unix())}, "end": {fmt.Sprint(end.Unix())}}
		n := -1
		if resp, err := http.Get(promURL + "/api/v1/series?" + q.Encode()); err == nil {
			var body struct {
				Data []map[string]string `json:"data"`
			}
			if json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&body) == nil {
				n = len(body.Data)
			}
			resp.Body.Close()
		}
		if n > want {
			return end
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus at %s has %d series of %s a minute ago after waiting two minutes, want more than %d", promURL, n, selector, want)
		}
		time.Sleep(2 * time.Second)
	}
}
