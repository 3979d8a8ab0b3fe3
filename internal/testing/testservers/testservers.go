// Package testservers starts secured real servers for the tests of
// slapipe's outbound credentials, each on its own free loopback port and in
// its own directory, stopped when the test ends: Debian's Prometheus behind
// --web.config.file (TLS and basic auth) holding backfilled history, a
// MariaDB that requires TLS of its slapipe user, and an in-process kfake
// broker with TLS and SASL SCRAM. A missing binary ends the test through
// testenv.Unavailable (a failure under CI=true; scripts/servers.sh installs
// them).
//
// It is imported by _test.go files only.
package testservers

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/crypto/bcrypt"

	"github.com/slapipe/slapipe/internal/testing/testcerts"
	"github.com/slapipe/slapipe/internal/testing/testenv"
)

// startTimeout bounds the wait for a server to be ready.
const startTimeout = time.Minute

func lookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Unavailable(t, name+" is not installed (scripts/servers.sh installs it)")
	}
	return p
}

// freePort returns a loopback port that was free a moment ago, for servers
// that cannot be told to pick one.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs a server process until the test ends, its output in logFile.
func start(t testing.TB, logFile string, name string, args ...string) *exec.Cmd {
	t.Helper()
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = f.Close()
	})
	return cmd
}

func waitUntil(t testing.TB, what, logFile string, ready func() bool) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if ready() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, _ := os.ReadFile(logFile)
	t.Fatalf("%s not ready after %s; its log:\n%s", what, startTimeout, out)
}

// Prometheus is a Debian Prometheus serving HTTPS with basic auth.
type Prometheus struct {
	// URL is https://127.0.0.1:PORT.
	URL string
	// User and Password are the basic auth credentials it accepts.
	User, Password string
	// CAFile verifies its certificate.
	CAFile string
	// Instance is the instance label of the backfilled series.
	Instance string
}

// Backfilled metrics of StartPrometheus: 12 h at 5 s ending a second ago.
var BackfilledMetrics = []string{"node_load1", "node_memory_MemFree_bytes"}

// StartPrometheus starts Prometheus with --web.config.file (TLS from ca,
// basic auth) holding 12 h of BackfilledMetrics at 5 s, written by promtool
// before it starts so they are queryable at once.
func StartPrometheus(t testing.TB, ca *testcerts.CA) *Prometheus {
	t.Helper()
	prom, promtool := lookPath(t, "prometheus"), lookPath(t, "promtool")
	dir := t.TempDir()
	p := &Prometheus{User: "slapipe", Password: "prom-pass-4f1c9e", CAFile: ca.CertFile, Instance: "secured:9100"}
	pair := ca.Server(t, "prometheus", "127.0.0.1", "localhost")
	hash, err := bcrypt.GenerateFromPassword([]byte(p.Password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "web.yml"), fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  %s: %s\n",
		pair.CertFile, pair.KeyFile, p.User, hash))
	write(t, filepath.Join(dir, "prometheus.yml"), "global:\n  scrape_interval: 1m\n")
	write(t, filepath.Join(dir, "history.om"), openMetrics(p.Instance, time.Now().Add(-time.Second), 12*time.Hour, 5*time.Second))
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h",
		filepath.Join(dir, "history.om"), filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		t.Fatalf("promtool backfill: %v\n%s", err, out)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.URL = "https://" + addr
	logFile := filepath.Join(dir, "prometheus.log")
	start(t, logFile, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr,
		"--web.config.file="+filepath.Join(dir, "web.yml"))
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(t)}}}
	waitUntil(t, "prometheus", logFile, func() bool {
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/-/ready", nil)
		req.SetBasicAuth(p.User, p.Password)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// openMetrics renders BackfilledMetrics for instance over span at step,
// ending at end (timestamps in seconds, as promtool wants them).
func openMetrics(instance string, end time.Time, span, step time.Duration) string {
	var b strings.Builder
	n := int(span / step)
	first := end.Add(-time.Duration(n) * step).Unix()
	for mi, m := range BackfilledMetrics {
		fmt.Fprintf(&b, "# TYPE %s gauge\n", m)
		for i := 0; i <= n; i++ {
			v := float64(mi+1)*1000 + float64(i%720) // a sawtooth with a 1 h period
			fmt.Fprintf(&b, "%s{instance=%q,job=\"node\"} %g %d\n", m, instance, v, first+int64(i)*int64(step/time.Second))
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

// MariaDB is a MariaDB whose user slapipe must connect over TLS.
type MariaDB struct {
	// DSN is the slapipe user's go-sql-driver DSN of database slapipe_tls,
	// without TLS parameters: the caller adds them.
	DSN string
	// CAFile verifies the server's certificate.
	CAFile string
	// Addr is 127.0.0.1:PORT.
	Addr string
}

// StartMariaDB starts a MariaDB with --ssl-cert/--ssl-key/--ssl-ca from ca,
// a database slapipe_tls and a user slapipe REQUIRE SSL with all rights on
// it.
func StartMariaDB(t testing.TB, ca *testcerts.CA) *MariaDB {
	t.Helper()
	installDB, mariadbd, client := lookPath(t, "mariadb-install-db"), lookPath(t, "mariadbd"), lookPath(t, "mariadb")
	// A short directory: a unix socket path is limited to 107 bytes.
	dir, err := os.MkdirTemp("", "slapipe-mdb-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if out, err := exec.Command(installDB, "--no-defaults", "--user=root", "--datadir="+filepath.Join(dir, "data"),
		"--auth-root-authentication-method=socket", "--skip-test-db").CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	pair := ca.Server(t, "mariadb", "127.0.0.1", "localhost")
	port := freePort(t)
	sock := filepath.Join(dir, "s.sock")
	logFile := filepath.Join(dir, "error.log")
	start(t, filepath.Join(dir, "stdout.log"), mariadbd, "--no-defaults", "--user=root", "--datadir="+filepath.Join(dir, "data"),
		"--socket="+sock, fmt.Sprintf("--port=%d", port), "--bind-address=127.0.0.1", "--pid-file="+filepath.Join(dir, "pid"),
		"--log-error="+logFile, "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
		"--ssl-cert="+pair.CertFile, "--ssl-key="+pair.KeyFile, "--ssl-ca="+ca.CertFile)
	sql := func(stmt string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, client, "--no-defaults", "--socket="+sock, "-uroot", "-e", stmt).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
		}
		return nil
	}
	waitUntil(t, "mariadb", logFile, func() bool { return sql("SELECT 1") == nil })
	const pass = "mdb-pass-8e2a7d"
	if err := sql("CREATE DATABASE slapipe_tls CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; " +
		"CREATE USER 'slapipe'@'%' IDENTIFIED BY '" + pass + "' REQUIRE SSL; " +
		"GRANT ALL ON slapipe_tls.* TO 'slapipe'@'%'"); err != nil {
		t.Fatalf("mariadb setup: %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	return &MariaDB{DSN: "slapipe:" + pass + "@tcp(" + addr + ")/slapipe_tls?parseTime=true", CAFile: ca.CertFile, Addr: addr}
}

// Kafka is an in-process kfake broker that requires TLS and SASL.
type Kafka struct {
	// Addrs are the bootstrap addresses.
	Addrs []string
	// Mechanism (kfake's spelling, e.g. SCRAM-SHA-256), User and Password
	// are the credentials it accepts.
	Mechanism, User, Password string
	// CAFile verifies the broker's certificate.
	CAFile string
}

// StartKafka starts kfake with TLS from ca and one SASL user of mechanism
// ("PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"), topics created on demand
// with partitions partitions.
func StartKafka(t testing.TB, ca *testcerts.CA, mechanism string, partitions int) *Kafka {
	t.Helper()
	pair := ca.Server(t, "kafka", "127.0.0.1", "localhost")
	cert, err := tls.LoadX509KeyPair(pair.CertFile, pair.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	k := &Kafka{Mechanism: mechanism, User: "slapipe", Password: "kafka-pass-3b9d1f", CAFile: ca.CertFile}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(partitions),
		kfake.EnableSASL(), kfake.Superuser(mechanism, k.User, k.Password),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	k.Addrs = c.ListenAddrs()
	return k
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
