// Package testenv gives the tests of slapipe one way to reach the real
// servers of the test environment (MariaDB/MySQL and Prometheus): their
// addresses come from SLAPIPE_TEST_MYSQL_DSN and SLAPIPE_TEST_PROMETHEUS_URL;
// a test whose server is missing skips, except under CI=true, where it fails,
// so that no server test passes in CI by not running. It also creates the
// throw-away MySQL databases (slapipe_<prefix>_<random>) the tests write to;
// the test user has rights on `slapipe\_%` databases only.
//
// It is imported by _test.go files only.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Environment variables naming the real servers.
const (
	// MySQLDSNVar holds a go-sql-driver/mysql DSN of a server on which the
	// tests may create and drop `slapipe\_%` databases.
	MySQLDSNVar = "SLAPIPE_TEST_MYSQL_DSN"
	// PrometheusURLVar holds the base URL of a Prometheus with the
	// backfilled node_* history (instance="backfill:9100").
	PrometheusURLVar = "SLAPIPE_TEST_PROMETHEUS_URL"
)

// ddlTimeout bounds CREATE and DROP DATABASE, on a shared, busy machine.
const ddlTimeout = time.Minute

// underCI reports whether CI=true, where tests needing a server must fail
// instead of skipping.
func underCI() bool { return os.Getenv("CI") == "true" }

// Unavailable ends the test because something it needs (reason says what)
// is not there: it skips, or under CI=true fails. It does not return.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if underCI() {
		t.Fatalf("%s; CI=true: tests needing a server may not skip", reason)
	}
	t.Skip(reason)
}

// Server returns the value of the environment variable name, the address of
// a real server. When it is unset the test ends through Unavailable, so a
// returned value is never empty.
func Server(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Unavailable(t, name+" is not set: no real server for this test (scripts/test.sh starts the servers and sets it)")
	}
	return v
}

// MySQLDSN returns SLAPIPE_TEST_MYSQL_DSN, or ends the test through
// Unavailable when it is unset.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	return Server(t, MySQLDSNVar)
}

// PrometheusURL returns SLAPIPE_TEST_PROMETHEUS_URL, or ends the test
// through Unavailable when it is unset.
func PrometheusURL(t testing.TB) string {
	t.Helper()
	return Server(t, PrometheusURLVar)
}

// NewMySQLDatabase creates an empty database slapipe_<prefix>_<random> on
// the server of baseDSN (utf8mb4, utf8mb4_unicode_ci), drops it when the
// test ends, and returns baseDSN naming it instead, with parseTime on.
// Any failure fails the test.
func NewMySQLDatabase(t testing.TB, baseDSN, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ddlTimeout)
	defer cancel()
	dsn, drop, err := CreateMySQLDatabase(ctx, baseDSN, Database{Prefix: prefix})
	if err != nil {
		t.Fatalf("%v (the user needs ALL on `slapipe\\_%%`)", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return dsn
}

// Database says what CreateMySQLDatabase creates.
type Database struct {
	// Prefix names the database slapipe_<Prefix>_<random>; lower-case
	// letters, digits and underscores only, since it is spliced into DDL.
	Prefix string
	// Collation of the utf8mb4 database; empty means utf8mb4_unicode_ci.
	Collation string
}

// prefixRE is what may be spliced into a database name.
var prefixRE = regexp.MustCompile(`^[a-z0-9_]+$`)

// CreateMySQLDatabase creates an empty, uniquely named database described
// by db on the server of baseDSN, for callers that outlive one test (a
// TestMain). It returns baseDSN naming the new database, with parseTime on,
// and drop, which removes the database and must be called once.
func CreateMySQLDatabase(ctx context.Context, baseDSN string, db Database) (dsn string, drop func() error, err error) {
	if !prefixRE.MatchString(db.Prefix) {
		return "", nil, fmt.Errorf("database prefix %q: want lower-case letters, digits and underscores", db.Prefix)
	}
	collation := db.Collation
	if collation == "" {
		collation = "utf8mb4_unicode_ci"
	}
	if !prefixRE.MatchString(collation) {
		return "", nil, fmt.Errorf("collation %q: want lower-case letters, digits and underscores", collation)
	}
	cfg, err := mysql.ParseDSN(baseDSN)
	if err != nil {
		return "", nil, fmt.Errorf("parsing %s: %w", MySQLDSNVar, err)
	}
	// The base DSN may name a database that does not exist: connect to none.
	admin := cfg.Clone()
	admin.DBName = ""
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	// DDL takes no placeholders; name and collation were checked above.
	name := "slapipe_" + db.Prefix + "_" + hex.EncodeToString(b)
	if err := execAdmin(ctx, admin, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE "+collation); err != nil {
		return "", nil, fmt.Errorf("creating test database %s: %w", name, err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), ddlTimeout)
		defer cancel()
		if err := execAdmin(ctx, admin, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			return fmt.Errorf("dropping test database %s: %w", name, err)
		}
		return nil
	}
	cfg.DBName = name
	cfg.ParseTime = true
	return cfg.FormatDSN(), drop, nil
}

// execAdmin runs one statement on a connection of its own, so that no pool
// stays open between creating a database and dropping it.
func execAdmin(ctx context.Context, cfg *mysql.Config, stmt string) error {
	conn, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, stmt)
	return errors.Join(err, conn.Close())
}
