package store

import (
	"context"
	"database/sql"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

func TestSchemaFileIsTheMySQLMigrations(t *testing.T) {
	migs, err := Migrations(DialectMySQL)
	require.NoError(t, err)
	var all strings.Builder
	for _, m := range migs {
		all.WriteString(m.SQL)
	}
	schema, err := os.ReadFile("../../schema.sql")
	require.NoError(t, err)
	require.Equal(t, all.String(), string(schema),
		"schema.sql must be the concatenation of store/migrations/mysql/*.sql: cat store/migrations/mysql/*.sql > schema.sql")
}

func TestMigrationsMatchAcrossDialects(t *testing.T) {
	my, err := Migrations(DialectMySQL)
	require.NoError(t, err)
	lite, err := Migrations(DialectSQLite)
	require.NoError(t, err)
	require.NotEmpty(t, my)
	require.Equal(t, len(my), len(lite))
	for i := range my {
		require.Equal(t, my[i].Version, lite[i].Version)
		require.Equal(t, my[i].Name, lite[i].Name)
		for dialect, m := range map[string]Migration{DialectMySQL: my[i], DialectSQLite: lite[i]} {
			stmts := splitStatements(m.SQL)
			require.NotEmpty(t, stmts, "%s migration %d (%s) has no statement", dialect, m.Version, m.Name)
			for _, st := range stmts {
				require.NotEmpty(t, strings.TrimSpace(st), "%s migration %d has an empty statement", dialect, m.Version)
			}
		}
	}
	require.Equal(t, 1, my[0].Version)
}

func TestSplitStatements(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"comments and blank lines", "-- c;\n\nCREATE TABLE a (x INT);\n-- d\nCREATE TABLE b (\n  y INT\n);\n",
			[]string{"CREATE TABLE a (x INT)", "CREATE TABLE b (\n  y INT\n)"}},
		{"no final semicolon", "SELECT 1;\nSELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"empty", "-- only a comment\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { require.Equal(t, c.want, splitStatements(c.in)) })
	}
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			dsn := freshDSN(t, d)
			s := openDSN(t, dsn, false)
			v, err := s.SchemaVersion(ctx)
			require.NoError(t, err)
			require.Equal(t, 0, v, "a fresh database has no schema")
			migs, err := Migrations(d)
			require.NoError(t, err)

			// Four "processes" (separate pools) migrate at once.
			var g errgroup.Group
			for range 4 {
				other := openDSN(t, dsn, false)
				g.Go(func() error { return other.Migrate(ctx) })
			}
			require.NoError(t, g.Wait())
			before := schemaOf(t, s)
			require.NoError(t, s.Migrate(ctx))
			require.NoError(t, s.Migrate(ctx))
			require.Equal(t, before, schemaOf(t, s), "migrating again changes nothing")

			var n int
			require.NoError(t, s.DB().QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n))
			require.Equal(t, len(migs), n, "each migration recorded once")
			v, err = s.SchemaVersion(ctx)
			require.NoError(t, err)
			require.Equal(t, migs[len(migs)-1].Version, v)

			// A database touched by a newer binary is refused.
			_, err = s.DB().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				9999, "9999_future", timeArg(d, t0))
			require.NoError(t, err)
			require.ErrorContains(t, s.Migrate(ctx), "newer than this binary")
		})
	}
}

// column is one column as both dialects can describe it.
type column struct {
	Name, Class string
	Nullable    bool
}

// typeClass maps a declared or reported column type to a class both
// dialects share.
func typeClass(typ string) string {
	typ = strings.ToLower(typ)
	if i := strings.IndexByte(typ, '('); i >= 0 {
		typ = typ[:i]
	}
	switch strings.TrimSpace(typ) {
	case "varchar", "text", "longtext", "char":
		return "text"
	case "longblob", "blob":
		return "blob"
	case "double", "real", "float":
		return "real"
	case "int", "integer", "bigint", "tinyint", "boolean", "smallint":
		return "integer"
	case "datetime", "timestamp":
		return "datetime"
	case "":
		return "any"
	}
	return "unknown:" + typ
}

// schemaOf describes every table and view: columns in order with type class
// and nullability, and the names of the secondary indexes.
func schemaOf(t *testing.T, s *Store) map[string][]column {
	t.Helper()
	out := map[string][]column{}
	var rows *sql.Rows
	var err error
	if s.Dialect() == DialectMySQL {
		rows, err = s.DB().Query("SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns " +
			"WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position")
	} else {
		rows, err = s.DB().Query("SELECT m.name, p.name, p.type, CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'NO' ELSE 'YES' END " +
			"FROM sqlite_schema m, pragma_table_xinfo(m.name) p WHERE m.type IN ('table', 'view') " +
			"AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid")
	}
	require.NoError(t, err)
	for rows.Next() {
		var table, name, typ, nullable string
		require.NoError(t, rows.Scan(&table, &name, &typ, &nullable))
		out[table] = append(out[table], column{Name: name, Class: typeClass(typ), Nullable: nullable == "YES"})
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	if s.Dialect() == DialectMySQL {
		rows, err = s.DB().Query("SELECT DISTINCT table_name, index_name FROM information_schema.statistics " +
			"WHERE table_schema = DATABASE() AND index_name <> 'PRIMARY' AND index_name NOT LIKE 'fk\\_%'")
	} else {
		rows, err = s.DB().Query("SELECT tbl_name, name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL")
	}
	require.NoError(t, err)
	for rows.Next() {
		var table, name string
		require.NoError(t, rows.Scan(&table, &name))
		out[table+" indexes"] = append(out[table+" indexes"], column{Name: name})
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	for k := range out {
		if strings.HasSuffix(k, " indexes") {
			sort.Slice(out[k], func(i, j int) bool { return out[k][i].Name < out[k][j].Name })
		}
	}
	return out
}

func TestDialectsHaveTheSameSchema(t *testing.T) {
	lite := schemaOf(t, newStore(t, DialectSQLite))
	my := schemaOf(t, newStore(t, DialectMySQL))
	// A view's columns declare neither type nor nullability in SQLite:
	// compare the view by column names.
	require.Len(t, lite["forecast_points"], len(my["forecast_points"]))
	for i, c := range lite["forecast_points"] {
		if c.Class == "any" {
			lite["forecast_points"][i].Class = my["forecast_points"][i].Class
		}
		lite["forecast_points"][i].Nullable = my["forecast_points"][i].Nullable
	}
	require.Equal(t, my, lite)
	require.Contains(t, my, "forecast_points")
	require.Len(t, my, 16+4, "16 tables and views, 4 of them with secondary indexes")
}
