package etl

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/pkg/analysis"
	"github.com/slapipe/slapipe/pkg/promsource"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestRunForecastsTheHorizon: whatever the step, a run asks the engine for
// the steps that cover the contract's 10 minutes and publishes a forecast
// whose last point is 10 minutes past the range (7 s does not divide 600 s:
// rounded up, it ends 2 s past), to the runs topic derived from a custom
// topic.
func TestRunForecastsTheHorizon(t *testing.T) {
	for _, c := range []struct {
		step      time.Duration
		wantSteps int
		wantReach time.Duration
	}{
		{time.Second, 600, 10 * time.Minute},
		{5 * time.Second, 120, 10 * time.Minute},
		{15 * time.Second, 40, 10 * time.Minute},
		{7 * time.Second, 86, 602 * time.Second},
	} {
		t.Run(c.step.String(), func(t *testing.T) {
			const topic = "team-a.analyses"
			end := runEnd.Truncate(105 * time.Second) // a multiple of every step here
			cfg, err := Config{PrometheusURL: "http://127.0.0.1:1", Brokers: []string{"x:9092"}, Topic: topic,
				Step: c.step, Range: time.Hour}.withDefaults()
			require.NoError(t, err)
			n := int(time.Hour / c.step)
			s := promsource.Series{ID: "s1", Metric: "node_load1", Type: "gauge", Transform: promsource.TransformRaw,
				Start: end.Add(-time.Duration(n-1) * c.step), Step: c.step, Values: make([]float64, n)}
			src := &fakeSource{series: map[string][]promsource.Series{"node_load1": {s}}}
			pub := &fakePublisher{}
			e, err := newETL(cfg, Deps{Logger: slog.New(slog.DiscardHandler)}, src, pub)
			require.NoError(t, err)
			e.topicsReady = true
			var asked int
			e.analyze = func(in analysis.Input) (*analysis.Result, error) {
				asked = in.Horizon
				return fakeResult(in)
			}

			run, err := e.Run(context.Background(), RunOptions{Selectors: []string{"node_load1"}, End: end})
			require.NoError(t, err)
			require.Equal(t, c.wantSteps, asked, "forecast steps asked of the engine")
			msgs := pub.topic(topic)
			require.Len(t, msgs, 1)
			var sa slapipev1.SeriesAnalysis
			require.NoError(t, proto.Unmarshal(msgs[0].Value, &sa))
			f := sa.GetForecast()
			require.EqualValues(t, c.wantSteps, f.GetHorizon())
			require.Len(t, f.GetPoints(), c.wantSteps)
			last := f.GetPoints()[len(f.GetPoints())-1].GetTime().AsTime()
			require.Equal(t, c.wantReach, last.Sub(sa.GetRangeEnd().AsTime()), "forecast reach")

			records := pub.topic(topic + ".runs")
			require.Len(t, records, 1, "the run record goes to the runs topic derived from the custom topic")
			require.Equal(t, run.GetRunId(), string(records[0].Key))
			require.Empty(t, pub.topic(slapipev1.RunsTopic(slapipev1.DefaultTopic)))
		})
	}
}
