package demo

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/etl"
)

// TestRunOnce runs the whole demo on its embedded defaults (free ports, so
// it can run beside a real demo) and checks the report says what the demo
// history was built to show.
func TestRunOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole pipeline: skipped with -short, which CI never uses")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, logs bytes.Buffer
	reg := prometheus.NewRegistry()
	err := Run(ctx, Config{
		Once: true, Out: &out,
		SLAListen: "127.0.0.1:0", RetrievalListen: "127.0.0.1:0",
		Registerer: reg, Gatherer: reg,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	report := out.String()
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("logs:\n" + logs.String())
		}
	})
	require.NoError(t, err, report)
	t.Log("\n" + report)

	for _, m := range []string{
		"node_disk_written_bytes_total", "node_memory_MemFree_bytes", "node_filesystem_avail_bytes",
		"node_memory_Active_bytes", "node_network_receive_packets_total",
	} {
		require.Contains(t, report, m)
	}

	// memory-free is violated in the last hour: 3 episodes, 60 samples of
	// the history (a live dip may not have started yet).
	// The LABELS cell may hold spaces, so columns are found from STATE.
	row := findRow(t, section(t, report, "Violations"), "1h", "memory-free")
	state := stateColumn(t, row)
	require.Equal(t, "VIOLATED", row[state])
	out1h, err := strconv.Atoi(row[state+2])
	require.NoError(t, err)
	require.GreaterOrEqual(t, out1h, 55)
	require.LessOrEqual(t, out1h, 70)
	require.Equal(t, "3", row[state+3])
	// ... and nothing else is violated in that hour.
	for _, obj := range []string{"disk-write", "filesystem-avail", "memory-active", "net-rx-packets"} {
		row := findRow(t, section(t, report, "Violations"), "1h", obj)
		require.Equal(t, "ok", row[stateColumn(t, row)], obj)
	}

	// filesystem-avail on "/" is predicted to leave its range.
	pred := findRow(t, section(t, report, "Predictions"), "filesystem-avail")
	p, err := strconv.ParseFloat(strings.TrimSuffix(firstPercent(t, pred), "%"), 64)
	require.NoError(t, err)
	require.GreaterOrEqual(t, p, 90.0, "P(leave) of filesystem-avail")

	require.Contains(t, report, "slapipe ctl --sla-addr 127.0.0.1:")
	require.Contains(t, report, "forecast node_filesystem_avail_bytes")

	// Once means everything is down when Run returns: no listener answers
	// and the SQLite directory is gone.
	services := section(t, report, "Services")
	for _, name := range []string{"Prometheus", "Kafka", "slamanager"} {
		addr := strings.TrimPrefix(findRow(t, services, name)[1], "http://")
		_, err := net.DialTimeout("tcp", addr, time.Second)
		require.Error(t, err, "%s at %s still listening", name, addr)
	}
	db := findRow(t, services, "Store")
	require.Equal(t, "SQLite", db[1])
	_, err = os.Stat(filepath.Dir(db[2]))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// section returns the lines of the report from the heading starting with
// title to the next blank line.
func section(t *testing.T, report, title string) []string {
	t.Helper()
	lines := strings.Split(report, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, title) {
			var out []string
			for _, m := range lines[i+1:] {
				if strings.TrimSpace(m) == "" {
					break
				}
				out = append(out, m)
			}
			return out
		}
	}
	t.Fatalf("no section %q in the report", title)
	return nil
}

// findRow returns the whitespace-separated fields of the first row whose
// leading fields are prefix.
func findRow(t *testing.T, lines []string, prefix ...string) []string {
	t.Helper()
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= len(prefix) && equal(f[:len(prefix)], prefix) {
			return f
		}
	}
	t.Fatalf("no row %v in:\n%s", prefix, strings.Join(lines, "\n"))
	return nil
}

// stateColumn is the index of the STATE field ("ok" or "VIOLATED") of a
// violations row.
func stateColumn(t *testing.T, row []string) int {
	t.Helper()
	for i, f := range row {
		if f == "ok" || f == "VIOLATED" {
			return i
		}
	}
	t.Fatalf("no state in row %v", row)
	return 0
}

// firstPercent is the first percentage of a row: P(OUT) in predictions.
func firstPercent(t *testing.T, row []string) string {
	t.Helper()
	for _, f := range row {
		if strings.HasSuffix(f, "%") {
			return f
		}
	}
	t.Fatalf("no percentage in row %v", row)
	return ""
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRunAddressTaken: a taken gRPC port ends the demo with an error that
// names the flag to change, and nothing is left running.
func TestRunAddressTaken(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole pipeline: skipped with -short, which CI never uses")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	err = Run(ctx, Config{Once: true, Out: &out, SLAListen: "127.0.0.1:0", RetrievalListen: ln.Addr().String()})
	require.ErrorContains(t, err, "--retrieval-listen")
	require.ErrorContains(t, err, "address already in use")
	require.Empty(t, out.String(), "no report without the pipeline")
}

// TestRunWithExternalWorker: with no in-process worker, the demo prints
// how to start one against its embedded broker (fixed by KafkaListen) and
// Prometheus, and its run completes through that worker.
func TestRunWithExternalWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole pipeline: skipped with -short, which CI never uses")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	kafkaAddr := l.Addr().String()
	require.NoError(t, l.Close())

	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Once: true, Out: out, ETLWorkers: -1, KafkaListen: kafkaAddr,
			SLAListen: "127.0.0.1:0", RetrievalListen: "127.0.0.1:0"})
	}()
	hint := regexp.MustCompile(`slapipe etl worker --kafka-brokers (\S+) --prometheus-url (\S+)\n`)
	var m []string
	require.Eventually(t, func() bool { m = hint.FindStringSubmatch(out.String()); return m != nil }, time.Minute, 20*time.Millisecond)
	require.Equal(t, kafkaAddr, m[1], "the broker listens where --kafka-listen says")

	w, err := etl.New(etl.Config{PrometheusURL: m[2], Brokers: []string{m[1]}, Distributed: true}, etl.Deps{})
	require.NoError(t, err)
	wctx, stop := context.WithCancel(ctx)
	werr := make(chan error, 1)
	go func() { werr <- w.Work(wctx, "external") }()
	require.NoError(t, <-done, out.String())
	stop()
	require.NoError(t, <-werr)
	require.NoError(t, w.Close())
	require.Contains(t, out.String(), "succeeded")
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
