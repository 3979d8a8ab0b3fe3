package deploy

import (
	"context"
	"net/http"
	"sort"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/internal/testing/testkit"
)

// scrape reads one /metrics endpoint as Prometheus would (text format).
func scrape(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, url)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err, url)
	return mfs
}

// TestComponentMetricsAfterRun scrapes each component's /metrics after the
// pipeline run and finds issue 7's metrics with the values the run must
// have produced: counters and histograms non-zero, the lag gauge present.
func TestComponentMetricsAfterRun(t *testing.T) {
	p := runPipeline(t)
	scraped := map[string]map[string]*dto.MetricFamily{}
	for name, url := range p.metricsURL {
		scraped[name] = scrape(t, url)
	}
	cases := []struct {
		component, metric string
		typ               dto.MetricType
		nonZero           bool
	}{
		{"slamanager", "slapipe_etl_runs_total", dto.MetricType_COUNTER, true},
		{"slamanager", "slapipe_etl_stage_duration_seconds", dto.MetricType_HISTOGRAM, true},
		{"slamanager", "slapipe_etl_series_analysed_total", dto.MetricType_COUNTER, true},
		{"slamanager", "slapipe_etl_messages_produced_total", dto.MetricType_COUNTER, true},
		{"slamanager", "slapipe_slamanager_etl_runs_total", dto.MetricType_COUNTER, true},
		{"slamanager", "slapipe_slamanager_violations_computed_total", dto.MetricType_COUNTER, true},
		{"slamanager", "grpc_server_handled_total", dto.MetricType_COUNTER, true},
		{"slamanager", "grpc_server_handling_seconds", dto.MetricType_HISTOGRAM, true},
		{"datastorage", "slapipe_datastorage_messages_consumed_total", dto.MetricType_COUNTER, true},
		{"datastorage", "slapipe_datastorage_batch_size", dto.MetricType_HISTOGRAM, true},
		{"datastorage", "slapipe_datastorage_write_duration_seconds", dto.MetricType_HISTOGRAM, true},
		{"datastorage", "slapipe_datastorage_consumer_lag", dto.MetricType_GAUGE, false},
		{"datastorage", "slapipe_datastorage_dlq_messages_total", dto.MetricType_COUNTER, true},
		{"dataretrieval", "grpc_server_handled_total", dto.MetricType_COUNTER, true},
		{"dataretrieval", "grpc_server_handling_seconds", dto.MetricType_HISTOGRAM, true},
	}
	for _, c := range cases {
		t.Run(c.component+"/"+c.metric, func(t *testing.T) {
			mf, ok := scraped[c.component][c.metric]
			require.True(t, ok, "%s does not expose %s", c.component, c.metric)
			require.Equal(t, c.typ, mf.GetType())
			require.NotEmpty(t, mf.GetMetric(), "%s has series", c.metric)
			if c.nonZero {
				require.Positive(t, testkit.FamilySum(mf), "%s after a run", c.metric)
			}
		})
	}

	// What the run must have counted, known from the run itself.
	etl := scraped["slamanager"]
	require.Equal(t, float64(p.run.GetSeries()), testkit.FamilySum(etl["slapipe_etl_series_analysed_total"]))
	require.Equal(t, float64(p.run.GetSeries()+1), testkit.FamilySum(etl["slapipe_etl_messages_produced_total"]),
		"one message per series and one run record")
	require.Equal(t, 1.0, testkit.FamilySum(scraped["datastorage"]["slapipe_datastorage_dlq_messages_total"]), "the one garbage message")
	consumed := testkit.FamilySum(scraped["datastorage"]["slapipe_datastorage_messages_consumed_total"])
	require.Equal(t, float64(p.run.GetSeries()+2), consumed, "the run's messages and the garbage one")
}

// TestPipelineHealthMetricsExist checks that every metric the Pipeline
// health dashboard queries is exposed by some component after a run, so
// no panel stays empty because of a renamed metric.
func TestPipelineHealthMetricsExist(t *testing.T) {
	p := runPipeline(t)
	exposed := map[string]bool{"up": true} // added by Prometheus to every scrape
	for _, url := range p.metricsURL {
		for name := range scrape(t, url) {
			exposed[name] = true
		}
	}
	var queried []string
	for _, pn := range loadDashboards(t)["pipeline-health.json"].allPanels() {
		for _, tg := range pn.Targets {
			if tg.Expr == "" {
				continue
			}
			for _, name := range promMetricNames(t, tg.Expr) {
				queried = append(queried, name)
				require.True(t, exposed[familyOf(name)], "panel %q queries %s, which no component exposes", pn.Title, name)
			}
		}
	}
	sort.Strings(queried)
	t.Logf("dashboard metrics all exposed: %v", queried)
	require.NotEmpty(t, queried)
}
