package demo

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/internal/testing/testcerts"
	"github.com/slapipe/slapipe/pkg/server"
)

// TestRunOnceSecured: with TLS and an auth file that lists no token of its
// own, the demo's report still runs the ETL and reads the status through
// the secured SLA manager (its client holds a token generated at start),
// and that token never reaches the logs.
func TestRunOnceSecured(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole pipeline: skipped with -short, which CI never uses")
	}
	ca := testcerts.NewCA(t, "demo")
	pair := ca.Server(t, "demo", "localhost", "127.0.0.1")
	auth := filepath.Join(t.TempDir(), "auth.yaml")
	// The SHA-256 of "unused": a token nobody in this test sends.
	require.NoError(t, os.WriteFile(auth, []byte("tokens:\n  - name: someone\n    role: read\n    sha256: "+
		"8b5f2fcd3f2f6ffd8ea7ecb17ccf8e0bd3e5d2a1cf3e6f1cd0bc1b06a4e6c4d7\n"), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, logs bytes.Buffer
	err := Run(ctx, Config{
		Once: true, Out: &out, SLAListen: "127.0.0.1:0", RetrievalListen: "127.0.0.1:0",
		Security: server.Security{TLS: server.TLSFiles{CertFile: pair.CertFile, KeyFile: pair.KeyFile}, AuthFile: auth},
		Logger:   slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err, "report:\n%s\nlogs:\n%s", out.String(), logs.String())
	// The status came through the secured API: the violation the demo
	// history was built to show is there.
	row := findRow(t, section(t, out.String(), "Violations"), "1h", "memory-free")
	require.Equal(t, "VIOLATED", row[stateColumn(t, row)])
	require.NotContains(t, logs.String(), "grpc call refused", "the report's own calls are authenticated")
}
