package retention

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// openStore opens a migrated store of dialect on a fresh database.
func openStore(t testing.TB, dialect string) *store.Store {
	t.Helper()
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "store.db")
	if dialect == store.DialectMySQL {
		dsn = testenv.NewMySQLDatabase(t, testenv.MySQLDSN(t), "ret")
	}
	st, err := store.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(ctx))
	return st
}

// writeRun stores a complete run of n series started at.
func writeRun(t testing.TB, st *store.Store, run string, n int, at time.Time) {
	t.Helper()
	ctx := context.Background()
	as := fixtures.Analyses(run, n)
	for _, a := range as {
		a.ComputedAt = timestamppb.New(at)
	}
	require.NoError(t, st.WriteAnalyses(ctx, as))
	require.NoError(t, st.UpsertRun(ctx, &slapipev1.Run{RunId: run, Status: "succeeded", Series: int64(n),
		StartedAt: timestamppb.New(at), FinishedAt: timestamppb.New(at.Add(time.Minute)), Trigger: "schedule"}))
}

// TestPassDeletesOnlyWhatIsOld runs one pass with a pinned clock on both
// dialects: the runs older than the retention go, the metric counts them,
// the recent run stays whole.
func TestPassDeletesOnlyWhatIsOld(t *testing.T) {
	for _, d := range []string{store.DialectSQLite, store.DialectMySQL} {
		t.Run(d, func(t *testing.T) {
			st := openStore(t, d)
			now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
			for i := range 3 {
				writeRun(t, st, fmt.Sprintf("old-%d", i), 10, now.Add(-8*24*time.Hour-time.Duration(i)*time.Hour))
			}
			writeRun(t, st, "new", 10, now.Add(-time.Hour))
			reg := prometheus.NewRegistry()
			r, err := New(Config{Batch: 4}, st, Deps{Registerer: reg, Now: func() time.Time { return now }})
			require.NoError(t, err)
			require.NoError(t, r.Pass(context.Background()))
			require.Equal(t, 30.0, testutil.ToFloat64(r.deleted.WithLabelValues("analyses")))
			require.Equal(t, 3.0, testutil.ToFloat64(r.deleted.WithLabelValues("runs")))
			require.Positive(t, testutil.ToFloat64(r.last))
			runs, err := st.ListRuns(context.Background(), 10)
			require.NoError(t, err)
			require.Len(t, runs, 1)
			require.Equal(t, "new", runs[0].GetRunId())
			_, got, err := st.Analyses(context.Background(), store.Query{RunID: "new"})
			require.NoError(t, err)
			require.Len(t, got, 10)
		})
	}
}

func TestConfig(t *testing.T) {
	_, err := New(Config{Retention: 23 * time.Hour}, &store.Store{}, Deps{})
	require.ErrorContains(t, err, "must be at least 24h0m0s, what the dashboards show")
	_, err = New(Config{}, nil, Deps{})
	require.ErrorContains(t, err, "store is nil")
	r, err := New(Config{}, &store.Store{}, Deps{})
	require.NoError(t, err)
	require.Equal(t, DefaultRetention, r.cfg.Retention)
	require.Equal(t, DefaultKeepVersions, r.cfg.KeepVersions)
}
