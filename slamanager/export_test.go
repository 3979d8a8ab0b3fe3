package slamanager

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestExportedSLAMetrics evaluates a set over known series and reads the
// slapipe_sla_* families back from the registry: values known by
// construction, the series' labels (a colliding one renamed), and series
// that leave the answers leave /metrics.
func TestExportedSLAMetrics(t *testing.T) {
	fs := buildSeries(200, mark{0, 50}, mark{1, 50}, mark{2, 50}, mark{1000, 10})
	fs.Metric, fs.ID = "node_filesystem_avail_bytes", "fs-1"
	fs.Labels = map[string]string{"mountpoint": "/", "objective": "theirs"}
	load := buildSeries(1)
	load.Metric, load.ID, load.Labels = "node_load1", "load-1", map[string]string{"instance": "a"}
	src := &fakeSource{series: map[string][]promSeries{"node_filesystem_avail_bytes": {fs}, "node_load1": {load}}}
	// The forecast of the filesystem series falls by 1 per step from 150
	// and crosses 100 at step 51, 255 s after testEnd (now); load's stays at 1.
	fcFS := forecastMsg("node_filesystem_avail_bytes", fs.Labels, 120, 0.001, func(k int) float64 { return 150 - float64(k) })
	fcLoad := forecastMsg("node_load1", load.Labels, 120, 0.001, func(int) float64 { return 1 })
	fcFS.SeriesId, fcLoad.SeriesId = fs.ID, load.ID
	fcFS.ComputedAt, fcLoad.ComputedAt = timestamppb.New(testEnd.Add(-90*time.Second)), timestamppb.New(testEnd.Add(-90*time.Second))
	st := &memStore{runID: "run-1", analyses: []*slapipev1.SeriesAnalysis{fcFS, fcLoad}, sets: []*slapipev1.SLASet{{Version: 1,
		Objectives: []*slapipev1.Objective{
			{Name: "fs", Selector: "node_filesystem_avail_bytes", Min: proto.Float64(100)},
			{Name: "load", Selector: "node_load1", Max: proto.Float64(4)},
		}}}}
	reg := prometheus.NewPedanticRegistry()
	m, err := New(Config{}, Deps{Store: st, Source: src, Registerer: reg})
	require.NoError(t, err)
	m.now = func() time.Time { return testEnd }
	m.evaluate(context.Background())

	const fsLabels = `exported_objective="theirs",metric="node_filesystem_avail_bytes",mountpoint="/",objective="fs"`
	const loadLabels = `instance="a",metric="node_load1",objective="load"`
	// The last 3 samples are out (15 s in every window, out now); the one
	// 1000 steps ago (83 min) is in the 3 h and 12 h windows only. The 1 h
	// window holds 720 samples, 3 h 2160, 12 h 8640.
	want := `
# HELP slapipe_sla_compliance_ratio Share of the window's samples inside the objective's bounds, per objective, series and window (1h, 3h, 12h).
# TYPE slapipe_sla_compliance_ratio gauge
slapipe_sla_compliance_ratio{` + fsLabels + `,window="1h"} ` + ratio(717, 720) + `
slapipe_sla_compliance_ratio{` + fsLabels + `,window="3h"} ` + ratio(2156, 2160) + `
slapipe_sla_compliance_ratio{` + fsLabels + `,window="12h"} ` + ratio(8636, 8640) + `
slapipe_sla_compliance_ratio{` + loadLabels + `,window="1h"} 1
slapipe_sla_compliance_ratio{` + loadLabels + `,window="3h"} 1
slapipe_sla_compliance_ratio{` + loadLabels + `,window="12h"} 1
# HELP slapipe_sla_out_of_range 1 when the series' latest sample is outside the objective's bounds, else 0.
# TYPE slapipe_sla_out_of_range gauge
slapipe_sla_out_of_range{` + fsLabels + `} 1
slapipe_sla_out_of_range{` + loadLabels + `} 0
# HELP slapipe_sla_out_of_range_seconds Seconds out of the objective's bounds within the window (samples out times the step), per objective, series and window.
# TYPE slapipe_sla_out_of_range_seconds gauge
slapipe_sla_out_of_range_seconds{` + fsLabels + `,window="1h"} 15
slapipe_sla_out_of_range_seconds{` + fsLabels + `,window="3h"} 20
slapipe_sla_out_of_range_seconds{` + fsLabels + `,window="12h"} 20
slapipe_sla_out_of_range_seconds{` + loadLabels + `,window="1h"} 0
slapipe_sla_out_of_range_seconds{` + loadLabels + `,window="3h"} 0
slapipe_sla_out_of_range_seconds{` + loadLabels + `,window="12h"} 0
# HELP slapipe_sla_violation_probability Probability that the series leaves the objective's bounds within the prediction horizon (600 s), from the latest stored forecast.
# TYPE slapipe_sla_violation_probability gauge
slapipe_sla_violation_probability{` + fsLabels + `} 1
slapipe_sla_violation_probability{` + loadLabels + `} 0
# HELP slapipe_sla_first_crossing_seconds Seconds from now to the first forecast point outside the bounds (0 when already past); absent when the forecast stays inside.
# TYPE slapipe_sla_first_crossing_seconds gauge
slapipe_sla_first_crossing_seconds{` + fsLabels + `} 255
# HELP slapipe_sla_evaluation_age_seconds Age of what the slapipe_sla_* series show, by kind: violations (counted from Prometheus), predictions (the forecast they come from).
# TYPE slapipe_sla_evaluation_age_seconds gauge
slapipe_sla_evaluation_age_seconds{kind="predictions"} 90
slapipe_sla_evaluation_age_seconds{kind="violations"} 0
# HELP slapipe_sla_series_omitted Objective and series pairs left out of the slapipe_sla_* families by the export limit.
# TYPE slapipe_sla_series_omitted gauge
slapipe_sla_series_omitted 0
`
	names := []string{"slapipe_sla_compliance_ratio", "slapipe_sla_out_of_range", "slapipe_sla_out_of_range_seconds",
		"slapipe_sla_violation_probability", "slapipe_sla_first_crossing_seconds", "slapipe_sla_evaluation_age_seconds",
		"slapipe_sla_series_omitted"}
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), names...))

	// The load objective removed: its series leave every family.
	_, err = m.SetSLA(context.Background(), &slapipev1.SetSLARequest{Objectives: st.sets[0].Objectives[:1]})
	require.NoError(t, err)
	m.evaluate(context.Background())
	n, err := testutil.GatherAndCount(reg, names...)
	require.NoError(t, err)
	// fs: 3 windows x 2 families, out now, probability, crossing; 2 ages; omitted.
	require.Equal(t, 6+3+2+1, n)
	got, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, got, "lint problems")
}

// ratio formats a/b as the text exposition does.
func ratio(a, b float64) string { return strconv.FormatFloat(a/b, 'g', -1, 64) }

// TestExportLimit gives the collector more series than MaxExportedSeries:
// the first ones are exported, the others counted.
func TestExportLimit(t *testing.T) {
	pred := &slapipev1.GetPredictionsResponse{}
	for i := range MaxExportedSeries + 7 {
		pred.Predictions = append(pred.Predictions, &slapipev1.Prediction{Objective: "o", Metric: "m",
			Labels: map[string]string{"instance": strconv.Itoa(i)}, Probability: 0.5})
	}
	c := &slaCollector{step: testStep, now: func() time.Time { return testEnd }}
	c.setPredictions(pred)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	n, err := testutil.GatherAndCount(reg, "slapipe_sla_violation_probability")
	require.NoError(t, err)
	require.Equal(t, MaxExportedSeries, n)
	gauges := gatherGauges(t, reg)
	require.Equal(t, 7.0, gauges["slapipe_sla_series_omitted"])
}
