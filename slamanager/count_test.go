package slamanager

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

const testStep = 5 * time.Second

var testEnd = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// mark puts value v at the sample ago steps before the end (ago 0 = the
// last sample).
type mark struct {
	ago int
	v   float64
}

// buildSeries is a 12 h pull ending at testEnd (8641 points, the first one
// outside every window) filled with base, then the marks.
func buildSeries(base float64, marks ...mark) promSeries {
	const n = 8641
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = base
	}
	for _, mk := range marks {
		vals[n-1-mk.ago] = mk.v
	}
	return promSeries{ID: "s1", Metric: "m", Labels: map[string]string{"case": "x"},
		Start: testEnd.Add(-(n - 1) * testStep), Step: testStep, Values: vals}
}

func ago(k int) time.Time { return testEnd.Add(-time.Duration(k) * testStep) }

// want is the expected row; zero times mean "absent".
type want struct {
	samples, out, episodes int64
	worst                  float64
	worstAt, first, last   time.Time
}

func TestCountWindow(t *testing.T) {
	nan := math.NaN()
	// Bounds [10, 20], base 15. Last hour: 3 samples above (one episode),
	// 2 below (one), and 21, gap, 22 (two episodes: a gap ends an episode).
	// 3 h adds 5 samples up to 31; 12 h adds 10 samples at 0, one at 50 on
	// the window's first sample, and 100 on the pull's first sample, which
	// is outside every window.
	mixed := buildSeries(15,
		mark{10, 25}, mark{11, 26}, mark{12, 21},
		mark{100, 5}, mark{101, 8},
		mark{200, 21}, mark{201, nan}, mark{202, 22},
		mark{1000, 30}, mark{1001, 30}, mark{1002, 30}, mark{1003, 31}, mark{1004, 30},
		mark{5000, 0}, mark{5001, 0}, mark{5002, 0}, mark{5003, 0}, mark{5004, 0},
		mark{5005, 0}, mark{5006, 0}, mark{5007, 0}, mark{5008, 0}, mark{5009, 0},
		mark{8639, 50}, mark{8640, 100},
	)
	both := &slapipev1.Objective{Min: proto.Float64(10), Max: proto.Float64(20)}
	maxOnly := &slapipev1.Objective{Max: proto.Float64(20)}
	minOnly := &slapipev1.Objective{Min: proto.Float64(10)}

	allGaps := buildSeries(nan)

	cases := []struct {
		name   string
		s      promSeries
		o      *slapipev1.Objective
		window time.Duration
		want   want
	}{
		{"1h both bounds with a gap", mixed, both, time.Hour,
			want{719, 7, 4, 26, ago(11), ago(202), ago(10)}},
		{"3h adds one episode", mixed, both, 3 * time.Hour,
			want{2159, 12, 5, 31, ago(1003), ago(1004), ago(10)}},
		{"12h excludes the pull's extra first point", mixed, both, 12 * time.Hour,
			want{8639, 23, 7, 50, ago(8639), ago(8639), ago(10)}},
		{"max only ignores low values", mixed, maxOnly, time.Hour,
			want{719, 5, 3, 26, ago(11), ago(202), ago(10)}},
		{"min only ignores high values", mixed, minOnly, time.Hour,
			want{719, 2, 1, 5, ago(100), ago(101), ago(100)}},
		{"never out: worst is the value closest to a bound",
			buildSeries(15, mark{50, 19.5}, mark{60, 10.2}), both, time.Hour,
			want{720, 0, 0, 10.2, ago(60), time.Time{}, time.Time{}}},
		{"on the bound is inside",
			buildSeries(15, mark{5, 20}, mark{6, 10}), both, time.Hour,
			want{720, 0, 0, 10, ago(6) /* tie at margin 0: the earlier */, time.Time{}, time.Time{}}},
		{"episode straddling the window start counts once",
			buildSeries(15, mark{718, 40}, mark{719, 40}, mark{720, 40}, mark{721, 40}), both, time.Hour,
			want{720, 2, 1, 40, ago(719), ago(719), ago(718)}},
		{"gaps only: no samples, full compliance", allGaps, both, time.Hour,
			want{0, 0, 0, 0, time.Time{}, time.Time{}, time.Time{}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := countWindow(&c.s, boundsOf(c.o), testEnd, c.window)
			require.Equal(t, c.want.samples, got.Samples, "samples")
			require.Equal(t, c.want.out, got.SamplesOut, "samples_out")
			require.Equal(t, c.want.episodes, got.Episodes, "episodes")
			require.Equal(t, float64(c.want.out)*5, got.SecondsOut, "seconds_out")
			wantCompliance := 1.0
			if c.want.samples > 0 {
				wantCompliance = 1 - float64(c.want.out)/float64(c.want.samples)
			}
			require.InDelta(t, wantCompliance, got.Compliance, 1e-12, "compliance")
			require.Equal(t, c.want.worst, got.Worst, "worst")
			requireTime(t, c.want.worstAt, got.WorstAt, "worst_at")
			requireTime(t, c.want.first, got.FirstViolation, "first_violation")
			requireTime(t, c.want.last, got.LastViolation, "last_violation")
		})
	}
}

func requireTime(t *testing.T, want time.Time, got interface{ AsTime() time.Time }, what string) {
	t.Helper()
	if want.IsZero() {
		require.Nil(t, got, what)
		return
	}
	require.NotNil(t, got, what)
	require.True(t, want.Equal(got.AsTime()), "%s: want %s, got %s", what, want, got.AsTime())
}

func TestCountViolationsOrdersRowsAndWindows(t *testing.T) {
	a := buildSeries(15, mark{1, 25})
	a.Labels, a.ID = map[string]string{"instance": "b"}, "id-b"
	b := buildSeries(15)
	b.Labels, b.ID = map[string]string{"instance": "a"}, "id-a"
	o1 := &slapipev1.Objective{Name: "first", Max: proto.Float64(20)}
	o2 := &slapipev1.Objective{Name: "second", Min: proto.Float64(0)}
	resp := countViolations([]objectivePull{
		{objective: o1, metric: "m", series: []promSeries{a, b}},
		{objective: o2, metric: "n"},
	}, testEnd, testEnd)
	require.Len(t, resp.Windows, 3)
	for i, w := range []string{"1h", "3h", "12h"} {
		rows := resp.Windows[i].Rows
		require.Equal(t, w, resp.Windows[i].Window)
		require.Len(t, rows, 2, "objective without series has no rows")
		require.Equal(t, []string{"id-a", "id-b"}, []string{rows[0].SeriesId, rows[1].SeriesId}, "ordered by labels")
		require.Equal(t, map[string]string{"instance": "a"}, rows[0].Labels, "the series' labels")
		require.Equal(t, "first", rows[1].Objective)
		require.Equal(t, "m", rows[1].Metric)
		require.Equal(t, w, rows[1].Window)
		require.Equal(t, int64(1), rows[1].SamplesOut)
	}
	f := filterWindow(resp, "3h")
	require.Len(t, f.Windows, 1)
	require.Equal(t, "3h", f.Windows[0].Window)
}

func TestAlignDown(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 7, 300, time.UTC)
	require.Equal(t, time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC), alignDown(at, 5*time.Second).UTC())
	require.Equal(t, testEnd, alignDown(testEnd, 5*time.Second).UTC())
}

func TestCountWindowEdges(t *testing.T) {
	both := bounds{min: f64(10), max: f64(20)}
	s := buildSeries(15, mark{5, 99}, mark{720, 99})
	// Ending 10 steps early drops the out sample at ago 5 and brings the
	// one at ago 720 inside the hour.
	got := countWindow(&s, both, testEnd.Add(-10*testStep), time.Hour)
	require.Equal(t, int64(720), got.Samples)
	require.Equal(t, int64(1), got.SamplesOut)
	requireTime(t, ago(720), got.FirstViolation, "first_violation")

	// A series that starts 100 steps before the end: all 101 points are in
	// every window.
	short := promSeries{Start: testEnd.Add(-100 * testStep), Step: testStep, Values: make([]float64, 101)}
	for _, w := range slapipev1.Windows {
		require.Equal(t, int64(101), countWindow(&short, both, testEnd, w.Duration).Samples, w.Name)
	}
	// An end before the series starts sees nothing.
	require.Equal(t, int64(0), countWindow(&short, both, testEnd.Add(-time.Hour), time.Hour).Samples)
}
