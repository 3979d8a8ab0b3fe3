package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

func TestOpenRejectsBadDSNs(t *testing.T) {
	cases := []struct {
		name, dsn string
	}{
		{"sqlite without path", "sqlite:"},
		{"mysql without database", "slapipe:slapipe@tcp(127.0.0.1:3306)/"},
		{"not a dsn", "http://example.com/x"},
		{"sqlite in a missing directory", "sqlite:" + filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(context.Background(), c.dsn)
			require.Error(t, err)
			require.Nil(t, s)
		})
	}
}

func TestOpenSQLiteMemoryIsOneSharedDatabase(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, "sqlite::memory:", true)
	require.Equal(t, DialectSQLite, s.Dialect())
	require.NoError(t, s.Ping(ctx))
	// Writers and readers on several goroutines must all see one database.
	var g errgroup.Group
	for w := range 4 {
		g.Go(func() error {
			batch := genBatch(uint64(30+w), "mem-run", 40, t0, realistic)[w*10 : w*10+10]
			if err := s.WriteAnalyses(ctx, batch); err != nil {
				return err
			}
			_, _, err := s.Analyses(ctx, Query{RunID: "mem-run"})
			return err
		})
	}
	require.NoError(t, g.Wait())
	_, got, err := s.Analyses(ctx, Query{RunID: "mem-run"})
	require.NoError(t, err)
	require.Len(t, got, 40)

	// A second in-memory store is a different database.
	other := openDSN(t, "sqlite::memory:", true)
	_, err = other.LatestRunID(ctx)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestOpenSQLiteFileSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "keep.db")
	s := openDSN(t, dsn, true)
	msgs := genBatch(31, "keep-run", 3, t0, realistic)
	require.NoError(t, s.WriteAnalyses(ctx, msgs))
	require.NoError(t, s.Close())

	s2 := openDSN(t, dsn, true)
	_, got, err := s2.Analyses(ctx, Query{})
	require.NoError(t, err)
	requireSameAnalyses(t, sortedByMetric(msgs), got)
	var mode string
	require.NoError(t, s2.DB().QueryRow("PRAGMA journal_mode").Scan(&mode))
	require.Equal(t, "wal", mode)
	var fk int
	require.NoError(t, s2.DB().QueryRow("PRAGMA foreign_keys").Scan(&fk))
	require.Equal(t, 1, fk)
}

func TestOpenMySQLForcesParseTime(t *testing.T) {
	cfg, err := mysql.ParseDSN(freshDSN(t, DialectMySQL))
	require.NoError(t, err)
	// A DSN without parseTime must not break the time columns.
	cfg.ParseTime = false
	s := openDSN(t, cfg.FormatDSN(), true)
	require.Equal(t, DialectMySQL, s.Dialect())
	ctx := context.Background()
	msgs := genBatch(32, "mysql-run", 2, t0, realistic)
	require.NoError(t, s.WriteAnalyses(ctx, msgs))
	_, got, err := s.Analyses(ctx, Query{})
	require.NoError(t, err)
	requireSameAnalyses(t, sortedByMetric(msgs), got)
}
