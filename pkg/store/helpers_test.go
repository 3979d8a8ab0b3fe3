package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/internal/testing/testenv"
)

var dialects = []string{DialectSQLite, DialectMySQL}

// freshDSN returns the DSN of a new, empty database of dialect, removed when
// the test ends. MySQL without SLAPIPE_TEST_MYSQL_DSN skips, or fails under
// CI=true.
func freshDSN(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == DialectSQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "store.db")
	}
	return testenv.NewMySQLDatabase(t, testenv.MySQLDSN(t), "test")
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
