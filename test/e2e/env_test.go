package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Bounds of every wait: the tests assert outcomes, not speed, on a shared
// 2-core machine.
const (
	waitLong  = 2 * time.Minute
	pollEvery = 20 * time.Millisecond
)

// randomSuffix is a fresh lower-case hex string of n bytes.
func randomSuffix(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// countRows returns SELECT COUNT(*) of table (a name from this package).
func countRows(ctx context.Context, db *sql.DB, table string) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(table)).Scan(&n)
	return n, err
}

// mustCount is countRows failing the test on error.
func mustCount(t testing.TB, db *sql.DB, table string) int {
	t.Helper()
	n, err := countRows(context.Background(), db, table)
	require.NoError(t, err, "counting %s", table)
	return n
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// tableSum is the row count and a content hash of one table or view.
type tableSum struct {
	Rows int
	Hash string
}

// contentSums hashes every table and view of the current database: each
// row's columns in their text form (NULL told apart from ”), rows sorted, so
// the sum depends on the contents only, not on the order the server returns
// them in.
func contentSums(t testing.TB, db *sql.DB) map[string]tableSum {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	rows, err := db.QueryContext(ctx,
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME")
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.NotEmpty(t, tables, "no tables: was the schema migrated?")

	out := make(map[string]tableSum, len(tables))
	for _, table := range tables {
		out[table] = hashTable(t, ctx, db, table)
	}
	return out
}

func hashTable(t testing.TB, ctx context.Context, db *sql.DB, table string) tableSum {
	t.Helper()
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table))
	require.NoError(t, err, "reading %s", table)
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	require.NoError(t, err)
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var lines []string
	for rows.Next() {
		require.NoError(t, rows.Scan(ptrs...))
		var b strings.Builder
		for _, v := range vals {
			if v == nil {
				b.WriteString("N;")
				continue
			}
			fmt.Fprintf(&b, "%d:%x;", len(v), []byte(v))
		}
		lines = append(lines, b.String())
	}
	require.NoError(t, rows.Err())
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return tableSum{Rows: len(lines), Hash: hex.EncodeToString(h.Sum(nil))}
}

// waitFor polls cond until it returns true, failing the test after waitLong
// with what; cond's error fails the test at once.
func waitFor(t testing.TB, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		ok, err := cond()
		require.NoError(t, err, "waiting for %s", what)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitLong, what)
		}
		time.Sleep(pollEvery)
	}
}
