package ctl

import (
	"bytes"
	"io"
	"strings"
	"text/tabwriter"
)

// table accumulates rows and writes them aligned in columns.
type table struct {
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func newTable(header ...string) *table {
	t := &table{}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	t.row(header...)
	return t
}

// row adds one row; tabs and newlines in cells are flattened so they cannot
// break the columns.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
	}
	_, _ = io.WriteString(t.tw, strings.Join(cells, "\t")+"\n")
}

// String flushes and returns the table.
func (t *table) String() string {
	_ = t.tw.Flush()
	return t.buf.String()
}

// truncate shortens s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
