package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// mysqlEnv names the DSN of a MariaDB/MySQL server the tests may create
// databases on (the user needs rights on `slapipe\_%` databases).
const mysqlEnv = "SLAPIPE_TEST_MYSQL_DSN"

var dialects = []string{DialectSQLite, DialectMySQL}

// freshDSN returns the DSN of a new, empty database of dialect, removed when
// the test ends. MySQL without SLAPIPE_TEST_MYSQL_DSN skips, or fails under
// CI=true.
func freshDSN(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == DialectSQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "store.db")
	}
	env := os.Getenv(mysqlEnv)
	if env == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set and CI=true: the MySQL half of the store tests must run", mysqlEnv)
		}
		t.Skipf("%s not set: skipping the MySQL dialect", mysqlEnv)
	}
	cfg, err := mysql.ParseDSN(env)
	require.NoError(t, err, "parsing %s", mysqlEnv)
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	require.NoError(t, err)
	defer func() { _ = admin.Close() }()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	// The name is ours (hex), so it can be spliced into the DDL.
	name := "slapipe_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	require.NoError(t, err, "creating test database %s (the user needs ALL on `slapipe\\_%%`)", name)
	t.Cleanup(func() {
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer func() { _ = db.Close() }()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

// openDSN opens dsn, closing the store when the test ends.
func openDSN(t testing.TB, dsn string, migrate bool) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	if migrate {
		require.NoError(t, s.Migrate(ctx))
	}
	return s
}

// newStore opens a migrated store on a fresh database of dialect.
func newStore(t testing.TB, dialect string) *Store {
	t.Helper()
	return openDSN(t, freshDSN(t, dialect), true)
}

// eachDialect runs fn as one subtest per dialect on a fresh migrated store.
func eachDialect(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) { fn(t, newStore(t, d)) })
	}
}

// requireProtoEqual fails with both messages printed when they differ.
func requireProtoEqual(t testing.TB, want, got proto.Message, msgAndArgs ...any) {
	t.Helper()
	if !proto.Equal(want, got) {
		opts := prototext.MarshalOptions{Multiline: true}
		ctx := ""
		if len(msgAndArgs) > 0 {
			if f, ok := msgAndArgs[0].(string); ok {
				ctx = fmt.Sprintf(f, msgAndArgs[1:]...)
			}
		}
		require.Failf(t, "messages differ", "%s\nwant:\n%s\ngot:\n%s", ctx, opts.Format(want), opts.Format(got))
	}
}

// countRows returns the number of rows of each table the write path fills.
func countRows(t testing.TB, s *Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"series", "runs", "analyses", "window_stats", "stationarity", "autocorrelation",
		"seasonality", "forecasts", "forecast_points"} {
		var n int
		require.NoError(t, s.DB().QueryRow("SELECT COUNT(*) FROM "+table).Scan(&n))
		out[table] = n
	}
	return out
}
