package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAnalyzeBadInput(t *testing.T) {
	series := func(n int) string {
		v := make([]string, n)
		for i := range v {
			v[i] = fmt.Sprint(i % 7)
		}
		return "[" + strings.Join(v, ",") + "]"
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"not JSON", "hello", nil, 1, "invalid input"},
		{"empty stdin", "", nil, 1, "invalid input"},
		{"JSON array", "[1,2,3]", nil, 1, "invalid input"},
		{"no values", `{"step_seconds": 5}`, nil, 1, "values"},
		{"empty values", `{"step_seconds": 5, "values": []}`, nil, 1, "values"},
		{"all gaps", `{"step_seconds": 5, "values": [null, null, null]}`, nil, 1, "gap"},
		{"negative step", `{"step_seconds": -5, "values": [1, 2, 3]}`, nil, 1, "step_seconds"},
		{"zero step", `{"step_seconds": 0, "values": [1, 2, 3]}`, nil, 1, "step_seconds"},
		{"no step", `{"values": [1, 2, 3]}`, nil, 1, "step_seconds"},
		{"NaN literal", `{"step_seconds": 5, "values": [1, NaN, 3]}`, nil, 1, "invalid input"},
		{"NaN string", `{"step_seconds": 5, "values": [1, "NaN", 3]}`, nil, 1, "invalid input"},
		{"infinite number", `{"step_seconds": 5, "values": [1, 1e999, 3]}`, nil, 1, "invalid input"},
		{"input horizon 0", `{"step_seconds": 5, "values": [1, 2, 3], "horizon": 0}`, nil, 1, "horizon"},
		{"input horizon huge", `{"step_seconds": 5, "values": [1, 2, 3], "horizon": 100000000}`, nil, 1, "horizon"},
		{"input period 1", `{"step_seconds": 5, "values": ` + series(20) + `, "period": 1}`, nil, 1, "period"},
		{"input period above n/2", `{"step_seconds": 5, "values": ` + series(20) + `, "period": 11}`, nil, 1, "period"},
		{"flag horizon 0", `{"step_seconds": 5, "values": [1, 2, 3]}`, []string{"--horizon", "0"}, 2, "--horizon"},
		{"flag horizon huge", `{"step_seconds": 5, "values": [1, 2, 3]}`, []string{"--horizon", "1000000000"}, 2, "--horizon"},
		{"flag horizon not a number", `{"step_seconds": 5, "values": [1, 2, 3]}`, []string{"--horizon", "ten"}, 2, "horizon"},
		{"flag period 1", `{"step_seconds": 5, "values": ` + series(20) + `}`, []string{"--period", "1"}, 2, "--period"},
		{"flag period negative", `{"step_seconds": 5, "values": ` + series(20) + `}`, []string{"--period", "-3"}, 2, "--period"},
		{"flag period above n/2", `{"step_seconds": 5, "values": ` + series(20) + `}`, []string{"--period", "11"}, 1, "period"},
		{"unknown flag", `{}`, []string{"--bogus"}, 2, "unknown flag: --bogus"},
		{"extra argument", `{}`, []string{"file.json"}, 2, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runBinary(t, tc.stdin, nil, append([]string{"analyze"}, tc.args...)...)
			requireOneLineError(t, r, tc.code, tc.want)
		})
	}
}

func TestAnalyzeOutput(t *testing.T) {
	// 48 samples of a period-12 wave with two gaps: n counts the gaps, the
	// statistics skip them, and the flags override the input's period and
	// horizon.
	var vals []string
	sum, cnt := 0.0, 0
	for i := 0; i < 48; i++ {
		if i == 5 || i == 30 {
			vals = append(vals, "null")
			continue
		}
		v := 10 + 3*math.Sin(2*math.Pi*float64(i)/12) + float64(i%3)
		sum += v
		cnt++
		vals = append(vals, fmt.Sprint(v))
	}
	in := `{"step_seconds": 5, "values": [` + strings.Join(vals, ",") + `], "period": 6, "horizon": 3}`
	r := runBinary(t, in, nil, "analyze", "--period", "12", "--horizon", "7")
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, r.stderr)
	var out struct {
		N     int `json:"n"`
		Stats struct {
			Mean float64 `json:"mean"`
		} `json:"stats"`
		Seasonality *struct {
			Period   int  `json:"period"`
			Detected bool `json:"detected"`
		} `json:"seasonality"`
		Forecast *struct {
			Horizon int       `json:"horizon"`
			Mean    []float64 `json:"mean"`
		} `json:"forecast"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Equal(t, 48, out.N)
	require.InDelta(t, sum/float64(cnt), out.Stats.Mean, 1e-12)
	require.NotNil(t, out.Seasonality)
	require.Equal(t, 12, out.Seasonality.Period, "--period overrides the input")
	require.False(t, out.Seasonality.Detected)
	require.NotNil(t, out.Forecast, "a 48-sample seasonal series has a forecast")
	require.Equal(t, 7, out.Forecast.Horizon, "--horizon overrides the input")
	require.Len(t, out.Forecast.Mean, 7)
}
