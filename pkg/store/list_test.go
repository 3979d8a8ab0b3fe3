package store

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// metricNames lists the names of ms.
func metricNames(ms []*slapipev1.StoredMetric) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func TestListMetrics(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		// 24 series: 4 of each of the 6 test metrics.
		require.NoError(t, s.WriteAnalyses(ctx, genBatch(20, "run-1", 24, t0, realistic)))
		all := []string{"node_cpu_seconds_total", "node_disk_written_bytes_total", "node_filesystem_avail_bytes",
			"node_load1", "node_memory_MemFree_bytes", "node_network_receive_packets_total"}
		cases := []struct {
			name, filter string
			want         []string
		}{
			{"all", "", all},
			{"counters", "node_.*_total", []string{"node_cpu_seconds_total", "node_disk_written_bytes_total",
				"node_network_receive_packets_total"}},
			{"whole name only", "node_load", nil},
			{"alternation", "node_load1|node_memory_.*", []string{"node_load1", "node_memory_MemFree_bytes"}},
			{"injection-looking filter is just a regexp", "x' OR '1'='1", nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, run, next, err := s.ListMetrics(ctx, "", c.filter, Page{})
				require.NoError(t, err)
				require.Equal(t, "run-1", run, "the latest run")
				require.Empty(t, next)
				require.Equal(t, c.want, metricNames(got))
			})
		}

		got, _, _, err := s.ListMetrics(ctx, "run-1", "node_load1", Page{})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, &slapipev1.StoredMetric{Name: "node_load1", MetricType: "gauge", Transform: "raw", Series: 4},
			&slapipev1.StoredMetric{Name: got[0].Name, MetricType: got[0].MetricType, Transform: got[0].Transform, Series: got[0].Series})

		// Pages of 2 over 6 names, then a newer run arrives: the remaining
		// pages stay on the run of the first.
		page, _, tok, err := s.ListMetrics(ctx, "", "", Page{Size: 2})
		require.NoError(t, err)
		require.NotEmpty(t, tok)
		names := metricNames(page)
		newer := genBatch(21, "run-2", 1, t0.Add(time.Hour), realistic)
		newer[0].Metric = "aaa_first_in_run_2"
		require.NoError(t, s.WriteAnalyses(ctx, newer))
		for tok != "" {
			var run string
			page, run, tok, err = s.ListMetrics(ctx, "", "", Page{Size: 2, Token: tok})
			require.NoError(t, err)
			require.Equal(t, "run-1", run, "later pages stay on the first page's run")
			names = append(names, metricNames(page)...)
		}
		require.Equal(t, all, names)

		// With a filter, pages fill from matches only.
		page, _, tok, err = s.ListMetrics(ctx, "run-1", "node_.*_total", Page{Size: 2})
		require.NoError(t, err)
		require.Len(t, page, 2)
		page2, _, tok2, err := s.ListMetrics(ctx, "run-1", "node_.*_total", Page{Size: 2, Token: tok})
		require.NoError(t, err)
		require.Equal(t, []string{"node_network_receive_packets_total"}, metricNames(page2))
		require.Empty(t, tok2)

		bad := []struct {
			name, run, filter string
			p                 Page
		}{
			{"bad regexp", "", "node_(", Page{}},
			{"garbage token", "", "", Page{Token: "not a token"}},
			{"series token", "", "", Page{Token: pageToken{Kind: "series", Run: "run-1"}.encode()}},
			{"token of another run", "run-2", "", Page{Token: tok}},
			{"negative size", "", "", Page{Size: -1}},
		}
		for _, c := range bad {
			t.Run(c.name, func(t *testing.T) {
				_, _, _, err := s.ListMetrics(ctx, c.run, c.filter, c.p)
				require.ErrorIs(t, err, ErrInvalidArgument)
			})
		}
		_, _, _, err = s.ListMetrics(ctx, "no-such-run", "", Page{})
		require.ErrorIs(t, err, ErrNotFound)
	})
}

func TestListSeries(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		msgs := genBatch(22, "run-s", 24, t0, realistic)
		require.NoError(t, s.WriteAnalyses(ctx, msgs))
		want := sortedByMetric(msgs)

		for _, size := range []int{1, 5, 24, 0} {
			var got []*slapipev1.SeriesRef
			tok, pages := "", 0
			for {
				page, _, next, err := s.ListSeries(ctx, "", "", Page{Size: size, Token: tok})
				require.NoError(t, err)
				got, pages = append(got, page...), pages+1
				if next == "" {
					break
				}
				tok = next
			}
			require.Len(t, got, len(want), "page size %d", size)
			for i, m := range want {
				requireProtoEqual(t, &slapipev1.SeriesRef{SeriesId: m.SeriesId, Metric: m.Metric, Labels: m.Labels,
					Transform: m.Transform, MetricType: m.MetricType}, got[i], "page size %d, series %d", size, i)
			}
			if size == 5 {
				require.Equal(t, 5, pages)
			}
		}

		page, _, next, err := s.ListSeries(ctx, "run-s", "node_load1", Page{Size: 3})
		require.NoError(t, err)
		require.Len(t, page, 3)
		rest, _, next2, err := s.ListSeries(ctx, "run-s", "node_load1", Page{Size: 3, Token: next})
		require.NoError(t, err)
		require.Len(t, rest, 1)
		require.Empty(t, next2)
		ids := []string{page[0].SeriesId, page[1].SeriesId, page[2].SeriesId, rest[0].SeriesId}
		require.True(t, sort.StringsAreSorted(ids))
		for _, r := range append(page, rest...) {
			require.Equal(t, "node_load1", r.Metric)
		}

		_, _, _, err = s.ListSeries(ctx, "", "node_nope", Page{})
		require.ErrorIs(t, err, ErrNotFound)
		_, _, _, err = s.ListSeries(ctx, "", "'; DROP TABLE series; --", Page{})
		require.ErrorIs(t, err, ErrNotFound)
		_, _, _, err = s.ListSeries(ctx, "", "", Page{Token: pageToken{Kind: "metrics", Run: "run-s"}.encode()})
		require.ErrorIs(t, err, ErrInvalidArgument)
		require.Equal(t, 24, countRows(t, s)["series"])
	})
}

func TestInjectionLookingValuesAreData(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m := genBatch(23, "r'); DELETE FROM runs; --", 1, t0, realistic)[0]
		m.Metric = `node_x"; DROP TABLE analyses; --`
		m.SeriesId = "' OR '1'='1"
		m.Labels = map[string]string{"job": "'; TRUNCATE series; --", `k"\`: `\'`}
		require.NoError(t, s.WriteAnalyses(ctx, []*slapipev1.SeriesAnalysis{m}))
		run, got, err := s.Analyses(ctx, Query{Metric: m.Metric, SeriesID: m.SeriesId})
		require.NoError(t, err)
		require.Equal(t, m.RunId, run)
		requireSameAnalyses(t, []*slapipev1.SeriesAnalysis{m}, got)
		metrics, _, _, err := s.ListMetrics(ctx, m.RunId, `node_x".*`, Page{})
		require.NoError(t, err)
		require.Equal(t, []string{m.Metric}, metricNames(metrics))
		refs, _, _, err := s.ListSeries(ctx, m.RunId, m.Metric, Page{})
		require.NoError(t, err)
		require.Len(t, refs, 1)
		require.Equal(t, m.Labels, refs[0].Labels)
		n := countRows(t, s)
		require.Equal(t, 1, n["analyses"])
		require.Equal(t, 1, n["runs"])
	})
}

func TestNameFilterCannotEscapeItsAnchors(t *testing.T) {
	for _, f := range []string{"a)|(.*", ")|(", "a)(?:b"} {
		_, err := CompileNameFilter(f)
		require.ErrorIs(t, err, ErrInvalidArgument, "filter %q", f)
	}
	re, err := CompileNameFilter("a|b")
	require.NoError(t, err)
	require.True(t, re.MatchString("b"))
	require.False(t, re.MatchString("ab"), "alternatives stay anchored")
	_, err = decodeToken(strings.Repeat("A", maxTokenLen+1), "series")
	require.ErrorIs(t, err, ErrInvalidArgument)
}
