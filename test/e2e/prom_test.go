package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rawSeries is one series as Prometheus stores it: its labels (without
// __name__) and its samples, read with a plain range-vector query so that
// no slapipe code sits between the test and the data.
type rawSeries struct {
	Metric string
	Labels map[string]string
	T      []int64 // Unix milliseconds
	V      []float64
}

// queryRaw runs the instant query sel[lookback] at time at against the
// Prometheus at base and returns the raw samples of every series.
func queryRaw(t testing.TB, base, sel string, lookback time.Duration, at time.Time) []rawSeries {
	t.Helper()
	q := url.Values{}
	q.Set("query", fmt.Sprintf("%s[%ds]", sel, int64(lookback/time.Second)))
	q.Set("time", strconv.FormatInt(at.Unix(), 10))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/api/v1/query?"+q.Encode(), nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "querying Prometheus at %s", base)
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "query %s: %s", q.Get("query"), body)

	var doc struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	require.Equal(t, "success", doc.Status)
	require.Equal(t, "matrix", doc.Data.ResultType)
	var out []rawSeries
	for _, r := range doc.Data.Result {
		s := rawSeries{Metric: r.Metric["__name__"], Labels: map[string]string{}}
		for k, v := range r.Metric {
			if k != "__name__" {
				s.Labels[k] = v
			}
		}
		for _, p := range r.Values {
			ts, ok := p[0].(float64)
			require.True(t, ok, "timestamp %v", p[0])
			str, ok := p[1].(string)
			require.True(t, ok, "value %v", p[1])
			v, err := strconv.ParseFloat(str, 64)
			require.NoError(t, err)
			s.T = append(s.T, int64(math.Round(ts*1000)))
			s.V = append(s.V, v)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return labelKey(out[i].Labels) < labelKey(out[j].Labels) })
	return out
}

// labelKey is a canonical text of a label set.
func labelKey(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, l[k])
	}
	return b.String()
}

// counterRates applies the pipeline's counter rule to samples step apart:
// r_i = (v_i - v_{i-1})/step, or v_i/step after a reset (v_i < v_{i-1}).
// The result is one shorter than v.
func counterRates(v []float64, stepSeconds float64) []float64 {
	out := make([]float64, 0, len(v)-1)
	for i := 1; i < len(v); i++ {
		d := v[i] - v[i-1]
		if v[i] < v[i-1] {
			d = v[i]
		}
		out = append(out, d/stepSeconds)
	}
	return out
}

// refStats are statistics computed the plain way: two passes, sample
// (n-1) standard deviation.
type refStats struct {
	N                   int
	Min, Max, Mean, Std float64
}

func twoPass(v []float64) refStats {
	s := refStats{N: len(v), Min: math.Inf(1), Max: math.Inf(-1)}
	sum := 0.0
	for _, x := range v {
		sum += x
		s.Min = math.Min(s.Min, x)
		s.Max = math.Max(s.Max, x)
	}
	s.Mean = sum / float64(len(v))
	ss := 0.0
	for _, x := range v {
		ss += (x - s.Mean) * (x - s.Mean)
	}
	s.Std = math.Sqrt(ss / float64(len(v)-1))
	return s
}

// relClose reports whether a and b agree within rel relative tolerance.
func relClose(a, b, rel float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))
}
