package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/pkg/ctl/ctltest"
)

// waitLimit bounds how long a menu test waits for a screen to appear; it
// only guards against a hung test, it measures nothing.
const waitLimit = 30 * time.Second

// ansi matches terminal control sequences: CSI, OSC and charset selection.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]`)

// terminal runs the binary on a pseudo-terminal and collects what it draws.
type terminal struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	mark int // waitFor looks only at output after this offset
	done chan struct{}
}

func startTerminal(t *testing.T, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(binary, args...)
	// TERM=screen keeps termenv from querying the (absent) terminal emulator
	// for its colours; NO_COLOR keeps the output plain.
	cmd.Env = append(cleanEnv(), "TERM=screen", "NO_COLOR=1")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 160})
	require.NoError(t, err)
	tm := &terminal{t: t, pty: f, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = f.Close()
		<-tm.done
	})
	return tm
}

// screen is everything drawn so far, without control sequences.
func (tm *terminal) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return ansi.ReplaceAllString(tm.out.String(), "")
}

// waitFor waits until s appears after the previous match and moves past it.
func (tm *terminal) waitFor(s string) {
	tm.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		scr := tm.screen()
		if i := strings.Index(scr[min(tm.mark, len(scr)):], s); i >= 0 {
			tm.mark += i + len(s)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.t.Fatalf("%q never appeared; screen after the last match:\n%s", s, tm.screen()[min(tm.mark, len(tm.screen())):])
}

// focus waits until the field titled title has the focus (huh draws a bar
// before it). huh moves the focus asynchronously after Enter, so typing
// before this would land in the previous field.
func (tm *terminal) focus(title string) {
	tm.t.Helper()
	tm.waitFor("┃ " + title)
}

// send types keys.
func (tm *terminal) send(keys string) {
	tm.t.Helper()
	_, err := io.WriteString(tm.pty, keys)
	require.NoError(tm.t, err)
}

// exit waits for the process to end and returns its status.
func (tm *terminal) exit() int {
	tm.t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- tm.cmd.Wait() }()
	select {
	case err := <-errc:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		require.NoError(tm.t, err)
		return 0
	case <-time.After(waitLimit):
		tm.t.Fatalf("the menu did not exit; screen:\n%s", tm.screen())
		return -1
	}
}

// Keys as a terminal sends them. Arrow keys rather than j/k: bubbletea
// reads consecutive printable characters as one key message ("jjj"), which
// the menu would not take as three moves down.
const (
	keyDown  = "\x1b[B"
	keyEnter = "\r"
	keyEnd   = "\x1b[F"
	keyClear = "\x15" // ctrl+u: delete to the start of the input
)

func menuArgs(t *testing.T) (*ctltest.SLA, []string) {
	sla, addrs := fakes(t)
	return sla, append([]string{"ctl"}, addrs...)
}

func TestMenuEditObjective(t *testing.T) {
	sla, args := menuArgs(t)
	tm := startTerminal(t, args...)
	tm.waitFor("what do you want to do?")
	tm.send(strings.Repeat(keyDown, 7) + keyEnter) // SLA set
	tm.waitFor("Edit an objective")
	tm.send(keyDown + keyEnter)
	tm.waitFor("Objective to edit")
	tm.send(keyDown + keyEnter) // memory-free
	tm.waitFor("Edit memory-free")
	tm.focus("Name")
	tm.send(keyEnter) // keep the name
	tm.focus("Selector")
	tm.send(keyEnter) // keep the selector
	tm.focus("Min")
	tm.send(keyClear + "512Mi" + keyEnter)
	tm.focus("Max")
	// A max below the min is refused and the form stays open.
	tm.send("100" + keyEnter)
	tm.waitFor("max: must be greater than min")
	tm.send(keyClear + keyEnter)
	// The new set is printed, the menu comes back.
	tm.waitFor("512 MiB")
	tm.waitFor("what do you want to do?")

	sla.Mu.Lock()
	got := sla.Set.GetObjectives()[1]
	sla.Mu.Unlock()
	require.Equal(t, "memory-free", got.GetName())
	require.Equal(t, "node_memory_MemFree_bytes", got.GetSelector())
	require.NotNil(t, got.Min)
	require.Equal(t, 536870912.0, got.GetMin())
	require.Nil(t, got.Max)

	tm.send(keyEnd + keyEnter) // Quit
	require.Equal(t, 0, tm.exit())
}

func TestMenuAddInvalidSelector(t *testing.T) {
	sla, args := menuArgs(t)
	tm := startTerminal(t, args...)
	tm.waitFor("what do you want to do?")
	tm.send(strings.Repeat(keyDown, 7) + keyEnter)
	tm.waitFor("Add an objective")
	tm.send(strings.Repeat(keyDown, 2) + keyEnter)
	tm.waitFor("New objective")
	tm.focus("Name")
	tm.send("load" + keyEnter)
	tm.focus("Selector")
	tm.send("node_load1{" + keyEnter)
	tm.waitFor("parse error")
	tm.send("\x7f" + keyEnter) // backspace the brace
	tm.focus("Min")
	tm.send(keyEnter)
	tm.focus("Max")
	tm.send("4" + keyEnter)
	tm.waitFor("what do you want to do?")
	sla.Mu.Lock()
	objs := sla.Set.GetObjectives()
	sla.Mu.Unlock()
	require.Len(t, objs, 6)
	require.Equal(t, "load", objs[5].GetName())
	require.Equal(t, "node_load1", objs[5].GetSelector())
	require.Equal(t, 4.0, objs[5].GetMax())
	tm.send(keyEnd + keyEnter)
	require.Equal(t, 0, tm.exit())
}

func TestMenuETLRunWithProgress(t *testing.T) {
	_, args := menuArgs(t)
	tm := startTerminal(t, args...)
	tm.waitFor("what do you want to do?")
	tm.send(strings.Repeat(keyDown, 8) + keyEnter) // Run the ETL now
	// One progress bar per stage, each completed, then the summary.
	tm.waitFor("pull")
	tm.waitFor("(3/3")
	tm.waitFor("publish")
	tm.waitFor("100%")
	tm.waitFor(ctltest.RunID + " succeeded: 3 series")
	tm.waitFor("what do you want to do?")
	require.NotContains(t, tm.screen(), "etl: pull", "a terminal gets a bar, not plain lines")
	tm.send("\x03") // Ctrl-C leaves the menu
	require.Equal(t, 0, tm.exit())
}

func TestMenuErrorKeepsGoing(t *testing.T) {
	// The retrieval service is down: picking statistics prints one error
	// line, and the menu is still there.
	sla := ctltest.NewSLA()
	slaAddr, _ := ctltest.Serve(t, sla, ctltest.NewRetrieval())
	dead := ctltest.UnusedAddr(t)
	tm := startTerminal(t, "ctl", "--sla-addr", slaAddr, "--retrieval-addr", dead)
	tm.waitFor("what do you want to do?")
	tm.send(strings.Repeat(keyDown, 4) + keyEnter) // Statistics of a metric
	tm.waitFor("error: cannot reach the retrieval service at " + dead)
	tm.waitFor("what do you want to do?")
	tm.send(keyEnter) // Status still works
	tm.waitFor("Last run")
	tm.waitFor("what do you want to do?")
	tm.send(keyEnd + keyEnter)
	require.Equal(t, 0, tm.exit())
}

func TestMenuBudget(t *testing.T) {
	_, args := menuArgs(t)
	tm := startTerminal(t, args...)
	tm.waitFor("what do you want to do?")
	tm.send(strings.Repeat(keyDown, 10) + keyEnter) // Error budgets
	tm.waitFor("BURN 1H")
	tm.waitFor("memory-free")
	tm.waitFor("what do you want to do?")
	tm.send(keyEnd + keyEnter)
	require.Equal(t, 0, tm.exit())
}
