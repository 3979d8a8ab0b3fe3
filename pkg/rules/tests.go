package rules

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// testInterval is the sample and evaluation interval of the unit tests.
const testInterval = time.Minute

// inputSeries is one input series of a promtool unit test.
type inputSeries struct {
	name   string
	labels map[string]string
	value  float64
}

// testCase is one promtool unit test: constant input series and, at
// evalAt, the rule's alert firing (with the labels of the first series) or
// not.
type testCase struct {
	name   string
	series []inputSeries
	evalAt time.Duration
	fires  bool
}

func input(name string, labels map[string]string, v float64) inputSeries {
	return inputSeries{name: name, labels: labels, value: v}
}

// steady is a case whose series hold their values from time 0, evaluated
// one interval after the rule's `for` has passed.
func steady(name string, forD time.Duration, fires bool, series ...inputSeries) testCase {
	at := (forD/testInterval + 1) * testInterval
	if forD%testInterval != 0 {
		at += testInterval
	}
	return testCase{name: name, series: series, evalAt: at, fires: fires}
}

// testLabels are the labels of a test series of o, as the SLA manager
// exports them.
func testLabels(o *slapipev1.Objective) map[string]string {
	metric, _, _ := strings.Cut(o.GetSelector(), "{")
	return map[string]string{"objective": o.GetName(), "metric": strings.TrimSpace(metric), "instance": "unit-test:9100"}
}

func withLabel(ls map[string]string, k, v string) map[string]string {
	out := maps.Clone(ls)
	out[k] = v
	return out
}

// promtool's unit test file (`promtool test rules`).
type testFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	Tests              []unitTest     `yaml:"tests"`
}

type unitTest struct {
	Name        string          `yaml:"name"`
	Interval    model.Duration  `yaml:"interval"`
	InputSeries []seriesYAML    `yaml:"input_series"`
	AlertTests  []alertTestYAML `yaml:"alert_rule_test"`
}

type seriesYAML struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertTestYAML struct {
	EvalTime  model.Duration `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []expAlertYAML `yaml:"exp_alerts"`
}

type expAlertYAML struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// seriesString is the series in PromQL notation, labels sorted.
func (s inputSeries) seriesString() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.labels)) {
		parts = append(parts, k+"="+strconv.Quote(s.labels[k]))
	}
	return s.name + "{" + strings.Join(parts, ",") + "}"
}

// Tests writes promtool unit tests covering every rule Groups generates for
// set and cfg: each rule fires on inputs that break it for longer than its
// `for`, with the labels and annotations expected, and stays quiet on
// inputs that do not. ruleFile is the rules file's path as the test file
// names it (relative to the test file).
func Tests(set *slapipev1.SLASet, cfg Config, ruleFile string) ([]byte, error) {
	gs, err := build(set, cfg)
	if err != nil {
		return nil, err
	}
	f := testFile{RuleFiles: []string{ruleFile}, EvaluationInterval: model.Duration(testInterval)}
	for _, g := range gs {
		for _, rc := range g.rules {
			for _, c := range rc.cases {
				ut, err := unitTestOf(rc, c)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", g.name, rc.rule.Alert, err)
				}
				f.Tests = append(f.Tests, ut)
			}
		}
	}
	var buf bytes.Buffer
	buf.WriteString("# promtool unit tests of the rules `slapipe ctl rules` generated: promtool test rules FILE\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encoding rule tests: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding rule tests: %w", err)
	}
	return buf.Bytes(), nil
}

func unitTestOf(rc ruleCases, c testCase) (_ unitTest, err error) {
	ut := unitTest{Name: rc.rule.Alert + ": " + c.name, Interval: model.Duration(testInterval)}
	n := int(c.evalAt/testInterval) + 1
	value := math.Inf(1)
	for _, s := range c.series {
		ut.InputSeries = append(ut.InputSeries, seriesYAML{Series: s.seriesString(),
			Values: fmt.Sprintf("%sx%d", fmtFloat(s.value), n)})
		// Every rule's value is its only series' or the smallest (min).
		value = min(value, s.value)
	}
	at := alertTestYAML{EvalTime: model.Duration(c.evalAt), Alertname: rc.rule.Alert, ExpAlerts: []expAlertYAML{}}
	if c.fires {
		labels := maps.Clone(c.series[0].labels)
		delete(labels, "window")
		for k, v := range rc.rule.Labels {
			// Rule labels are templates too.
			if labels[k], err = expand(v, c.series[0].labels, value); err != nil {
				return ut, fmt.Errorf("label %s: %w", k, err)
			}
		}
		ann := map[string]string{}
		for k, text := range rc.rule.Annotations {
			s, err := expand(text, c.series[0].labels, value)
			if err != nil {
				return ut, fmt.Errorf("annotation %s: %w", k, err)
			}
			ann[k] = s
		}
		at.ExpAlerts = append(at.ExpAlerts, expAlertYAML{ExpLabels: labels, ExpAnnotations: ann})
	}
	ut.AlertTests = []alertTestYAML{at}
	return ut, nil
}

// expand renders an annotation as Prometheus does: text/template with
// $labels and $value defined by the same preamble.
func expand(text string, labels map[string]string, value float64) (string, error) {
	const preamble = "{{$labels := .Labels}}{{$value := .Value}}"
	t, err := template.New("annotation").Option("missingkey=zero").Parse(preamble + text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = t.Execute(&b, struct {
		Labels map[string]string
		Value  float64
	}{labels, value})
	return b.String(), err
}
