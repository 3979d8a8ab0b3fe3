package rules

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/internal/testing/testenv"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// testSet covers each kind of objective: no target, a target with the
// default window, a 30-day window, and a name PromQL and YAML must quote.
func testSet() *slapipev1.SLASet {
	return &slapipev1.SLASet{Objectives: []*slapipev1.Objective{
		{Name: "memory-free", Selector: "node_memory_MemFree_bytes", Min: proto.Float64(256e6)},
		{Name: "filesystem-avail", Selector: `node_filesystem_avail_bytes{mountpoint="/"}`, Min: proto.Float64(1e9),
			Target: proto.Float64(0.999)},
		{Name: "load 'quoted' \"name\": {{ x }}", Selector: "node_load1", Max: proto.Float64(4), Target: proto.Float64(0.99),
			BudgetWindowSeconds: 30 * 86400},
	}}
}

func TestGroups(t *testing.T) {
	g, err := Groups(testSet(), Config{})
	require.NoError(t, err)
	b, err := Marshal(g)
	require.NoError(t, err)
	parsed, errs := rulefmt.Parse(b, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	require.Empty(t, errs, "Prometheus' own rules parser")
	require.Len(t, parsed.Groups, 3)
	alerts := func(i int) []string {
		var out []string
		for _, r := range parsed.Groups[i].Rules {
			out = append(out, r.Alert)
		}
		return out
	}
	require.Equal(t, []string{AlertPredicted, AlertNow}, alerts(0), "no target: no budget alerts")
	require.Equal(t, []string{AlertPredicted, AlertNow, AlertFastBurn, AlertSlowBurn}, alerts(1))
	r := parsed.Groups[1].Rules
	require.Equal(t, `slapipe_sla_violation_probability{objective="filesystem-avail"} > 0.5`, r[0].Expr)
	require.Equal(t, 5*time.Minute, time.Duration(r[0].For))
	require.Equal(t, `slapipe_sla_out_of_range{objective="filesystem-avail"} == 1`, r[1].Expr)
	// 7 days: 2 % of the budget in 1 h is a burn rate of 0.02*168 = 3.36,
	// 5 % in 6 h is 0.05*28 = 1.4.
	require.Equal(t, `min without (window) (slapipe_sla_budget_burn_rate{objective="filesystem-avail",window=~"1h|5m"}) > 3.36`, r[2].Expr)
	require.Equal(t, `min without (window) (slapipe_sla_budget_burn_rate{objective="filesystem-avail",window=~"6h|30m"}) > 1.4`, r[3].Expr)
	// 30 days: the SRE workbook's 14.4 and 6.
	r = parsed.Groups[2].Rules
	require.Contains(t, r[2].Expr, `> 14.4`)
	require.Contains(t, r[3].Expr, `> 6`)
	require.Contains(t, r[0].Expr, `{objective="load 'quoted' \"name\": {{ x }}"}`)

	// The burn alerts read windows the SLA manager exports.
	exported := map[string]bool{}
	for _, w := range slapipev1.BurnWindows {
		exported[w.Name] = true
	}
	for _, b := range burns {
		require.True(t, exported[b.long] && exported[b.short], "%s: windows %s and %s", b.alert, b.long, b.short)
	}

	_, err = Groups(testSet(), Config{Probability: 1})
	require.ErrorContains(t, err, "probability: must be between 0 and 1")
}

// TestPromtool runs Prometheus' promtool on the generated files: `check
// rules` accepts the rules and `test rules` passes the generated unit tests,
// which cover every rule (each fires and stays quiet). Under CI promtool
// must be installed (scripts/servers.sh installs Debian's prometheus).
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		testenv.Unavailable(t, "promtool is not installed (apt-get install prometheus; scripts/servers.sh does)")
	}
	for _, cfg := range []Config{{}, {Probability: 0.8, PredictedFor: 30 * time.Second, ViolationFor: 2 * time.Minute}} {
		dir := t.TempDir()
		g, err := Groups(testSet(), cfg)
		require.NoError(t, err)
		rb, err := Marshal(g)
		require.NoError(t, err)
		tb, err := Tests(testSet(), cfg, "slapipe-rules.yml")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "slapipe-rules.yml"), rb, 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "slapipe-rules.test.yml"), tb, 0o600))

		out, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, "slapipe-rules.yml")).CombinedOutput()
		require.NoError(t, err, "promtool check rules:\n%s", out)
		require.Contains(t, string(out), "SUCCESS: 10 rules found")

		cmd := exec.Command(promtool, "test", "rules", "slapipe-rules.test.yml")
		cmd.Dir = dir
		out, err = cmd.CombinedOutput()
		require.NoError(t, err, "promtool test rules:\n%s", out)
		require.Contains(t, string(out), "SUCCESS")

		// Every rule has a firing and a quiet case.
		for _, alert := range []string{AlertPredicted, AlertNow, AlertFastBurn, AlertSlowBurn} {
			require.Contains(t, string(tb), "name: '"+alert+": ", alert)
		}
		require.Equal(t, 3*2+3*2+2*2*3, strings.Count(string(tb), "alertname:"), "cases: 2 per predicted and now rule, 3 per burn rule")

		// The harness can fail: a wrong expected severity is caught.
		bad := strings.Replace(string(tb), "severity: critical", "severity: page", 1)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.test.yml"), []byte(bad), 0o600))
		cmd = exec.Command(promtool, "test", "rules", "bad.test.yml")
		cmd.Dir = dir
		out, err = cmd.CombinedOutput()
		require.Error(t, err, "promtool accepted a wrong expectation:\n%s", out)
	}
}
