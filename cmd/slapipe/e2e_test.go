package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/pkg/ctl/ctltest"
)

// daemon is a long-running slapipe process whose output is collected.
type daemon struct {
	t        *testing.T
	cmd      *exec.Cmd
	mu       sync.Mutex
	out, err bytes.Buffer
	exited   chan struct{}
	exitErr  error
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, cmd: exec.Command(binary, args...), exited: make(chan struct{})}
	d.cmd.Env = cleanEnv()
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

func (d *daemon) stdout() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

func (d *daemon) stderr() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err.String()
}

// waitFor waits until re matches stdout and returns the match's groups.
func (d *daemon) waitFor(re *regexp.Regexp) []string {
	d.t.Helper()
	deadline := time.Now().Add(2 * waitLimit)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(d.stdout()); m != nil {
			return m
		}
		select {
		case <-d.exited:
			d.t.Fatalf("exited early (%v); stdout:\n%s\nstderr:\n%s", d.exitErr, d.stdout(), d.stderr())
		case <-time.After(50 * time.Millisecond):
		}
	}
	d.t.Fatalf("%s never appeared; stdout:\n%s\nstderr:\n%s", re, d.stdout(), d.stderr())
	return nil
}

// stop sends sig and returns the exit status.
func (d *daemon) stop(sig syscall.Signal) int {
	d.t.Helper()
	require.NoError(d.t, d.cmd.Process.Signal(sig))
	select {
	case <-d.exited:
	case <-time.After(waitLimit):
		d.t.Fatalf("did not stop on %v; stderr:\n%s", sig, d.stderr())
	}
	var ee *exec.ExitError
	if errors.As(d.exitErr, &ee) {
		return ee.ExitCode()
	}
	require.NoError(d.t, d.exitErr)
	return 0
}

func jsonDoc(t *testing.T, r result) map[string]any {
	t.Helper()
	require.Equalf(t, 0, r.code, "stderr: %s", r.stderr)
	var doc map[string]any
	require.NoErrorf(t, json.Unmarshal([]byte(r.stdout), &doc), "stdout: %s", r.stdout)
	return doc
}

// TestEndToEndDemo runs ctl, scripted and interactive, against the real
// services of `slapipe demo`.
func TestEndToEndDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole pipeline: skipped with -short, which CI never uses")
	}
	slaAddr, retAddr := ctltest.UnusedAddr(t), ctltest.UnusedAddr(t)
	demo := startDaemon(t, "demo", "--sla-listen", slaAddr, "--retrieval-listen", retAddr, "--metrics-listen", "127.0.0.1:0")
	demo.waitFor(regexp.MustCompile(`Report ready`))
	ctlArgs := func(args ...string) []string {
		return append([]string{"ctl", "--sla-addr", slaAddr, "--retrieval-addr", retAddr}, args...)
	}

	t.Run("json", func(t *testing.T) {
		doc := jsonDoc(t, runBinary(t, "", nil, ctlArgs("-o", "json", "violations", "--window", "1h")...))
		violated := false
		for _, r := range doc["windows"].(map[string]any)["1h"].([]any) {
			row := r.(map[string]any)
			for _, k := range []string{"objective", "metric", "labels", "samples", "samples_out", "episodes", "seconds_out", "compliance", "worst"} {
				require.Contains(t, row, k)
			}
			violated = violated || row["samples_out"].(float64) > 0
		}
		require.True(t, violated, "the demo history violates an objective in the last hour")

		doc = jsonDoc(t, runBinary(t, "", nil, ctlArgs("-o", "json", "prediction")...))
		require.Equal(t, 600.0, doc["horizon_seconds"])
		crossing := false
		for _, p := range doc["predictions"].([]any) {
			crossing = crossing || p.(map[string]any)["first_crossing"] != nil
		}
		require.True(t, crossing, "the demo history has an objective predicted to be left")

		doc = jsonDoc(t, runBinary(t, "", nil, ctlArgs("-o", "json", "stats", "node_memory_MemFree_bytes")...))
		series := doc["series"].([]any)
		require.NotEmpty(t, series)
		w1h := series[0].(map[string]any)["windows"].(map[string]any)["1h"].(map[string]any)
		require.InDelta(t, 720, w1h["samples"], 1, "1 h at 5 s")

		doc = jsonDoc(t, runBinary(t, "", nil, ctlArgs("-o", "json", "metrics")...))
		found := false
		for _, m := range doc["metrics"].([]any) {
			mm := m.(map[string]any)
			found = found || (mm["name"] == "node_memory_MemFree_bytes" && mm["type"] == "gauge")
		}
		require.True(t, found)

		doc = jsonDoc(t, runBinary(t, "", nil, ctlArgs("-o", "json", "forecast", "node_filesystem_avail_bytes")...))
		f0 := doc["series"].([]any)[0].(map[string]any)
		require.Len(t, f0["points"].([]any), 120)

		for _, args := range [][]string{{"metadata", "node_memory_MemFree_bytes"}, {"sla", "get"}, {"status"}} {
			jsonDoc(t, runBinary(t, "", nil, ctlArgs(append([]string{"-o", "json"}, args...)...)...))
		}

		r := runBinary(t, "", nil, ctlArgs("-o", "json", "etl", "run")...)
		doc = jsonDoc(t, r)
		require.Equal(t, "succeeded", doc["status"])
		require.Greater(t, doc["series"].(float64), 0.0)
		// One stage, "analyse", counted over the in-process worker's tasks
		// up to the run's every series.
		require.Regexp(t, fmt.Sprintf(`^(etl: analyse \d+/%[1]d \(.*\)\n)*etl: analyse %[1]d/%[1]d \(.*\)\n$`, int(doc["series"].(float64))), r.stderr)
	})

	t.Run("table", func(t *testing.T) {
		r := runBinary(t, "", nil, ctlArgs("status")...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "VIOLATED")
		r = runBinary(t, "", nil, ctlArgs("forecast", "node_filesystem_avail_bytes")...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "filesystem-avail min 1 GiB", "the objective's bound is drawn")
	})

	t.Run("errors", func(t *testing.T) {
		requireOneLineError(t, runBinary(t, "", nil, ctlArgs("stats", "node_does_not_exist")...), 1, "node_does_not_exist")
		requireOneLineError(t, runBinary(t, "", nil, ctlArgs("sla", "add", "--name", "x", "--selector", "up", "--min", "2", "--max", "1")...), 2, "must be greater than min")
	})

	t.Run("menu", func(t *testing.T) {
		tm := startTerminal(t, ctlArgs()...)
		tm.waitFor("what do you want to do?")
		tm.send(strings.Repeat(keyDown, 8) + keyEnter) // Run the ETL now
		tm.waitFor("analyse")                          // the progress bar of the workers' series
		tm.waitFor("succeeded")
		tm.waitFor("what do you want to do?")
		tm.send(strings.Repeat(keyDown, 7) + keyEnter) // SLA set
		tm.waitFor("Edit an objective")
		tm.send(keyDown + keyEnter)
		tm.waitFor("Objective to edit")
		tm.send(keyDown + keyEnter)
		tm.waitFor("Edit memory-free")
		tm.focus("Name")
		tm.send(keyEnter)
		tm.focus("Selector")
		tm.send(keyEnter)
		tm.focus("Min")
		tm.send(keyClear + "128Mi" + keyEnter)
		tm.focus("Max")
		tm.send(keyEnter)
		tm.waitFor("128 MiB")
		tm.waitFor("what do you want to do?")
		tm.send(keyEnd + keyEnter)
		require.Equal(t, 0, tm.exit())

		doc := jsonDoc(t, runBinary(t, "", nil, ctlArgs("-o", "json", "sla", "get")...))
		mem := doc["objectives"].([]any)[1].(map[string]any)
		require.Equal(t, "memory-free", mem["name"])
		require.Equal(t, 134217728.0, mem["min"])
	})

	require.Equal(t, 0, demo.stop(syscall.SIGINT), "Ctrl-C ends the demo cleanly")
}

// TestComponentLifecycle starts a component on an SQLite database: it prints
// its /metrics address, serves the process metrics there, and stops cleanly
// on SIGTERM.
func TestComponentLifecycle(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "slapipe.db")
	r := runBinary(t, "", nil, "migrate", "--mysql-dsn", dsn)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `^schema version [1-9][0-9]* \(sqlite\)\n$`, r.stdout)
	again := runBinary(t, "", nil, "migrate", "--mysql-dsn", dsn)
	require.Equal(t, r.stdout, again.stdout, "migrate is idempotent")

	listen := ctltest.UnusedAddr(t)
	d := startDaemon(t, "dataretrieval", "--mysql-dsn", dsn, "--listen", listen, "--log-format", "json")
	m := d.waitFor(regexp.MustCompile(`dataretrieval: metrics at (http://\S+/metrics)`))
	resp, err := http.Get(m[1])
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Contains(t, string(body), "go_goroutines", "the Go collector is registered")
	require.Contains(t, string(body), "process_cpu_seconds_total", "the process collector is registered")
	require.Contains(t, string(body), "grpc_server", "the gRPC server metrics are registered")

	// The service answers: an empty database has no stored metric.
	r = runBinary(t, "", nil, "ctl", "--retrieval-addr", listen, "-o", "json", "metrics", "--stored")
	require.Equal(t, 0, r.code, r.stderr)
	require.JSONEq(t, `{"metrics": []}`, r.stdout)

	require.Equal(t, 0, d.stop(syscall.SIGTERM))
	for _, line := range strings.Split(strings.TrimSpace(d.stderr()), "\n") {
		if line != "" {
			require.True(t, json.Valid([]byte(line)), "--log-format json: %q", line)
		}
	}
}
