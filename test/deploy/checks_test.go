package deploy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCheckColumns(t *testing.T) {
	t1, t2 := time.Unix(100, 0), time.Unix(200, 0)
	ts := panel{Type: "timeseries"}
	cases := []struct {
		name   string
		p      panel
		format string
		r      queryResult
		err    string
	}{
		{"time series", ts, "time_series", queryResult{[]string{"time", "metric", "v"}, []string{"DATETIME", "VARCHAR", "DOUBLE"},
			[][]any{{t1, []byte("a"), []byte("1")}, {t2, []byte("a"), []byte("2")}}}, ""},
		{"epoch time", ts, "time_series", queryResult{[]string{"time", "v"}, []string{"BIGINT", "DECIMAL"},
			[][]any{{[]byte("60"), []byte("1")}, {[]byte("120"), []byte("2")}}}, ""},
		{"no time column", ts, "time_series", queryResult{[]string{"t", "v"}, []string{"DATETIME", "DOUBLE"}, nil},
			"without a column named time"},
		{"unsorted", ts, "time_series", queryResult{[]string{"time", "v"}, []string{"DATETIME", "DOUBLE"},
			[][]any{{t2, []byte("1")}, {t1, []byte("2")}}}, "not sorted by time"},
		{"unsigned value", ts, "time_series", queryResult{[]string{"time", "v"}, []string{"DATETIME", "UNSIGNED BIGINT"},
			[][]any{{t1, []byte("1")}}}, "value column v has type UNSIGNED BIGINT"},
		{"string value", ts, "time_series", queryResult{[]string{"time", "name", "v"}, []string{"DATETIME", "VARCHAR", "DOUBLE"},
			[][]any{{t1, []byte("x"), []byte("1")}}}, "value column name has type VARCHAR"},
		{"stat without number", panel{Type: "stat", Options: map[string]any{}}, "table",
			queryResult{[]string{"s"}, []string{"VARCHAR"}, nil}, "stat shows numeric fields"},
		{"stat fields regex", panel{Type: "stat", Options: map[string]any{"reduceOptions": map[string]any{"fields": "/^verdict$/"}}},
			"table", queryResult{[]string{"verdict"}, []string{"VARCHAR"}, nil}, ""},
		{"bar chart numeric x", panel{Type: "barchart", Options: map[string]any{"xField": "lag"}}, "table",
			queryResult{[]string{"lag", "acf"}, []string{"BIGINT", "DOUBLE"}, nil}, "needs a string x field"},
		{"trend not ascending", panel{Type: "trend", Options: map[string]any{"xField": "x"}}, "table",
			queryResult{[]string{"x", "y"}, []string{"DOUBLE", "DOUBLE"}, [][]any{{[]byte("2"), []byte("0")}, {[]byte("1"), []byte("0")}}},
			"not sorted by x"},
		{"table takes anything", panel{Type: "table"}, "table", queryResult{[]string{"a"}, []string{"TEXT"}, nil}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkColumns(c.p, c.format, &c.r)
			if c.err == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, c.err)
			}
		})
	}
}

func TestCheckOverrides(t *testing.T) {
	var p panel
	p.FieldConfig.Overrides = make([]override, 1)
	p.FieldConfig.Overrides[0].Matcher.ID = "byName"
	p.FieldConfig.Overrides[0].Matcher.Options = "compliance"
	p.FieldConfig.Overrides[0].Properties = append(p.FieldConfig.Overrides[0].Properties, struct {
		ID    string `json:"id"`
		Value any    `json:"value"`
	}{ID: "unit", Value: "percentunit"})
	require.NoError(t, checkOverrides(p, []*queryResult{{cols: []string{"compliance"}, types: []string{"DOUBLE"}}}))
	require.ErrorContains(t, checkOverrides(p, []*queryResult{{cols: []string{"c"}, types: []string{"DOUBLE"}}}), `names column "compliance"`)
	require.ErrorContains(t, checkOverrides(p, []*queryResult{{cols: []string{"compliance"}, types: []string{"VARCHAR"}}}), "not a number")
}
