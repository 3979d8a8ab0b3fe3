package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// ErrInvalidArgument marks a request the store refuses because of its
// content (a bad regular expression, page token, oversized or malformed
// field). Retrying the same input cannot succeed. It is the contract's
// sentinel: a message the contract refuses and one the store refuses fail
// alike.
var ErrInvalidArgument = slapipev1.ErrInvalidArgument

// Dialect names returned by (*Store).Dialect.
const (
	DialectMySQL  = "mysql"
	DialectSQLite = "sqlite"
)

// sqlitePrefix selects SQLite in Open's dsn.
const sqlitePrefix = "sqlite:"

// Store is the SQL store. It is safe for concurrent use; it implements API.
type Store struct {
	db      *sql.DB
	dialect string
	// dbName is the MySQL database name (for the migration lock).
	dbName string
	// maxParams bounds the placeholders of one statement.
	maxParams int
	// stmts holds the prepared upserts (*sql.Stmt) by sqlKey.
	stmts sync.Map
}

var _ API = (*Store)(nil)

// Open connects to the database named by dsn and checks the connection.
//
// "sqlite:PATH" opens (or creates) an SQLite file with WAL journaling, a
// 10 s busy timeout, foreign keys on and IMMEDIATE transactions; extra
// modernc.org/sqlite parameters may follow PATH after '?'.
// "sqlite::memory:" is a private in-memory database held by one connection
// (it lives as long as the Store). Anything else is a go-sql-driver/mysql
// DSN ("user:pass@tcp(host:3306)/db"); parseTime is forced on and times are
// read and written in UTC.
//
// Open does not create tables: call Migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	var (
		s   *Store
		err error
	)
	if path, ok := strings.CutPrefix(dsn, sqlitePrefix); ok {
		s, err = openSQLite(path)
	} else {
		s, err = openMySQL(dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := s.db.PingContext(ctx); err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("connecting to %s database: %w", s.dialect, err)
	}
	return s, nil
}

// OpenMigrated opens dsn as Open does and brings its schema up to date
// (Migrate), closing the store again if that fails: what every component
// does at start.
func OpenMigrated(ctx context.Context, dsn string) (*Store, error) {
	s, err := Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening the database: %w", err)
	}
	if err := s.Migrate(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("migrating the schema: %w", err)
	}
	return s, nil
}

func openSQLite(path string) (*Store, error) {
	path, extra, _ := strings.Cut(path, "?")
	if path == "" {
		return nil, fmt.Errorf("sqlite dsn has no path (want sqlite:PATH or sqlite::memory:): %w", ErrInvalidArgument)
	}
	memory := path == ":memory:"
	params := []string{"_busy_timeout=10000", "_foreign_keys=1", "_txlock=immediate"}
	if !memory {
		params = append(params, "_journal_mode=WAL")
	}
	if extra != "" {
		params = append(params, extra)
	}
	db, err := sql.Open("sqlite", path+"?"+strings.Join(params, "&"))
	if err != nil {
		return nil, fmt.Errorf("opening sqlite %q: %w", path, err)
	}
	if memory {
		// Each connection to ":memory:" is its own database: keep exactly one,
		// forever, so every caller sees the same data.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	} else {
		// WAL: one writer (IMMEDIATE transactions queue on the busy timeout),
		// readers alongside.
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	}
	return &Store{db: db, dialect: DialectSQLite, maxParams: 32766}, nil
}

func openMySQL(dsn string) (*Store, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing mysql dsn: %w: %w", ErrInvalidArgument, err)
	}
	if cfg.DBName == "" {
		return nil, fmt.Errorf("mysql dsn names no database: %w", ErrInvalidArgument)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring mysql connector: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxLifetime(5 * time.Minute)
	return &Store{db: db, dialect: DialectMySQL, dbName: cfg.DBName, maxParams: 65535}, nil
}

// Dialect reports "mysql" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// DB exposes the connection pool, for tests and read-only tools (Grafana
// query checks). Writes must go through the Store's methods.
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks the database connection.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging %s database: %w", s.dialect, err)
	}
	return nil
}

// Close releases the connection pool; an in-memory SQLite database is gone
// afterwards.
func (s *Store) Close() error {
	s.stmts.Range(func(_, st any) bool {
		_ = st.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}
