package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Debian's MariaDB binaries; the tests that start their own server need them.
const (
	mariadbd         = "/usr/sbin/mariadbd"
	mariadbInstallDB = "mariadb-install-db"
)

// ownMariaDB is a MariaDB server this test started on a free loopback port
// with its own data directory, so that it may crash it.
type ownMariaDB struct {
	t       *testing.T
	dir     string // datadir is dir/data, socket dir/sock
	port    int
	proc    *exec.Cmd
	exited  chan struct{}
	started int
}

// startOwnMariaDB initialises a data directory, starts mariadbd on it and
// creates database name with user slapipe/slapipe (password
// authentication over TCP, as in production). The server is killed when the
// test ends. Without mariadbd the test skips (fails under CI=true).
func startOwnMariaDB(t *testing.T, name string) (*ownMariaDB, string) {
	t.Helper()
	if _, err := os.Stat(mariadbd); err != nil {
		testenv.Unavailable(t, mariadbd+" not found: install mariadb-server")
	}
	installDB, err := exec.LookPath(mariadbInstallDB)
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "slapipe-e2e-mariadb-") // short: the socket path must fit 108 bytes
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })

	args := []string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"),
		"--auth-root-authentication-method=normal", "--skip-test-db"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	t0 := time.Now()
	out, err := exec.Command(installDB, args...).CombinedOutput()
	require.NoError(t, err, "mariadb-install-db: %s", tail(string(out), 2000))
	t.Logf("mariadb-install-db took %s", time.Since(t0).Round(time.Millisecond))

	m := &ownMariaDB{t: t, dir: dir, port: freePort(t)}
	t.Cleanup(func() { m.kill() })
	m.start()

	// root has no password over the socket (--auth-root-authentication-method=normal).
	root := mysql.NewConfig()
	root.User, root.Net, root.Addr = "root", "unix", filepath.Join(dir, "sock")
	db, err := sql.Open("mysql", root.FormatDSN())
	require.NoError(t, err)
	defer func() { _ = db.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// DDL takes no placeholders; name comes from the test.
	for _, q := range []string{
		"CREATE DATABASE `" + name + "`",
		"CREATE USER 'slapipe'@'127.0.0.1' IDENTIFIED BY 'slapipe'",
		"GRANT ALL PRIVILEGES ON `" + name + "`.* TO 'slapipe'@'127.0.0.1'",
	} {
		_, err := db.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	dsn := mysql.NewConfig()
	dsn.User, dsn.Passwd, dsn.Net, dsn.Addr, dsn.DBName = "slapipe", "slapipe", "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(m.port)), name
	dsn.ParseTime = true
	return m, dsn.FormatDSN()
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// start runs mariadbd on the data directory and waits until it accepts
// connections.
func (m *ownMariaDB) start() {
	t := m.t
	t.Helper()
	m.started++
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(m.dir, "data"),
		"--socket=" + filepath.Join(m.dir, "sock"), "--port=" + strconv.Itoa(m.port), "--bind-address=127.0.0.1",
		"--pid-file=" + filepath.Join(m.dir, "mariadbd.pid"), "--log-error=" + filepath.Join(m.dir, "error.log"),
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci", "--skip-name-resolve",
		"--innodb-buffer-pool-size=64M"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	m.proc = exec.Command(mariadbd, args...)
	m.proc.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, m.proc.Start())
	exited := make(chan struct{})
	m.exited = exited
	go func(c *exec.Cmd) {
		_ = c.Wait()
		close(exited)
	}(m.proc)

	t0 := time.Now()
	waitFor(t, "own mariadbd to accept connections", func() (bool, error) {
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(m.dir, "error.log"))
			return false, fmt.Errorf("mariadbd exited at start:\n%s", tail(string(b), 3000))
		default:
		}
		c, err := net.DialTimeout("unix", filepath.Join(m.dir, "sock"), time.Second)
		if err != nil {
			return false, nil
		}
		_ = c.Close()
		c, err = net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(m.port)), time.Second)
		if err != nil {
			return false, nil
		}
		_ = c.Close()
		return true, nil
	})
	t.Logf("mariadbd (start %d) up in %s", m.started, time.Since(t0).Round(time.Millisecond))
}

// kill crashes the server (SIGKILL) and waits for it to be gone.
func (m *ownMariaDB) kill() {
	if m.proc == nil || m.proc.Process == nil {
		return
	}
	select {
	case <-m.exited:
		return
	default:
	}
	if err := m.proc.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		m.t.Errorf("killing mariadbd: %v", err)
	}
	select {
	case <-m.exited:
	case <-time.After(30 * time.Second):
		m.t.Errorf("mariadbd pid %d did not exit after SIGKILL", m.proc.Process.Pid)
	}
}

// TestMariaDBCrashLosesNothing crashes (SIGKILL) a MariaDB that datastorage
// is writing to, keeps publishing while it is down, starts it again on the
// same data directory and checks that every message is stored exactly once.
func TestMariaDBCrashLosesNothing(t *testing.T) {
	const chunk = 1000 // per phase: before, during and after the outage
	db, dsn := startOwnMariaDB(t, "slapipe_e2e")
	st := testkit.OpenStore(t, dsn)
	brokers := testkit.Broker(t, 0)
	createTopics(t, brokers, datastorage.DefaultPartitions, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))
	c := startConsumer(t, brokers, st)

	run := "0193a5b0-0000-7000-8000-0000000dead0"
	want := fixtures.Analyses(run, 3*chunk)
	msgs := analysisMessages(t, want)

	produce(t, brokers, slapipev1.DefaultTopic, msgs[:chunk]...)
	waitFor(t, "the first rows to be stored", func() (bool, error) {
		n, err := countRows(context.Background(), st.DB(), "analyses")
		return n > 0, err
	})
	db.kill()
	t.Log("mariadbd killed")
	down := time.Now()
	produce(t, brokers, slapipev1.DefaultTopic, msgs[chunk:2*chunk]...)
	produce(t, brokers, slapipev1.RunsTopic(slapipev1.DefaultTopic), runMessage(t, runRecord(run, len(want))))
	// Long enough for several retries at the capped backoff.
	time.Sleep(10*time.Second - time.Since(down)) // the fault matrix: 10 s down
	failed := c.writeErrors(t)
	require.Positive(t, failed, "no write failed while MariaDB was down: the outage was not exercised")
	db.start()
	produce(t, brokers, slapipev1.DefaultTopic, msgs[2*chunk:]...)

	waitCommitted(t, brokers, c.group, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))
	t.Logf("stored everything %s after the crash; %g write attempts failed meanwhile", time.Since(down).Round(time.Millisecond), c.writeErrors(t))
	checkStoredExactly(t, st.DB(), st, want)
	runs, err := st.ListRuns(context.Background(), 0)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.Equal(t, "succeeded", runs[0].GetStatus())
}
