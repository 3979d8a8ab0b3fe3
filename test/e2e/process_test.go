package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// process is a `slapipe` subprocess whose output goes to a file kept in the
// test's temp dir and shown when the test fails.
type process struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{} // closed once the process has been waited for
	err    error         // what Wait returned, readable once exited is closed
}

// startSlapipe runs the slapipe binary with args; the process is killed when
// the test ends if it is still running.
func startSlapipe(t *testing.T, name string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(slapipeBinary(t), args...)
	cmd.Stdout, cmd.Stderr = f, f
	// Should the test binary die (timeout panic), the child dies with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	p := &process{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s output:\n%s", name, tail(string(b), 4000))
		}
	})
	return p
}

// kill sends SIGKILL (if the process still runs) and waits for it to exit.
func (p *process) kill(t testing.TB) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("killing pid %d: %v", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("pid %d did not exit after SIGKILL", p.cmd.Process.Pid)
	}
}

// terminate sends SIGTERM and requires a clean exit (status 0) within 30 s.
func (p *process) terminate(t testing.TB) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		require.NoError(t, p.err, "exit status after SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("the process did not exit within 30 s of SIGTERM")
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
