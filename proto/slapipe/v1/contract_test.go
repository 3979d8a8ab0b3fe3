package slapipev1

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestHorizonSteps(t *testing.T) {
	for _, c := range []struct {
		step time.Duration
		want int
	}{
		{time.Second, 600}, {5 * time.Second, 120}, {15 * time.Second, 40}, {time.Minute, 10},
		{7 * time.Second, 86},          // 602 s: rounded up to reach the horizon
		{1500 * time.Millisecond, 400}, // divides it
		{20 * time.Minute, 1},          // one step past the horizon
		{0, 0}, {-time.Second, 0},
	} {
		got := HorizonSteps(c.step)
		if got != c.want {
			t.Errorf("HorizonSteps(%s) = %d, want %d", c.step, got, c.want)
		}
		if c.step <= 0 {
			continue
		}
		// The forecast reaches the horizon and overshoots by less than a step.
		if reach := time.Duration(got) * c.step; reach < ForecastHorizon || reach-ForecastHorizon >= c.step {
			t.Errorf("HorizonSteps(%s) reaches %s, want [%s, %s)", c.step, reach, ForecastHorizon, ForecastHorizon+c.step)
		}
	}
}

func TestWindows(t *testing.T) {
	if got := WindowNames(false); got != "1h, 3h, 12h" {
		t.Errorf("WindowNames(false) = %q", got)
	}
	if got := WindowNames(true); got != `"1h", "3h", "12h"` {
		t.Errorf("WindowNames(true) = %q", got)
	}
	for i, w := range Windows {
		if d, err := time.ParseDuration(w.Name); err != nil || d != w.Duration {
			t.Errorf("window %q lasts %s, its name says %s (%v)", w.Name, w.Duration, d, err)
		}
		if i > 0 && w.Duration <= Windows[i-1].Duration {
			t.Errorf("windows not shortest first at %q", w.Name)
		}
		if !ValidWindow(w.Name) {
			t.Errorf("ValidWindow(%q) = false", w.Name)
		}
	}
	if Windows[len(Windows)-1].Duration != LongestWindow {
		t.Errorf("LongestWindow %s is not the last window", LongestWindow)
	}
	for _, bad := range []string{"", "2h", "1H", " 1h"} {
		if ValidWindow(bad) {
			t.Errorf("ValidWindow(%q) = true", bad)
		}
	}
}

func TestTopics(t *testing.T) {
	if got := RunsTopic("metrics-a"); got != "metrics-a.runs" {
		t.Errorf("RunsTopic = %q", got)
	}
	if got := DeadLetterTopic("metrics-a"); got != "metrics-a.dlq" {
		t.Errorf("DeadLetterTopic = %q", got)
	}
	if got := TasksTopic("metrics-a"); got != "metrics-a.tasks" {
		t.Errorf("TasksTopic = %q", got)
	}
	if got := ProgressTopic("metrics-a"); got != "metrics-a.progress" {
		t.Errorf("ProgressTopic = %q", got)
	}
	longest := strings.Repeat("a", maxTopicLen-len(".progress"))
	for _, c := range []struct{ topic, wantErr string }{
		{DefaultTopic, ""},
		{"team_a.slapipe-v2", ""},
		{longest, ""},
		{longest + "a", "241 bytes, at most 240"},
		{"", "not a topic name"},
		{"..", "not a topic name"},
		{"a topic", "only ASCII letters"},
		{"tópico", "only ASCII letters"},
	} {
		err := CheckTopic(c.topic)
		if c.wantErr == "" {
			if err != nil {
				t.Errorf("CheckTopic(%q): %v", c.topic, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("CheckTopic(%.20q) = %v, want an invalid argument containing %q", c.topic, err, c.wantErr)
		}
	}
}

func TestValidate(t *testing.T) {
	good := func() *SeriesAnalysis {
		return &SeriesAnalysis{RunId: "r1", SeriesId: "s1", Metric: "node_load1", Transform: "none",
			RangeEnd: timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
			Windows:  []*WindowStats{{Window: "1h"}, {Window: "3h"}},
			Forecast: &Forecast{Model: "damped", Points: []*ForecastPoint{{}}}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("a valid message: %v", err)
	}
	for _, c := range []struct {
		name    string
		mutate  func(*SeriesAnalysis)
		wantErr string
	}{
		{"no run", func(m *SeriesAnalysis) { m.RunId = "" }, "run_id: invalid argument: empty"},
		{"long series id", func(m *SeriesAnalysis) { m.SeriesId = strings.Repeat("x", MaxIDLen+1) }, "series_id: invalid argument: 65 bytes, at most 64"},
		{"padded metric", func(m *SeriesAnalysis) { m.Metric = "up " }, "leading or trailing space"},
		{"long transform", func(m *SeriesAnalysis) { m.Transform = strings.Repeat("r", MaxShortLen+1) }, "transform: invalid argument: 17 bytes"},
		{"bad label", func(m *SeriesAnalysis) { m.Labels = map[string]string{"a": "\xff"} }, "not valid UTF-8"},
		{"year 999", func(m *SeriesAnalysis) { m.RangeEnd = timestamppb.New(MinTime.Add(-time.Millisecond)) }, "outside years 1000..9999"},
		{"repeated window", func(m *SeriesAnalysis) { m.Windows[1].Window = "1h" }, `window "1h" repeated`},
		{"nil point", func(m *SeriesAnalysis) { m.Forecast.Points[0] = nil }, "forecast.points[0]: invalid argument: nil"},
	} {
		m := good()
		c.mutate(m)
		err := m.Validate()
		if err == nil || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: Validate() = %v, want an invalid argument containing %q", c.name, err, c.wantErr)
		}
	}
	if err := (&Run{RunId: "r", Status: strings.Repeat("s", MaxStatusLen+1)}).Validate(); err == nil || !strings.Contains(err.Error(), "status: invalid argument") {
		t.Errorf("an oversized run status: %v", err)
	}
	if err := (&Run{RunId: "r", Status: "succeeded"}).Validate(); err != nil {
		t.Errorf("a valid run: %v", err)
	}
}
