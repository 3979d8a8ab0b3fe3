package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"
)

// maxStatementBytes bounds the estimated size of one multi-row statement,
// well under MySQL's default 16 MiB max_allowed_packet.
const maxStatementBytes = 4 << 20

// inChunk bounds the ids of one "IN (...)" list.
const inChunk = 1000

// tableSpec describes an upsert target: rows of cols, unique on key.
type tableSpec struct {
	name string
	cols []string
	key  []string
	// set, when not nil, gives the dialect's whole conflict assignment list;
	// otherwise every non-key column takes the new value.
	set func(dialect string) string
}

func (t *tableSpec) setClause(dialect string) string {
	if t.set != nil {
		return t.set(dialect)
	}
	isKey := map[string]bool{}
	for _, k := range t.key {
		isKey[k] = true
	}
	var parts []string
	for _, c := range t.cols {
		if isKey[c] {
			continue
		}
		if dialect == DialectMySQL {
			parts = append(parts, c+" = VALUES("+c+")")
		} else {
			parts = append(parts, c+" = excluded."+c)
		}
	}
	return strings.Join(parts, ", ")
}

// sqlKey names a generated statement: a table spec and a row count.
type sqlKey struct {
	t *tableSpec
	n int
}

// upsertSQL is the statement inserting n rows into t.
func (s *Store) upsertSQL(t *tableSpec, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(t.name)
	b.WriteString(" (")
	b.WriteString(strings.Join(t.cols, ", "))
	b.WriteString(") VALUES ")
	row := "(" + placeholders(len(t.cols)) + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	if s.dialect == DialectMySQL {
		b.WriteString(" ON DUPLICATE KEY UPDATE ")
	} else {
		b.WriteString(" ON CONFLICT (" + strings.Join(t.key, ", ") + ") DO UPDATE SET ")
	}
	b.WriteString(t.setClause(s.dialect))
	return b.String()
}

// upsertStmt returns the prepared statement for n rows of t. Statements are
// kept for the Store's life: parsing a statement of thousands of rows costs
// more than running it, and database/sql prepares it once per connection.
func (s *Store) upsertStmt(ctx context.Context, t *tableSpec, n int) (*sql.Stmt, error) {
	key := sqlKey{t, n}
	if st, ok := s.stmts.Load(key); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, s.upsertSQL(t, n))
	if err != nil {
		return nil, fmt.Errorf("preparing %s upsert: %w", t.name, err)
	}
	if old, loaded := s.stmts.LoadOrStore(key, st); loaded {
		_ = st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

// rowSet accumulates the rows of one table for a batch.
type rowSet struct {
	t     *tableSpec
	args  []any
	sizes []int // estimated bytes per row
}

func newRowSet(t *tableSpec, capRows int) *rowSet {
	return &rowSet{t: t, args: make([]any, 0, capRows*len(t.cols)), sizes: make([]int, 0, capRows)}
}

// add appends one row; size estimates its bytes on the wire.
func (r *rowSet) add(size int, vals ...any) {
	r.args = append(r.args, vals...)
	r.sizes = append(r.sizes, size)
}

func (r *rowSet) rows() int { return len(r.sizes) }

// maxChunkRows caps the rows of one statement.
const maxChunkRows = 1024

// chunks cuts the rows into statements: [start, end) row ranges. Every
// range holds a power of two rows, within the placeholder and size limits,
// so a table needs at most 11 distinct prepared statements whatever the
// batch sizes (MySQL caps prepared statements server-wide).
func (s *Store) chunks(r *rowSet) [][2]int {
	maxRows := min(maxChunkRows, s.maxParams/len(r.t.cols))
	var out [][2]int
	for start := 0; start < r.rows(); {
		n := 1
		for n*2 <= min(maxRows, r.rows()-start) {
			n *= 2
		}
		for n > 1 && sum(r.sizes[start:start+n]) > maxStatementBytes {
			n /= 2
		}
		out = append(out, [2]int{start, start + n})
		start += n
	}
	return out
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

// prepare readies the statements execRows will need for rs. It must run
// before the transaction: preparing takes a connection of its own, and a
// single-connection pool (SQLite in memory) would wait for itself.
func (s *Store) prepare(ctx context.Context, rs ...*rowSet) error {
	for _, r := range rs {
		for _, c := range s.chunks(r) {
			if _, err := s.upsertStmt(ctx, r.t, c[1]-c[0]); err != nil {
				return err
			}
		}
	}
	return nil
}

// execRows writes the rows of r in as few statements as the limits allow,
// with the statements prepare readied.
func (s *Store) execRows(ctx context.Context, tx *sql.Tx, r *rowSet) error {
	ncols := len(r.t.cols)
	for _, c := range s.chunks(r) {
		st, ok := s.stmts.Load(sqlKey{r.t, c[1] - c[0]})
		if !ok {
			return fmt.Errorf("writing %s: statement for %d rows not prepared", r.t.name, c[1]-c[0])
		}
		if _, err := tx.StmtContext(ctx, st.(*sql.Stmt)).ExecContext(ctx, r.args[c[0]*ncols:c[1]*ncols]...); err != nil {
			return fmt.Errorf("writing %s: %w", r.t.name, err)
		}
	}
	return nil
}

// placeholders returns "?, ?, ..." for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// inTx runs fn in one transaction, retrying the whole transaction when the
// database reports a deadlock or lock timeout (MySQL under concurrent
// batches) or a busy SQLite; any other error is returned at once.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var opts *sql.TxOptions
	if s.dialect == DialectMySQL {
		// READ COMMITTED takes no gap locks, so concurrent batches that
		// insert next to each other do not deadlock.
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	const attempts = 6
	tries := 0
	var last error
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		tries++
		last = s.tryTx(ctx, opts, fn)
		if last != nil && !retryable(last) {
			return struct{}{}, backoff.Permanent(last)
		}
		return struct{}{}, last
	},
		// 20 ms doubling, ±25 %: a deadlock's other party usually commits
		// within a few tens of milliseconds.
		backoff.WithBackOff(&backoff.ExponentialBackOff{InitialInterval: 20 * time.Millisecond,
			RandomizationFactor: 0.25, Multiplier: 2, MaxInterval: time.Second}),
		backoff.WithMaxTries(attempts), backoff.WithMaxElapsedTime(0))
	switch {
	case err == nil || !retryable(last):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("retrying after %w: %w", last, ctx.Err())
	}
	return fmt.Errorf("giving up after %d attempts: %w", tries, last)
}

func (s *Store) tryTx(ctx context.Context, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("starting transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// retryable reports errors a new attempt of the same transaction may cure.
func retryable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		// 1205 lock wait timeout, 1213 deadlock.
		return me.Number == 1205 || me.Number == 1213
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		// SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included.
		c := se.Code() & 0xff
		return c == 5 || c == 6
	}
	return false
}

// isNoTable reports a "table does not exist" error of either dialect.
func isNoTable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1146
	}
	return strings.Contains(err.Error(), "no such table")
}

// isDuplicate reports a primary-key conflict of either dialect.
func isDuplicate(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		// SQLITE_CONSTRAINT_PRIMARYKEY (1555) and _UNIQUE (2067).
		return se.Code() == 1555 || se.Code() == 2067
	}
	return false
}
