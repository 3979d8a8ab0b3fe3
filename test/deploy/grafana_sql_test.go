package deploy

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDashboardQueriesOnPipelineOutput runs every SQL query of the
// provisioned dashboards, variables included, as Grafana would (macros
// expanded, the dashboard's own time range, real variable values read from
// the data) against MariaDB holding a real pipeline run, and checks that
// each returns rows with the columns its panel draws.
func TestDashboardQueriesOnPipelineOutput(t *testing.T) {
	p := runPipeline(t)
	withSQL := 0
	for file, d := range loadDashboards(t) {
		if mysqlQueries(d) > 0 {
			withSQL++
		}
		t.Run(file, func(t *testing.T) { checkDashboardSQL(t, p.db, d, time.Now()) })
	}
	require.Positive(t, withSQL, "no dashboard has SQL panels: nothing was checked")
}

// queryResult is what a query returned.
type queryResult struct {
	cols  []string
	types []string // database type names, as Grafana's converters see them
	rows  [][]any
}

func (r *queryResult) col(name string) int { return slices.Index(r.cols, name) }

// runQuery runs one expanded query; values are kept as the driver gives
// them (without args the text protocol: []byte, or time.Time for DATETIME;
// with args a prepared statement, whose binary protocol gives numbers as
// Go numbers).
func runQuery(ctx context.Context, db *sql.DB, query string, args ...any) (*queryResult, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	r := &queryResult{}
	for _, ct := range cts {
		r.cols = append(r.cols, ct.Name())
		r.types = append(r.types, ct.DatabaseTypeName())
	}
	for rows.Next() {
		vals := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r.rows = append(r.rows, vals)
	}
	return r, rows.Err()
}

// Grafana's MySQL datasource converts these database types to numbers and
// times (pkg/tsdb/mysql GetConverterList); every other type, unsigned
// integers included, arrives as a string.
var (
	grafanaNumeric = []string{"DOUBLE", "FLOAT", "DECIMAL", "BIGINT", "INT", "SMALLINT", "TINYINT", "YEAR"}
	grafanaTime    = []string{"DATETIME", "TIMESTAMP", "DATE"}
)

func isNumeric(typ string) bool { return slices.Contains(grafanaNumeric, typ) }
func isTime(typ string) bool    { return slices.Contains(grafanaTime, typ) }

// sortKey reads a time or number cell for order checks.
func sortKey(v any) (float64, bool) {
	switch x := v.(type) {
	case time.Time:
		return float64(x.UnixNano()), true
	case []byte:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// checkColumns returns why Grafana could not draw r in panel p with target
// format, or nil. An empty result is not judged here.
func checkColumns(p panel, format string, r *queryResult) error {
	numericCols := func(skip ...string) []string {
		var out []string
		for i, c := range r.cols {
			if isNumeric(r.types[i]) && !slices.Contains(skip, c) {
				out = append(out, c)
			}
		}
		return out
	}
	ascending := func(col string) error {
		i := r.col(col)
		prev := -1e308
		for _, row := range r.rows {
			k, ok := sortKey(row[i])
			if !ok {
				return fmt.Errorf("column %s: unreadable value %v", col, row[i])
			}
			if k < prev {
				return fmt.Errorf("rows are not sorted by %s", col)
			}
			prev = k
		}
		return nil
	}
	if format == "time_series" || (p.Type == "timeseries" && format == "table") {
		ti := r.col("time")
		if ti < 0 {
			return fmt.Errorf("time series without a column named time (got %v)", r.cols)
		}
		if !isTime(r.types[ti]) && !isNumeric(r.types[ti]) {
			return fmt.Errorf("column time has type %s, neither a time nor epoch seconds", r.types[ti])
		}
		for i, c := range r.cols {
			switch {
			case c == "time", isNumeric(r.types[i]):
			case c == "metric":
				if isTime(r.types[i]) {
					return fmt.Errorf("column metric has type %s, want a string", r.types[i])
				}
			default:
				return fmt.Errorf("value column %s has type %s: Grafana would read it as a string", c, r.types[i])
			}
		}
		if len(numericCols("time")) == 0 {
			return fmt.Errorf("time series without a numeric value column (%v %v)", r.cols, r.types)
		}
		return ascending("time")
	}
	field := func(key string) string { s, _ := p.Options[key].(string); return s }
	switch p.Type {
	case "stat":
		ro, _ := p.Options["reduceOptions"].(map[string]any)
		fields, _ := ro["fields"].(string)
		if fields == "" {
			if len(numericCols()) == 0 {
				return fmt.Errorf("stat shows numeric fields but the query has none (%v %v)", r.cols, r.types)
			}
			break
		}
		re, err := regexp.Compile(strings.Trim(fields, "/"))
		if err != nil {
			return fmt.Errorf("reduceOptions.fields %q: %w", fields, err)
		}
		if !slices.ContainsFunc(r.cols, re.MatchString) {
			return fmt.Errorf("reduceOptions.fields %q matches no column of %v", fields, r.cols)
		}
	case "barchart":
		x := r.col(field("xField"))
		if x < 0 || isNumeric(r.types[x]) {
			return fmt.Errorf("bar chart needs a string x field %q (got %v %v)", field("xField"), r.cols, r.types)
		}
		if len(numericCols()) == 0 {
			return fmt.Errorf("bar chart without a numeric column")
		}
	case "trend":
		x := field("xField")
		if i := r.col(x); i < 0 || !isNumeric(r.types[i]) {
			return fmt.Errorf("trend needs a numeric x field %q (got %v %v)", x, r.cols, r.types)
		}
		if len(numericCols(x)) == 0 {
			return fmt.Errorf("trend without a numeric value column")
		}
		return ascending(x)
	}
	return nil
}

// checkOverrides checks that the columns a panel's overrides name exist and
// that those given a unit or thresholds are numbers.
func checkOverrides(p panel, results []*queryResult) error {
	for _, o := range p.FieldConfig.Overrides {
		if o.Matcher.ID != "byName" {
			continue
		}
		name := o.Matcher.Options
		found := false
		for _, r := range results {
			i := r.col(name)
			if i < 0 {
				continue
			}
			found = true
			for _, prop := range o.Properties {
				if (prop.ID == "unit" || prop.ID == "thresholds") && !isNumeric(r.types[i]) && !isTime(r.types[i]) {
					return fmt.Errorf("override sets %s on %s, which is %s, not a number", prop.ID, name, r.types[i])
				}
			}
		}
		if !found {
			return fmt.Errorf("override names column %q, which no query returns", name)
		}
	}
	return nil
}

// dashboardRun is one evaluation of a dashboard's panels for one set of
// variable values.
type dashboardRun struct {
	vars    map[string]string
	empty   []string // panels with a query that returned no rows
	queries int      // SQL queries run
}

// mysqlQueries counts the SQL queries of d's panels, read from the JSON
// alone, to check that an evaluation ran every one of them.
func mysqlQueries(d *dashboard) int {
	n := 0
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			if ds := tg.Datasource; ds != nil && ds.Type == "mysql" {
				n++
			}
		}
	}
	return n
}

// checkDashboardSQL evaluates the dashboard's variables in order (each
// query variable with the values chosen before it) and its panels for each
// combination: a query that fails or returns columns its panel cannot draw
// fails the test at once; a combination where every query returns rows is
// needed for each value of a custom variable and for at least one value of
// each query variable.
func checkDashboardSQL(t *testing.T, db *sql.DB, d *dashboard, now time.Time) {
	ctx := context.Background()
	from, err := resolveTime(d.Time.From, now)
	require.NoError(t, err)
	to, err := resolveTime(d.Time.To, now)
	require.NoError(t, err)
	base := grafanaQuery{from: from, to: to, interval: panelInterval(to.Sub(from))}
	run := func(vars map[string]string, what, sqlText string) *queryResult {
		q := base
		q.vars = vars
		expanded, err := q.expand(sqlText)
		require.NoError(t, err, "%s: expanding %q", what, sqlText)
		r, err := runQuery(ctx, db, expanded)
		require.NoError(t, err, "%s with %v:\n%s", what, vars, expanded)
		return r
	}

	var best *dashboardRun
	leaves := 0
	var try func(i int, vars map[string]string) bool
	try = func(i int, vars map[string]string) bool {
		if i == len(d.Templating.List) {
			leaves++
			dr := evaluatePanels(t, d, vars, run)
			if best == nil || len(dr.empty) < len(best.empty) {
				best = dr
			}
			return len(dr.empty) == 0
		}
		v := d.Templating.List[i]
		next := func(val string) bool {
			nv := map[string]string{v.Name: val}
			for k, x := range vars {
				nv[k] = x
			}
			return try(i+1, nv)
		}
		switch v.Type {
		case "custom":
			require.NotEmpty(t, v.Options, "variable %s has options", v.Name)
			all := true
			for _, o := range v.Options {
				all = next(o.Value) && all
			}
			return all
		case "query":
			r := run(vars, "variable "+v.Name, v.Query)
			vi := r.col("__value")
			if vi < 0 {
				vi = 0
			}
			for _, row := range r.rows {
				if leaves >= 300 {
					break
				}
				if next(cellString(row[vi])) {
					return true
				}
			}
			return false
		}
		t.Fatalf("variable %s: type %s not understood by this test", v.Name, v.Type)
		return false
	}
	ok := try(0, map[string]string{})
	require.NotNil(t, best, "the variables returned no values")
	if want := mysqlQueries(d); want > 0 {
		require.Positive(t, best.queries, "%s has SQL panels but none was queried", d.Title)
		require.Equal(t, want, best.queries, "%s: not every SQL query was run", d.Title)
	}
	require.True(t, ok, "no variable values fill every panel; closest (%v) leaves empty: %v", best.vars, best.empty)
	t.Logf("%s: every panel filled, %d variable combination(s) tried", d.Title, leaves)
}

// evaluatePanels runs every SQL query of d with vars.
func evaluatePanels(t *testing.T, d *dashboard, vars map[string]string,
	run func(vars map[string]string, what, sqlText string) *queryResult) *dashboardRun {
	dr := &dashboardRun{vars: vars}
	for _, p := range d.allPanels() {
		var results []*queryResult
		for _, tg := range p.Targets {
			if ds := tg.Datasource; ds == nil || ds.Type != "mysql" {
				continue
			}
			what := fmt.Sprintf("panel %q query %s", p.Title, tg.RefID)
			r := run(vars, what, tg.RawSQL)
			dr.queries++
			results = append(results, r)
			if len(r.rows) == 0 {
				dr.empty = append(dr.empty, what)
				continue
			}
			require.NoError(t, checkColumns(p, tg.Format, r), "%s with %v", what, vars)
		}
		if len(results) > 0 {
			require.NoError(t, checkOverrides(p, results), "panel %q", p.Title)
		}
	}
	return dr
}

func cellString(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
