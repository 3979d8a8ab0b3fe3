package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/internal/testing/testcerts"
	"github.com/slapipe/slapipe/internal/testing/testservers"
	"github.com/slapipe/slapipe/pkg/ctl/ctltest"
	"github.com/slapipe/slapipe/pkg/store"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// TestOutboundCredentials runs the pipeline against servers that all want
// credentials: Debian's Prometheus behind TLS and basic auth (read through
// --prometheus-config-file by the ETL and the SLA manager), kfake with TLS
// and SASL SCRAM-SHA-256 (produced to by the ETL, consumed by datastorage)
// and a MariaDB that requires TLS of its user (written by datastorage with
// the DSN from a file). Wrong credentials end with a clear error and lose
// nothing; no secret reaches argv, stdout, stderr or the logs.
func TestOutboundCredentials(t *testing.T) {
	ca := testcerts.NewCA(t, "outbound")
	prom := testservers.StartPrometheus(t, ca)
	kafka := testservers.StartKafka(t, ca, "SCRAM-SHA-256", 6)
	mdb := testservers.StartMariaDB(t, ca)
	dir := t.TempDir()

	promCfg := func(name, passFile string) string {
		return writeFile(t, dir, name, fmt.Sprintf("basic_auth:\n  username: %s\n  password_file: %s\ntls_config:\n  ca_file: %s\n",
			prom.User, passFile, prom.CAFile))
	}
	goodProm := promCfg("prom.yml", writeFile(t, dir, "prom.pass", prom.Password+"\n"))
	badProm := promCfg("prom-bad.yml", writeFile(t, dir, "prom-bad.pass", "not-the-password\n"))
	kafkaFlags := func(passFile string) []string {
		return []string{"--kafka-brokers", strings.Join(kafka.Addrs, ","), "--kafka-tls-ca-file", kafka.CAFile,
			"--kafka-sasl-mechanism", "scram-sha-256", "--kafka-sasl-username", kafka.User, "--kafka-sasl-password-file", passFile}
	}
	goodKafka := kafkaFlags(writeFile(t, dir, "kafka.pass", kafka.Password+"\n"))
	badKafka := kafkaFlags(writeFile(t, dir, "kafka-bad.pass", "wrong-kafka-pass\n"))
	dsnFile := writeFile(t, dir, "mysql.dsn", mdb.DSN+"\n")
	mysqlFlags := []string{"--mysql-dsn-file", dsnFile, "--mysql-tls-ca-file", mdb.CAFile}
	secrets := []string{prom.Password, kafka.Password, "not-the-password", "wrong-kafka-pass", strings.Split(strings.Split(mdb.DSN, ":")[1], "@")[0]}
	noSecret := func(t *testing.T, what string, texts ...string) {
		t.Helper()
		for _, text := range texts {
			for _, s := range secrets {
				require.NotContains(t, text, s, "%s shows a secret", what)
			}
		}
	}
	etlRun := func(promConfig string, kafka []string) result {
		args := append([]string{"etl", "run", "-o", "json", "--prometheus-url", prom.URL, "--prometheus-config-file", promConfig,
			"--selector", `node_load1{instance="` + prom.Instance + `"}`, "--selector", `node_memory_MemFree_bytes{instance="` + prom.Instance + `"}`}, kafka...)
		return runBinary(t, "", nil, args...)
	}

	// Wrong credentials: clear errors, nothing published.
	r := etlRun(badProm, goodKafka)
	requireLastLine(t, r, "answered 401 Unauthorized: check the credentials in --prometheus-config-file "+badProm)
	noSecret(t, "a refused etl run", r.stderr)
	r = etlRun(goodProm, badKafka)
	requireLastLine(t, r, "SASL Authentication Failed")
	noSecret(t, "a refused etl run", r.stderr)

	// MySQL: the user must use TLS; with the CA registered the schema is made.
	r = runBinary(t, "", nil, "migrate", "--mysql-dsn-file", dsnFile)
	require.Equal(t, 1, r.code, "a plaintext connection of a REQUIRE SSL user: %s", r.stderr)
	require.Contains(t, r.stderr, "Access denied")
	noSecret(t, "a refused migrate", r.stderr)
	r = runBinary(t, "", nil, append([]string{"migrate"}, mysqlFlags...)...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "(mysql)")

	// The pipeline through all three.
	ds := startDaemon(t, append(append([]string{"datastorage", "--log-level", "debug"}, goodKafka...), mysqlFlags...)...)
	r = etlRun(goodProm, goodKafka)
	require.Equal(t, 0, r.code, r.stderr)
	var run struct {
		RunID  string `json:"run_id"`
		Status string `json:"status"`
		Series int    `json:"series"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &run), r.stdout)
	require.Equal(t, "succeeded", run.Status)
	require.Equal(t, 2, run.Series, "one backfilled series per selector")

	// What datastorage stored, read over TLS as the same user.
	require.NoError(t, mysql.RegisterTLSConfig("outbound-test", &tls.Config{RootCAs: ca.Pool(t)}))
	cfg, err := mysql.ParseDSN(mdb.DSN)
	require.NoError(t, err)
	cfg.TLSConfig = "outbound-test"
	st, err := store.Open(context.Background(), cfg.FormatDSN())
	require.NoError(t, err)
	defer st.Close()
	deadline := time.Now().Add(waitLimit)
	stored := 0
	for time.Now().Before(deadline) && stored < run.Series {
		stored = 0
		for _, m := range testservers.BackfilledMetrics {
			_, msgs, err := st.Analyses(context.Background(), store.Query{Metric: m, RunID: run.RunID, Parts: store.PartWindows})
			if err == nil {
				stored += len(msgs)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(t, run.Series, stored, "every analysis of the run stored; datastorage log:\n%s", ds.stderr())
	noSecret(t, "datastorage's log", ds.stderr(), ds.stdout())

	// The SLA manager reads the same Prometheus through the same file (a
	// backfill has no metadata: the type is unknown).
	listen := ctltest.UnusedAddr(t)
	sqlite := "sqlite:" + filepath.Join(dir, "sla.db")
	sla := startDaemon(t, "slamanager", "--listen", listen, "--mysql-dsn", sqlite, "--etl-interval", "0",
		"--prometheus-url", prom.URL, "--prometheus-config-file", goodProm, "--kafka-brokers", ctltest.UnusedAddr(t))
	waitListening(t, listen)
	r = runBinary(t, "", nil, "ctl", "--sla-addr", listen, "-o", "json", "metrics", "--filter", "node_load1")
	require.Equal(t, 0, r.code, r.stderr)
	require.JSONEq(t, `{"metrics": [{"name": "node_load1", "type": "unknown", "help": "", "series": 1}]}`, r.stdout)
	noSecret(t, "the SLA manager's log", sla.stderr())

	badListen := ctltest.UnusedAddr(t)
	startDaemon(t, "slamanager", "--listen", badListen, "--mysql-dsn", "sqlite:"+filepath.Join(dir, "sla-bad.db"), "--etl-interval", "0",
		"--prometheus-url", prom.URL, "--prometheus-config-file", badProm, "--kafka-brokers", ctltest.UnusedAddr(t))
	waitListening(t, badListen)
	r = runBinary(t, "", nil, "ctl", "--sla-addr", badListen, "metrics", "--filter", "node_load1")
	requireOneLineError(t, r, 1, "answered 401 Unauthorized: check the credentials in --prometheus-config-file "+badProm)
}

// requireLastLine checks a failed command whose stderr also holds progress
// and logs: exit status 1, nothing on stdout, want in the last line.
func requireLastLine(t *testing.T, r result, want string) {
	t.Helper()
	require.Equal(t, 1, r.code, r.stderr)
	require.Empty(t, r.stdout)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(last, "slapipe: "), last)
	require.Contains(t, last, want)
}

// waitListening waits until something accepts connections on addr.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		if r := runBinary(t, "", nil, "ctl", "--sla-addr", addr, "--timeout", "1s", "sla", "get"); r.code == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing answers on %s", addr)
}
