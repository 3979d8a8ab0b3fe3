package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// binDir holds the slapipe binary the subprocess tests run; TestMain
// creates and removes it.
var binDir string

var build struct {
	once sync.Once
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "slapipe-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// slapipeBinary builds ./cmd/slapipe once per test process (only the tests
// that run it pay for the build) and returns its path.
func slapipeBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			build.err = fmt.Errorf("finding the go tool: %w", err)
			return
		}
		out := filepath.Join(binDir, "slapipe")
		cmd := exec.Command(goTool, "build", "-o", out, "./cmd/slapipe")
		cmd.Dir = filepath.Join("..", "..") // the module root, from test/e2e
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/slapipe: %w\n%s", err, stderr.String())
			return
		}
		t.Logf("built slapipe in %s", time.Since(t0).Round(time.Millisecond))
		build.path = out
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}
