package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/mysql/*.sql migrations/sqlite/*.sql
var migrationFS embed.FS

// Migration is one versioned schema change of one dialect.
type Migration struct {
	// Version orders migrations; it is the file name's number (0001_...).
	Version int
	// Name is the file name without extension, e.g. "0001_init".
	Name string
	// SQL is the file's text.
	SQL string
}

// Migrations returns the embedded migrations of dialect ("mysql" or
// "sqlite"), oldest first.
func Migrations(dialect string) ([]Migration, error) {
	dir := "migrations/" + dialect
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s migrations: %w", dialect, err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ".sql")
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s/%s: name must start with a positive number", dir, e.Name())
		}
		b, err := migrationFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("%s migrations %s and %s share version %d", dialect, out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

// splitStatements cuts a migration into statements: a statement ends with a
// line ending in ';'; lines starting with "--" are comments. The migrations
// keep ';' out of strings and comments so this stays simple, and the MySQL
// driver then needs no multiStatements.
func splitStatements(text string) []string {
	var (
		out []string
		cur strings.Builder
	)
	for line := range strings.SplitSeq(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}

// execer is what a migration runs on: a pinned connection (MySQL) or a
// transaction (SQLite).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Migrate applies the embedded migrations that schema_migrations does not
// list yet, in version order, recording each. Running it again is a no-op.
// Concurrent Migrate calls (several processes) are serialised: MySQL by a
// named lock (GET_LOCK) per database, SQLite by one IMMEDIATE transaction.
// A database migrated by a newer binary (unknown versions) is an error.
func (s *Store) Migrate(ctx context.Context) error {
	migs, err := Migrations(s.dialect)
	if err != nil {
		return err
	}
	if s.dialect == DialectSQLite {
		return s.migrateSQLite(ctx, migs)
	}
	return s.migrateMySQL(ctx, migs)
}

func (s *Store) migrateSQLite(ctx context.Context, migs []Migration) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting migration transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := applyMigrations(ctx, tx, s.dialect, migs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing migrations: %w", err)
	}
	return nil
}

func (s *Store) migrateMySQL(ctx context.Context, migs []Migration) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("getting a connection for migrations: %w", err)
	}
	defer func() { _ = conn.Close() }()
	// GET_LOCK is server-wide: name the lock after the database so migrating
	// one database does not wait for another. Names are limited to 64 chars.
	sum := sha256.Sum256([]byte(s.dbName))
	lock := "slapipe_migrate_" + hex.EncodeToString(sum[:12])
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 120)", lock).Scan(&got); err != nil {
		return fmt.Errorf("taking migration lock: %w", err)
	}
	if got.Int64 != 1 {
		return fmt.Errorf("taking migration lock %s: timed out after 120 s", lock)
	}
	defer func() {
		// Released on a fresh context: the caller's may be cancelled already.
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(rctx, "SELECT RELEASE_LOCK(?)", lock)
	}()
	return applyMigrations(ctx, conn, s.dialect, migs)
}

// applyMigrations runs the missing migrations on ex. MySQL DDL is not
// transactional, so every statement is idempotent (IF NOT EXISTS) and a
// migration interrupted halfway is simply run again.
func applyMigrations(ctx context.Context, ex execer, dialect string, migs []Migration) error {
	if len(migs) == 0 {
		return nil
	}
	// The first migration creates schema_migrations (IF NOT EXISTS); its
	// first statement runs before reading the table.
	first := splitStatements(migs[0].SQL)
	if len(first) == 0 || !strings.Contains(first[0], "schema_migrations") {
		return fmt.Errorf("%s migration %s must create schema_migrations first", dialect, migs[0].Name)
	}
	if _, err := ex.ExecContext(ctx, first[0]); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, ex)
	if err != nil {
		return err
	}
	latest := migs[len(migs)-1].Version
	for v := range applied {
		if v > latest {
			return fmt.Errorf("database has schema version %d, newer than this binary's %d: upgrade slapipe", v, latest)
		}
	}
	for _, m := range migs {
		if applied[m.Version] {
			continue
		}
		for i, stmt := range splitStatements(m.SQL) {
			if _, err := ex.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("applying %s migration %s (statement %d): %w", dialect, m.Name, i+1, err)
			}
		}
		now := timeArg(dialect, time.Now())
		if _, err := ex.ExecContext(ctx,
			"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, now); err != nil {
			return fmt.Errorf("recording migration %s: %w", m.Name, err)
		}
	}
	return nil
}

func appliedVersions(ctx context.Context, ex execer) (map[int]bool, error) {
	rows, err := ex.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("reading schema_migrations: %w", err)
		}
		out[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	return out, nil
}

// SchemaVersion returns the highest applied migration version, 0 for an
// empty database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v)
	if err != nil {
		if isNoTable(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return int(v.Int64), nil
}
