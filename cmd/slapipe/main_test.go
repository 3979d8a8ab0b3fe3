package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// binary is the slapipe executable built once for the tests that run it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "slapipe-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "slapipe")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building slapipe:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary left.
type result struct {
	stdout, stderr string
	code           int
}

// runBinary runs slapipe with args, stdin and extra environment variables
// (on top of a clean environment without SLAPIPE_* settings).
func runBinary(t *testing.T, stdin string, envv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(cleanEnv(), envv...)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running slapipe: %v", err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			out = append(out, kv)
		}
	}
	return out
}

// requireOneLineError checks the contract of a failed command: nothing on
// stdout, one line on stderr starting with "slapipe: ", no stack trace.
func requireOneLineError(t *testing.T, r result, code int, want string) {
	t.Helper()
	require.Equalf(t, code, r.code, "exit status (stderr: %s)", r.stderr)
	require.Empty(t, r.stdout, "a failed command prints nothing on stdout")
	require.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line on stderr: %q", r.stderr)
	require.True(t, strings.HasPrefix(r.stderr, "slapipe: "), r.stderr)
	require.Contains(t, r.stderr, want)
	for _, bad := range []string{"goroutine", "panic", "Usage:"} {
		require.NotContains(t, r.stderr, bad)
	}
}
