// Package rules turns an SLA set into Prometheus alerting rules over the
// SLA manager's slapipe_sla_* metrics, and writes `promtool test rules`
// unit tests for every rule it generates. Per objective: a predicted
// violation (probability over a threshold for a while), a violation now,
// and for objectives with a target the fast and slow error-budget burns of
// the SRE workbook's multi-window, multi-burn-rate alerting.
package rules

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"gopkg.in/yaml.v3"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Alert names, one per kind of rule.
const (
	AlertPredicted = "SLAViolationPredicted"
	AlertNow       = "SLAOutOfRange"
	AlertFastBurn  = "SLAErrorBudgetFastBurn"
	AlertSlowBurn  = "SLAErrorBudgetSlowBurn"
)

// Defaults of Config.
const (
	DefaultProbability  = 0.5
	DefaultPredictedFor = 5 * time.Minute
	DefaultViolationFor = time.Minute
)

// burn is one of the workbook's two burn alerts: it fires when both the
// long and the short window burn faster than spending Budget of the whole
// budget within Long (the short window, Long/12, makes it reset quickly once
// the burning stops).
type burn struct {
	alert, severity, speed string
	long, short            string // windows of slapipe_sla_budget_burn_rate
	longD                  time.Duration
	budget                 float64
	forD                   time.Duration
}

// burns are the fast (2 % of the budget in 1 h: page) and slow (5 % in 6 h:
// ticket) burn alerts. Their thresholds are rates relative to the budget
// window: for the workbook's 30 days they are its 14.4 and 6.
var burns = []burn{
	{AlertFastBurn, "critical", "fast", "1h", "5m", time.Hour, 0.02, 2 * time.Minute},
	{AlertSlowBurn, "warning", "slowly", "6h", "30m", 6 * time.Hour, 0.05, 15 * time.Minute},
}

// Config is what the generated rules are tuned by; zero fields take the
// defaults.
type Config struct {
	// Probability is the threshold of the predicted-violation alert.
	Probability float64
	// PredictedFor is how long the probability must stay over it.
	PredictedFor time.Duration
	// ViolationFor is how long a series must stay out of range.
	ViolationFor time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.Probability == 0 {
		c.Probability = DefaultProbability
	}
	if c.PredictedFor == 0 {
		c.PredictedFor = DefaultPredictedFor
	}
	if c.ViolationFor == 0 {
		c.ViolationFor = DefaultViolationFor
	}
	switch {
	case !(c.Probability > 0 && c.Probability < 1):
		return c, fmt.Errorf("probability: must be between 0 and 1, both excluded (got %g)", c.Probability)
	case c.PredictedFor < 0 || c.ViolationFor < 0:
		return c, errors.New("for: durations must not be negative")
	}
	return c, nil
}

// burnThreshold is the burn rate that spends budget (a share) of the whole
// budget within d, for a budget window w.
func burnThreshold(budget float64, w, d time.Duration) float64 {
	return budget * w.Seconds() / d.Seconds()
}

// matcher is the PromQL selector of an objective's series of a family,
// with extra matchers written out (window=~"1h|5m").
func matcher(family, objective string, extra ...string) string {
	s := family + `{objective=` + strconv.Quote(objective)
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

// ruleLabels are a rule's own labels: its severity and the objective,
// which the series carry already but which keeps each objective's rules
// distinct for promtool's duplicate check.
func ruleLabels(objective, severity string) map[string]string {
	return map[string]string{"severity": severity, "objective": templateLiteral(objective)}
}

// templateLiteral is a rule label value that Prometheus' templating (rule
// labels are templates) expands to s: s itself, or a quoted string action
// when s holds an action's opening delimiter.
func templateLiteral(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return "{{ " + strconv.Quote(s) + " }}"
}

// fmtFloat renders a threshold for PromQL and messages.
func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Groups builds one rule group per objective, in set order.
func Groups(set *slapipev1.SLASet, cfg Config) (*rulefmt.RuleGroups, error) {
	gs, err := build(set, cfg)
	if err != nil {
		return nil, err
	}
	out := &rulefmt.RuleGroups{}
	for _, g := range gs {
		rg := rulefmt.RuleGroup{Name: g.name}
		for _, r := range g.rules {
			rg.Rules = append(rg.Rules, r.rule)
		}
		out.Groups = append(out.Groups, rg)
	}
	return out, nil
}

// group is one objective's rules, each with the unit test cases that show
// it fires and stays quiet when it should.
type group struct {
	name  string
	rules []ruleCases
}

type ruleCases struct {
	rule  rulefmt.Rule
	cases []testCase
}

// build generates every rule of set with its test cases.
func build(set *slapipev1.SLASet, cfg Config) ([]group, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var out []group
	for _, o := range set.GetObjectives() {
		name := o.GetName()
		series := `{{ $labels.metric }}{{ with $labels.instance }} on {{ . }}{{ end }}`
		lab := testLabels(o)
		g := group{name: "slapipe-sla-" + name}
		p := cfg.Probability
		g.rules = append(g.rules, ruleCases{rule: rulefmt.Rule{
			Alert:  AlertPredicted,
			Expr:   matcher("slapipe_sla_violation_probability", name) + " > " + fmtFloat(p),
			For:    model.Duration(cfg.PredictedFor),
			Labels: ruleLabels(name, "warning"),
			Annotations: map[string]string{
				"summary": `Objective {{ $labels.objective }} is predicted to be violated within 10 minutes`,
				"description": series + ` is likely to leave the bounds of objective {{ $labels.objective }}` +
					` within the next 10 minutes (probability {{ printf "%.2f" $value }}).`,
			},
		}, cases: []testCase{
			steady("probability over the threshold", cfg.PredictedFor, true, input("slapipe_sla_violation_probability", lab, (1+p)/2)),
			steady("probability under the threshold", cfg.PredictedFor, false, input("slapipe_sla_violation_probability", lab, p/2)),
		}}, ruleCases{rule: rulefmt.Rule{
			Alert:  AlertNow,
			Expr:   matcher("slapipe_sla_out_of_range", name) + " == 1",
			For:    model.Duration(cfg.ViolationFor),
			Labels: ruleLabels(name, "critical"),
			Annotations: map[string]string{
				"summary":     `Objective {{ $labels.objective }} is violated`,
				"description": series + ` is outside the bounds of objective {{ $labels.objective }}.`,
			},
		}, cases: []testCase{
			steady("out of range", cfg.ViolationFor, true, input("slapipe_sla_out_of_range", lab, 1)),
			steady("inside", cfg.ViolationFor, false, input("slapipe_sla_out_of_range", lab, 0)),
		}})
		if o.Target != nil {
			w := o.BudgetWindow()
			for _, b := range burns {
				th := burnThreshold(b.budget, w, b.longD)
				rate := func(win string, v float64) inputSeries {
					return input("slapipe_sla_budget_burn_rate", withLabel(lab, "window", win), v)
				}
				g.rules = append(g.rules, ruleCases{rule: rulefmt.Rule{
					Alert: b.alert,
					// Both windows over the threshold: the smaller of the two is.
					Expr: "min without (window) (" + matcher("slapipe_sla_budget_burn_rate", name,
						`window=~"`+b.long+"|"+b.short+`"`) + ") > " + fmtFloat(th),
					For:    model.Duration(b.forD),
					Labels: ruleLabels(name, b.severity),
					Annotations: map[string]string{
						"summary": `Objective {{ $labels.objective }} burns its error budget ` + b.speed,
						"description": series + ` spends the error budget of objective {{ $labels.objective }} at {{ printf "%.1f" $value }}` +
							` times the sustainable rate over ` + b.long + ` and ` + b.short +
							fmt.Sprintf(` (%.0f%% of the budget within %s).`, 100*b.budget, b.long),
					},
				}, cases: []testCase{
					steady("both windows burn", b.forD, true, rate(b.long, 3*th), rate(b.short, 2*th)),
					steady("only the long window burns (the burning stopped)", b.forD, false, rate(b.long, 2*th), rate(b.short, th/2)),
					steady("only the short window burns (a blip)", b.forD, false, rate(b.long, th/2), rate(b.short, 2*th)),
				}})
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// Marshal writes groups as a Prometheus rules file.
func Marshal(g *rulefmt.RuleGroups) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# Prometheus alerting rules for the slapipe SLA set, generated by `slapipe ctl rules`.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(g); err != nil {
		return nil, fmt.Errorf("encoding rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding rules: %w", err)
	}
	return buf.Bytes(), nil
}
