package promsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewGrid(t *testing.T) {
	base := time.Unix(1_700_000_000, 0) // a multiple of 5 s
	cases := []struct {
		name       string
		start, end time.Time
		step       time.Duration
		wantStart  time.Time
		wantN      int
	}{
		{"aligned", base, base.Add(time.Minute), 5 * time.Second, base, 13},
		{"start rounds up, end down", base.Add(-2 * time.Second), base.Add(63 * time.Second), 5 * time.Second, base, 13},
		{"single point", base.Add(-time.Second), base.Add(time.Second), 5 * time.Second, base, 1},
		{"12h at 5s", base.Add(-12*time.Hour + 5*time.Second), base, 5 * time.Second, base.Add(-12*time.Hour + 5*time.Second), 8640},
		{"sub-second start", base.Add(1500 * time.Millisecond), base.Add(10 * time.Second), time.Second, base.Add(2 * time.Second), 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := newGrid(c.start, c.end, c.step)
			require.NoError(t, err)
			require.Equal(t, c.wantStart.UnixMilli(), g.startMs)
			require.Equal(t, c.wantN, g.n)
			require.Equal(t, c.wantStart.Add(-c.step).UnixMilli(), g.lead().UnixMilli())
			require.Equal(t, c.wantStart.Add(time.Duration(c.wantN-1)*c.step).UnixMilli(), g.end().UnixMilli())
			require.Zero(t, g.end().UnixMilli()%c.step.Milliseconds(), "end not on a multiple of the step")
		})
	}
	bad := []struct {
		name       string
		start, end time.Time
		step       time.Duration
	}{
		{"no grid point", base.Add(time.Second), base.Add(4 * time.Second), 5 * time.Second},
		{"end before start", base, base.Add(-time.Hour), 5 * time.Second},
		{"zero step", base, base.Add(time.Hour), 0},
		{"too many points", base.Add(-12 * time.Hour), base, time.Second},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := newGrid(c.start, c.end, c.step)
			require.ErrorIs(t, err, ErrBadRange)
		})
	}
}

// fakeProm serves the three endpoints the source uses from a fixed data
// set: per metric, its series as label sets with a value function of the
// sample time in seconds (ok=false leaves a hole).
type fakeProm struct {
	meta    map[string]string
	metrics map[string][]fakeSeries
	mu      sync.Mutex
	queries []string
}

type fakeSeries struct {
	labels map[string]string
	value  func(ts int64) (float64, bool)
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var data any
	switch r.URL.Path {
	case "/api/v1/label/__name__/values":
		_, ms, err := ParseSelector(r.Form.Get("match[]"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		names := []string{}
		for name, series := range f.metrics {
			for _, s := range series {
				lbls := map[string]string{"__name__": name}
				for k, v := range s.labels {
					lbls[k] = v
				}
				all := true
				for _, m := range ms {
					all = all && m.Matches(lbls[m.Name])
				}
				if all {
					names = append(names, name)
					break
				}
			}
		}
		data = names
	case "/api/v1/metadata":
		md := map[string][]map[string]string{}
		for k, v := range f.meta {
			md[k] = []map[string]string{{"type": v, "help": "", "unit": ""}}
		}
		data = md
	case "/api/v1/query_range":
		q := r.Form.Get("query")
		f.mu.Lock()
		f.queries = append(f.queries, q)
		f.mu.Unlock()
		metric, ms, err := ParseSelector(q)
		if err != nil || metric == "" {
			http.Error(w, fmt.Sprintf("fake wants a pinned selector, got %q", q), http.StatusBadRequest)
			return
		}
		start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
		end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
		step, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
		result := []map[string]any{}
		for _, s := range f.metrics[metric] {
			lbls := map[string]string{"__name__": metric}
			for k, v := range s.labels {
				lbls[k] = v
			}
			match := true
			for _, m := range ms {
				match = match && m.Matches(lbls[m.Name])
			}
			if !match {
				continue
			}
			values := [][]any{}
			for ts := start; ts <= end; ts += step {
				if v, ok := s.value(int64(ts)); ok {
					values = append(values, []any{ts, strconv.FormatFloat(v, 'f', -1, 64)})
				}
			}
			result = append(result, map[string]any{"metric": lbls, "values": values})
		}
		data = map[string]any{"resultType": "matrix", "result": result}
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
}

func newFake(t *testing.T, f *fakeProm) *Source {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	src, err := New(Config{URL: srv.URL})
	require.NoError(t, err)
	return src
}

func testData() *fakeProm {
	const t0 = 1_700_000_000
	return &fakeProm{
		meta: map[string]string{"node_load1": "gauge", "node_cpu_seconds_total": "counter"},
		metrics: map[string][]fakeSeries{
			"node_load1": {{labels: map[string]string{"instance": "a"}, value: func(ts int64) (float64, bool) {
				// A hole between t0+20 and t0+30 inclusive.
				return float64(ts - t0), ts < t0+20 || ts > t0+30
			}}},
			"node_cpu_seconds_total": {
				{labels: map[string]string{"cpu": "0", "mode": "idle"}, value: func(ts int64) (float64, bool) {
					return float64(3 * (ts - t0)), true // 3/s
				}},
				{labels: map[string]string{"cpu": "1", "mode": "idle"}, value: func(ts int64) (float64, bool) {
					if ts >= t0+30 {
						return float64(ts - t0 - 30), true // reset at t0+30, 1/s after
					}
					return float64(1000 + 2*(ts-t0)), true
				}},
			},
			"other_metric": {{labels: map[string]string{"x": "y"}, value: func(int64) (float64, bool) { return 1, true }}},
		},
	}
}

func TestPlan(t *testing.T) {
	f := testData()
	src := newFake(t, f)
	t0 := time.Unix(1_700_000_000, 0)
	qs, err := src.Plan(context.Background(), []string{
		`node_.*`, `node_load1{instance="a"}`, `node_cpu_seconds_total{cpu="1"}`, `missing_metric`,
	}, t0, t0.Add(time.Minute))
	require.NoError(t, err)
	// The bare queries from the pattern cover the narrower ones.
	require.Equal(t, []Query{
		{Metric: "missing_metric", Selector: "missing_metric", Type: "unknown"},
		{Metric: "node_cpu_seconds_total", Selector: "node_cpu_seconds_total", Type: "counter", Rate: true},
		{Metric: "node_load1", Selector: "node_load1", Type: "gauge"},
	}, qs)

	_, err = src.Plan(context.Background(), []string{"node_load1", "up or vector(1)"}, t0, t0)
	require.ErrorIs(t, err, ErrInvalidSelector)
}

func TestPull(t *testing.T) {
	f := testData()
	src := newFake(t, f)
	t0 := time.Unix(1_700_000_000, 0)

	load, err := src.Pull(context.Background(), "node_load1", t0.Add(5*time.Second), t0.Add(47*time.Second), 5*time.Second)
	require.NoError(t, err)
	require.Len(t, load, 1)
	s := load[0]
	require.Equal(t, "node_load1", s.Metric)
	require.Equal(t, map[string]string{"instance": "a"}, s.Labels)
	require.Equal(t, SeriesID("node_load1", map[string]string{"instance": "a"}), s.ID)
	require.Equal(t, TransformRaw, s.Transform)
	require.Equal(t, "gauge", s.Type)
	require.True(t, s.Start.Equal(t0.Add(5*time.Second)), "start %s", s.Start)
	require.True(t, s.End().Equal(t0.Add(45*time.Second)), "end %s", s.End())
	requireFloats(t, []float64{5, 10, 15, nan, nan, nan, 35, 40, 45}, s.Values)

	cpu, err := src.Pull(context.Background(), `node_cpu_seconds_total`, t0.Add(5*time.Second), t0.Add(45*time.Second), 5*time.Second)
	require.NoError(t, err)
	require.Len(t, cpu, 2)
	byCPU := map[string]Series{}
	for _, s := range cpu {
		require.Equal(t, TransformRate, s.Transform)
		byCPU[s.Labels["cpu"]] = s
	}
	// The lead point at t0 gives the first grid point its rate.
	requireFloats(t, []float64{3, 3, 3, 3, 3, 3, 3, 3, 3}, byCPU["0"].Values)
	// At t0+30 the counter restarts from 0: the rate is 0/5 then 1/s.
	requireFloats(t, []float64{2, 2, 2, 2, 2, 0, 1, 1, 1}, byCPU["1"].Values)
	require.Less(t, cpu[0].ID, cpu[1].ID, "series not sorted by id")

	_, err = src.Pull(context.Background(), `rate(x[5m])`, t0, t0.Add(time.Minute), 5*time.Second)
	require.ErrorIs(t, err, ErrInvalidSelector)
	for _, q := range f.queries {
		require.NotContains(t, q, "rate", "an invalid selector reached Prometheus")
	}
}

func TestPullPrometheusError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"status":"error","errorType":"execution","error":"query processing would load too many samples"}`))
	}))
	defer srv.Close()
	src, err := New(Config{URL: srv.URL})
	require.NoError(t, err)
	t0 := time.Unix(1_700_000_000, 0)
	_, err = src.Pull(context.Background(), "node_load1", t0, t0.Add(time.Minute), 5*time.Second)
	require.Error(t, err)
	require.Contains(t, err.Error(), "too many samples")
	require.False(t, errors.Is(err, ErrInvalidSelector))
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:9090", "ftp://x", "http://"} {
		_, err := New(Config{URL: u})
		require.Error(t, err, "url %q", u)
	}
}

func TestQueryRangeTransport(t *testing.T) {
	cases := []struct {
		name         string
		gzip         bool
		refusePost   bool
		wantEncoding string
		wantMethods  []string
	}{
		{"identity by default", false, false, "identity", []string{"POST"}},
		{"gzip on request", true, false, "gzip", []string{"POST"}},
		{"GET when POST is refused", false, true, "identity", []string{"POST", "GET"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := testData()
			var mu sync.Mutex
			var methods []string
			var encoding string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/v1/query_range" {
					mu.Lock()
					methods = append(methods, r.Method)
					encoding = r.Header.Get("Accept-Encoding")
					mu.Unlock()
					if c.refusePost && r.Method == http.MethodPost {
						http.Error(w, "no POST here", http.StatusMethodNotAllowed)
						return
					}
				}
				f.ServeHTTP(w, r)
			}))
			defer srv.Close()
			src, err := New(Config{URL: srv.URL, Gzip: c.gzip})
			require.NoError(t, err)
			t0 := time.Unix(1_700_000_000, 0)
			ss, err := src.Pull(context.Background(), "node_load1", t0, t0.Add(time.Minute), 5*time.Second)
			require.NoError(t, err)
			require.Len(t, ss, 1)
			require.Equal(t, 10.0, ss[0].Values[2])
			require.Equal(t, c.wantMethods, methods)
			require.Equal(t, c.wantEncoding, encoding)
		})
	}
}
