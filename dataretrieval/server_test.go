package dataretrieval

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// fixture is a served, seeded store of one dialect.
type fixture struct {
	client slapipev1.DataRetrievalClient
	conn   *grpc.ClientConn
	data   seeded
}

func eachDialect(t *testing.T, fn func(t *testing.T, f fixture)) {
	for _, d := range testkit.Dialects {
		t.Run(d, func(t *testing.T) {
			st := testkit.Store(t, d)
			data := seed(t, st)
			conn := serve(t, st)
			fn(t, fixture{client: slapipev1.NewDataRetrievalClient(conn), conn: conn, data: data})
		})
	}
}

// wantRef is the reference to m the service should return, built here
// rather than with the production helper so that a bug there shows.
func wantRef(m *slapipev1.SeriesAnalysis) *slapipev1.SeriesRef {
	return &slapipev1.SeriesRef{SeriesId: m.SeriesId, Metric: m.Metric, Labels: m.Labels,
		Transform: m.Transform, MetricType: m.MetricType}
}

// seedTime is hour:00:sec on the day seed writes its runs.
func seedTime(hour, sec int) time.Time {
	return time.Date(2026, 11, 23, hour, 0, sec, 0, time.UTC)
}

func byMetric(name string) func(*slapipev1.SeriesAnalysis) bool {
	return func(m *slapipev1.SeriesAnalysis) bool { return m.GetMetric() == name }
}

func all(*slapipev1.SeriesAnalysis) bool { return true }

func TestListMetrics(t *testing.T) {
	eachDialect(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		cases := []struct {
			name, filter, run string
			wantRun           string
			want              []string // names with their series counts "name=n"
		}{
			{"latest run", "", "", "run-b", []string{"node_disk_written_bytes_total=3", "node_memory_Active_bytes=2",
				"node_memory_MemFree_bytes=1", "node_network_receive_packets_total=4"}},
			{"filter", "node_memory_.*", "", "run-b", []string{"node_memory_Active_bytes=2", "node_memory_MemFree_bytes=1"}},
			{"filter matches whole name", "node_memory", "", "run-b", nil},
			{"older run", "", "run-a", "run-a", []string{"node_disk_written_bytes_total=1", "node_memory_MemFree_bytes=1"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				resp, err := f.client.ListMetrics(ctx, &slapipev1.ListMetricsRequest{NameFilter: c.filter, RunId: c.run})
				require.NoError(t, err)
				require.Equal(t, c.wantRun, resp.GetRunId())
				require.Empty(t, resp.GetNextPageToken())
				var got []string
				for _, m := range resp.GetMetrics() {
					got = append(got, fmt.Sprintf("%s=%d", m.GetName(), m.GetSeries()))
					for _, sm := range seedMetrics {
						if sm.name == m.GetName() {
							require.Equal(t, sm.typ, m.GetMetricType())
							require.Equal(t, sm.transform, m.GetTransform())
						}
					}
				}
				require.Equal(t, c.want, got)
			})
		}
		t.Run("pages", func(t *testing.T) {
			var names []string
			req := &slapipev1.ListMetricsRequest{PageSize: 1}
			for page := 0; ; page++ {
				require.Less(t, page, 10, "pagination does not end")
				resp, err := f.client.ListMetrics(ctx, req)
				require.NoError(t, err)
				require.Len(t, resp.GetMetrics(), 1)
				require.Equal(t, "run-b", resp.GetRunId())
				names = append(names, resp.GetMetrics()[0].GetName())
				if resp.GetNextPageToken() == "" {
					break
				}
				req.PageToken = resp.GetNextPageToken()
			}
			require.Equal(t, []string{"node_disk_written_bytes_total", "node_memory_Active_bytes",
				"node_memory_MemFree_bytes", "node_network_receive_packets_total"}, names)
		})
	})
}

func TestListSeries(t *testing.T) {
	eachDialect(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		cases := []struct {
			name, metric, run string
			pageSize          int32
			want              []*slapipev1.SeriesAnalysis
		}{
			{"all of latest", "", "", 0, f.data.of("run-b", all)},
			{"one metric", "node_network_receive_packets_total", "", 0, f.data.of("run-b", byMetric("node_network_receive_packets_total"))},
			{"pages of 3", "", "", 3, f.data.of("run-b", all)},
			{"older run in pages of 1", "", "run-a", 1, f.data.of("run-a", all)},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var got []*slapipev1.SeriesRef
				req := &slapipev1.ListSeriesRequest{Metric: c.metric, RunId: c.run, PageSize: c.pageSize}
				for page := 0; ; page++ {
					require.Less(t, page, 20, "pagination does not end")
					resp, err := f.client.ListSeries(ctx, req)
					require.NoError(t, err)
					if c.pageSize > 0 {
						require.LessOrEqual(t, len(resp.GetSeries()), int(c.pageSize))
					}
					got = append(got, resp.GetSeries()...)
					if resp.GetNextPageToken() == "" {
						break
					}
					req.PageToken = resp.GetNextPageToken()
					req.RunId = "" // the token carries the run
				}
				require.Len(t, got, len(c.want))
				for i, m := range c.want {
					requireProtoEqual(t, wantRef(m), got[i], fmt.Sprintf("series %d", i))
				}
			})
		}
	})
}

// TestSeriesQueries checks the three SeriesQuery calls against the seeded
// messages, selected by metric and by series id, in the latest and an
// older run.
func TestSeriesQueries(t *testing.T) {
	eachDialect(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		one := f.data.byRun["run-b"][4]
		cases := []struct {
			name    string
			q       *slapipev1.SeriesQuery
			wantRun string
			// wantComputed follows seed: series i of a run starting at
			// start is computed at start+(30+i)s; run-a starts 10:00,
			// run-b 11:00.
			wantComputed time.Time
			want         []*slapipev1.SeriesAnalysis
		}{
			{"metric", &slapipev1.SeriesQuery{Metric: "node_disk_written_bytes_total"}, "run-b",
				seedTime(11, 32), f.data.of("run-b", byMetric("node_disk_written_bytes_total"))},
			// one is the second (i=1) node_memory_Active_bytes series of run-b.
			{"series", &slapipev1.SeriesQuery{SeriesId: one.GetSeriesId()}, "run-b",
				seedTime(11, 31), []*slapipev1.SeriesAnalysis{one}},
			{"metric in older run", &slapipev1.SeriesQuery{Metric: "node_memory_MemFree_bytes", RunId: "run-a"}, "run-a",
				seedTime(10, 30), f.data.of("run-a", byMetric("node_memory_MemFree_bytes"))},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				require.NotEmpty(t, c.want)
				stats, err := f.client.GetStats(ctx, c.q)
				require.NoError(t, err)
				meta, err := f.client.GetMetadata(ctx, c.q)
				require.NoError(t, err)
				fc, err := f.client.GetForecast(ctx, c.q)
				require.NoError(t, err)
				for _, run := range []string{stats.GetRunId(), meta.GetRunId(), fc.GetRunId()} {
					require.Equal(t, c.wantRun, run)
				}
				for what, got := range map[string]*timestamppb.Timestamp{"stats": stats.GetComputedAt(),
					"metadata": meta.GetComputedAt(), "forecast": fc.GetComputedAt()} {
					require.NotNil(t, got, what)
					require.Equal(t, c.wantComputed, got.AsTime(), what)
				}
				require.Len(t, stats.GetSeries(), len(c.want))
				require.Len(t, meta.GetSeries(), len(c.want))
				require.Len(t, fc.GetSeries(), len(c.want))
				for i, m := range c.want {
					requireProtoEqual(t, &slapipev1.SeriesStats{Series: wantRef(m), Windows: m.GetWindows()},
						stats.GetSeries()[i], "stats")
					requireProtoEqual(t, &slapipev1.SeriesMetadata{Series: wantRef(m), Adf: m.GetAdf(), Acf: m.GetAcf(),
						Seasonality: m.GetSeasonality(), SeasonCheck: m.GetSeasonCheck()}, meta.GetSeries()[i], "metadata")
					requireProtoEqual(t, &slapipev1.SeriesForecast{Series: wantRef(m), Forecast: m.GetForecast(),
						RangeEnd: m.GetRangeEnd(), StepSeconds: m.GetStepSeconds()}, fc.GetSeries()[i], "forecast")
				}
			})
		}
	})
}

func TestListRuns(t *testing.T) {
	eachDialect(t, func(t *testing.T, f fixture) {
		for _, limit := range []int32{0, 1, 1000} {
			resp, err := f.client.ListRuns(context.Background(), &slapipev1.ListRunsRequest{Limit: limit})
			require.NoError(t, err)
			want := f.data.runs
			if limit == 1 {
				want = want[:1]
			}
			require.Len(t, resp.GetRuns(), len(want))
			for i := range want {
				requireProtoEqual(t, want[i], resp.GetRuns()[i], fmt.Sprintf("limit %d run %d", limit, i))
			}
		}
	})
}

func TestErrors(t *testing.T) {
	eachDialect(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		c := f.client
		seriesTok, err := c.ListSeries(ctx, &slapipev1.ListSeriesRequest{PageSize: 1})
		require.NoError(t, err)
		require.NotEmpty(t, seriesTok.GetNextPageToken())
		cases := []struct {
			name     string
			call     func() error
			code     codes.Code
			contains string
		}{
			{"negative page size", func() error {
				_, err := c.ListMetrics(ctx, &slapipev1.ListMetricsRequest{PageSize: -1})
				return err
			}, codes.InvalidArgument, "page_size"},
			{"page size over 1000", func() error {
				_, err := c.ListSeries(ctx, &slapipev1.ListSeriesRequest{PageSize: 1001})
				return err
			}, codes.InvalidArgument, "page_size: must be in 1..1000"},
			{"garbage token", func() error {
				_, err := c.ListMetrics(ctx, &slapipev1.ListMetricsRequest{PageToken: "!!not-a-token"})
				return err
			}, codes.InvalidArgument, "page token \"!!not-a-token\": invalid argument: not a token of this list"},
			{"token of another list", func() error {
				_, err := c.ListMetrics(ctx, &slapipev1.ListMetricsRequest{PageToken: seriesTok.GetNextPageToken()})
				return err
			}, codes.InvalidArgument, "not a token of this list"},
			{"token of another run", func() error {
				_, err := c.ListSeries(ctx, &slapipev1.ListSeriesRequest{PageToken: seriesTok.GetNextPageToken(), RunId: "run-a"})
				return err
			}, codes.InvalidArgument, "page token is for run \"run-b\", not \"run-a\""},
			{"bad regexp", func() error {
				_, err := c.ListMetrics(ctx, &slapipev1.ListMetricsRequest{NameFilter: "node_(cpu"})
				return err
			}, codes.InvalidArgument, "missing closing )"},
			{"neither metric nor series", func() error {
				_, err := c.GetStats(ctx, &slapipev1.SeriesQuery{})
				return err
			}, codes.InvalidArgument, "got neither"},
			{"both metric and series", func() error {
				_, err := c.GetForecast(ctx, &slapipev1.SeriesQuery{Metric: "node_load1", SeriesId: "abc"})
				return err
			}, codes.InvalidArgument, "got both"},
			{"metric name over 255 bytes", func() error {
				_, err := c.GetMetadata(ctx, &slapipev1.SeriesQuery{Metric: strings.Repeat("m", 256)})
				return err
			}, codes.InvalidArgument, "not a metric name"},
			{"metric name with a selector is a name the store lacks", func() error {
				_, err := c.GetMetadata(ctx, &slapipev1.SeriesQuery{Metric: `node_load1{job="x"}`})
				return err
			}, codes.NotFound, `node_load1{job=\"x\"}`},
			{"unknown UTF-8 metric name", func() error {
				_, err := c.ListSeries(ctx, &slapipev1.ListSeriesRequest{Metric: "node.humidity_%"})
				return err
			}, codes.NotFound, "node.humidity_%"},
			{"run id with a trailing space", func() error {
				_, err := c.GetStats(ctx, &slapipev1.SeriesQuery{Metric: "node_load1", RunId: "run-a "})
				return err
			}, codes.InvalidArgument, "run_id \"run-a \": invalid argument: leading or trailing space"},
			{"series id with a control character", func() error {
				_, err := c.GetStats(ctx, &slapipev1.SeriesQuery{SeriesId: "a\tb"})
				return err
			}, codes.InvalidArgument, "series_id"},
			{"run id with an inner space is a run the store lacks", func() error {
				_, err := c.ListMetrics(ctx, &slapipev1.ListMetricsRequest{RunId: "run a"})
				return err
			}, codes.NotFound, "run a"},
			{"bad limit", func() error {
				_, err := c.ListRuns(ctx, &slapipev1.ListRunsRequest{Limit: -5})
				return err
			}, codes.InvalidArgument, "limit"},
			{"unknown metric", func() error {
				_, err := c.GetStats(ctx, &slapipev1.SeriesQuery{Metric: "node_nonexistent"})
				return err
			}, codes.NotFound, "node_nonexistent"},
			{"unknown metric in list", func() error {
				_, err := c.ListSeries(ctx, &slapipev1.ListSeriesRequest{Metric: "node_nonexistent"})
				return err
			}, codes.NotFound, "node_nonexistent"},
			{"unknown series", func() error {
				_, err := c.GetForecast(ctx, &slapipev1.SeriesQuery{SeriesId: "ffffffff"})
				return err
			}, codes.NotFound, "ffffffff"},
			{"unknown run", func() error {
				_, err := c.ListMetrics(ctx, &slapipev1.ListMetricsRequest{RunId: "run-zzz"})
				return err
			}, codes.NotFound, "run-zzz"},
			{"metric absent from older run", func() error {
				_, err := c.GetMetadata(ctx, &slapipev1.SeriesQuery{Metric: "node_memory_Active_bytes", RunId: "run-a"})
				return err
			}, codes.NotFound, "node_memory_Active_bytes"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.call()
				require.Equal(t, tc.code, status.Code(err), "error: %v", err)
				require.Contains(t, status.Convert(err).Message(), tc.contains)
			})
		}
	})
}

// TestUTF8MetricName checks that a metric name outside the legacy
// Prometheus charset, as the ETL writes for Prometheus 3 (store testdata
// edge_cases.jsonl), is answered like any other.
func TestUTF8MetricName(t *testing.T) {
	const name = "node.temperature_°C"
	for _, d := range testkit.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st := testkit.Store(t, d)
			a := fixtures.Analysis()
			a.RunId, a.Metric, a.SeriesId = "run-u", name, "75746638"
			a.Labels = map[string]string{"instance": "backfill:9100", "sensor": "cpu"}
			require.NoError(t, st.WriteAnalyses(ctx, []*slapipev1.SeriesAnalysis{a}))
			c := slapipev1.NewDataRetrievalClient(serve(t, st))

			stats, err := c.GetStats(ctx, &slapipev1.SeriesQuery{Metric: name})
			require.NoError(t, err)
			require.Equal(t, "run-u", stats.GetRunId())
			require.Len(t, stats.GetSeries(), 1)
			requireProtoEqual(t, &slapipev1.SeriesStats{Series: wantRef(a), Windows: a.GetWindows()},
				stats.GetSeries()[0], "stats")
			list, err := c.ListSeries(ctx, &slapipev1.ListSeriesRequest{Metric: name})
			require.NoError(t, err)
			require.Len(t, list.GetSeries(), 1)
			require.Equal(t, name, list.GetSeries()[0].GetMetric())
			require.Equal(t, "75746638", list.GetSeries()[0].GetSeriesId())
		})
	}
}

func TestEmptyStoreIsNotFound(t *testing.T) {
	conn := serve(t, testkit.Store(t, store.DialectSQLite))
	c := slapipev1.NewDataRetrievalClient(conn)
	_, err := c.ListMetrics(context.Background(), &slapipev1.ListMetricsRequest{})
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
	_, err = c.GetStats(context.Background(), &slapipev1.SeriesQuery{Metric: "node_load1"})
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
	resp, err := c.ListRuns(context.Background(), &slapipev1.ListRunsRequest{})
	require.NoError(t, err)
	require.Empty(t, resp.GetRuns())
}

// brokenStore fails every call with err.
type brokenStore struct{ err error }

func (b brokenStore) ListRuns(context.Context, int) ([]*slapipev1.Run, error) {
	return nil, b.err
}
func (b brokenStore) ListMetrics(context.Context, string, string, store.Page) ([]*slapipev1.StoredMetric, string, string, error) {
	return nil, "", "", b.err
}
func (b brokenStore) ListSeries(context.Context, string, string, store.Page) ([]*slapipev1.SeriesRef, string, string, error) {
	return nil, "", "", b.err
}
func (b brokenStore) AnalysesPage(context.Context, store.Query, store.Page) (string, []*slapipev1.SeriesAnalysis, string, error) {
	return "", nil, "", b.err
}

func TestStoreFailures(t *testing.T) {
	refused := fmt.Errorf("listing runs: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	cases := []struct {
		name string
		err  error
		code codes.Code
	}{
		{"database unreachable", refused, codes.Unavailable},
		{"bad connection", fmt.Errorf("query: %w", driver.ErrBadConn), codes.Unavailable},
		{"query failed", errors.New("Error 1146 (42S02): Table 'runs' doesn't exist"), codes.Internal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client := slapipev1.NewDataRetrievalClient(serve(t, brokenStore{c.err}))
			ctx := context.Background()
			calls := map[string]func() error{
				"ListRuns": func() error {
					_, err := client.ListRuns(ctx, &slapipev1.ListRunsRequest{})
					return err
				},
				"ListMetrics": func() error {
					_, err := client.ListMetrics(ctx, &slapipev1.ListMetricsRequest{})
					return err
				},
				"GetStats": func() error {
					_, err := client.GetStats(ctx, &slapipev1.SeriesQuery{Metric: "node_load1"})
					return err
				},
			}
			for name, call := range calls {
				err := call()
				require.Equal(t, c.code, status.Code(err), "%s: %v", name, err)
				require.Contains(t, status.Convert(err).Message(), "reading the store", name)
				require.Contains(t, status.Convert(err).Message(), c.err.Error(), name)
			}
		})
	}
}

func TestHealthAndReflection(t *testing.T) {
	conn := serve(t, testkit.Store(t, store.DialectSQLite))
	ctx := context.Background()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: slapipev1.DataRetrieval_ServiceDesc.ServiceName})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())

	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "slapipe.v1.DataRetrieval"},
	}))
	r, err := stream.Recv()
	require.NoError(t, err)
	require.NotEmpty(t, r.GetFileDescriptorResponse().GetFileDescriptorProto(), "reflection: %v", r)
	require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"},
	}))
	r, err = stream.Recv()
	require.NoError(t, err)
	var names []string
	for _, s := range r.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	sort.Strings(names)
	require.Contains(t, strings.Join(names, ","), "slapipe.v1.DataRetrieval")
}
