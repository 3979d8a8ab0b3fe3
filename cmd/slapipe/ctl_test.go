package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/pkg/ctl/ctltest"
)

// fakes starts both fake services and returns the ctl address flags.
func fakes(t *testing.T) (*ctltest.SLA, []string) {
	t.Helper()
	sla := ctltest.NewSLA()
	slaAddr, retAddr := ctltest.Serve(t, sla, ctltest.NewRetrieval())
	return sla, []string{"--sla-addr", slaAddr, "--retrieval-addr", retAddr}
}

func TestCtlJSON(t *testing.T) {
	_, addrs := fakes(t)
	cases := []struct {
		args []string
		keys []string
	}{
		{[]string{"sla", "get"}, []string{"objectives"}},
		{[]string{"violations"}, []string{"stale", "windows"}},
		{[]string{"violations", "--window", "3h"}, []string{"stale", "windows"}},
		{[]string{"prediction"}, []string{"stale", "horizon_seconds", "predictions"}},
		{[]string{"stats", "node_memory_MemFree_bytes"}, []string{"run_id", "computed_at", "series"}},
		{[]string{"metadata", "node_memory_MemFree_bytes"}, []string{"run_id", "computed_at", "series"}},
		{[]string{"forecast", "node_disk_written_bytes_total", "--series", ctltest.DiskSeriesSDA}, []string{"run_id", "series"}},
		{[]string{"metrics"}, []string{"metrics"}},
		{[]string{"metrics", "--stored"}, []string{"metrics"}},
		{[]string{"etl", "run"}, []string{"run_id", "status", "series", "seconds"}},
		{[]string{"runs"}, []string{"runs"}},
		{[]string{"status"}, []string{"sla", "violations", "predictions", "last_run"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(append([]string{"ctl", "-o", "json"}, addrs...), tc.args...)
			r := runBinary(t, "", nil, args...)
			require.Equal(t, 0, r.code, r.stderr)
			var doc map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc), r.stdout)
			for _, k := range tc.keys {
				require.Contains(t, doc, k)
			}
			if tc.args[0] == "etl" {
				// Progress went to stderr as plain lines (not a terminal).
				require.Contains(t, r.stderr, "etl: publish 3/3")
			} else {
				require.Empty(t, r.stderr)
			}
		})
	}
	t.Run("window filter", func(t *testing.T) {
		r := runBinary(t, "", nil, append(append([]string{"ctl", "-o", "json"}, addrs...), "violations", "--window", "3h")...)
		var doc struct {
			Windows map[string][]map[string]any `json:"windows"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
		require.Len(t, doc.Windows, 1)
		require.Len(t, doc.Windows["3h"], 3)
	})
	t.Run("series filter", func(t *testing.T) {
		r := runBinary(t, "", nil, append(append([]string{"ctl", "-o", "json"}, addrs...), "stats", "node_disk_written_bytes_total", "--series", ctltest.DiskSeriesSDA)...)
		var doc struct {
			Series []map[string]any `json:"series"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
		require.Len(t, doc.Series, 1)
		require.Equal(t, ctltest.DiskSeriesSDA, doc.Series[0]["series_id"])
	})
}

func TestCtlTable(t *testing.T) {
	_, addrs := fakes(t)
	r := runBinary(t, "", nil, append(append([]string{"ctl"}, addrs...), "violations", "--window", "1h")...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "COMPLIANCE")
	require.Regexp(t, `1h\s+memory-free\s+node_memory_MemFree_bytes\s+\{instance="backfill:9100", job="node"\}\s+VIOLATED\s+720\s+60\s+2\s+5m0s\s+91\.67%\s+191 MiB`, r.stdout)

	r = runBinary(t, "", nil, append(append([]string{"ctl"}, addrs...), "forecast", "node_memory_MemFree_bytes")...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "┤")
	require.Contains(t, r.stdout, "95% interval")
	require.NotContains(t, r.stdout, "\x1b[", "no colours into a pipe")
}

func TestCtlSLAChanges(t *testing.T) {
	sla, addrs := fakes(t)
	ctlArgs := func(args ...string) []string { return append(append([]string{"ctl"}, addrs...), args...) }

	r := runBinary(t, "", nil, ctlArgs("sla", "add", "--name", "load", "--selector", `node_load1{instance="a:9100"}`, "--max", "4")...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `load\s+node_load1\{instance="a:9100"\}\s+-\s+4`, r.stdout)

	r = runBinary(t, "", nil, ctlArgs("sla", "remove", "disk-write")...)
	require.Equal(t, 0, r.code, r.stderr)
	require.NotContains(t, r.stdout, "disk-write")

	// sla set takes what sla get -o json prints.
	r = runBinary(t, "", nil, ctlArgs("-o", "json", "sla", "get")...)
	require.Equal(t, 0, r.code, r.stderr)
	doc := strings.Replace(r.stdout, `"memory-free"`, `"memory-free-2"`, 1)
	path := filepath.Join(t.TempDir(), "sla.json")
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	r = runBinary(t, "", nil, ctlArgs("sla", "set", "--file", path)...)
	require.Equal(t, 0, r.code, r.stderr)
	sla.Mu.Lock()
	names := []string{}
	for _, o := range sla.Set.GetObjectives() {
		names = append(names, o.GetName())
	}
	sla.Mu.Unlock()
	require.Equal(t, []string{"memory-free-2", "filesystem-avail", "memory-active", "net-rx-packets", "load"}, names)

	// YAML from stdin.
	r = runBinary(t, "objectives:\n  - name: up\n    selector: up\n    min: 1\n", nil, ctlArgs("sla", "set", "-f", "-")...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `up\s+up\s+1\s+-`, r.stdout)
}

func TestCtlErrors(t *testing.T) {
	_, addrs := fakes(t)
	dead := ctltest.UnusedAddr(t)
	badFile := filepath.Join(t.TempDir(), "sla.yaml")
	require.NoError(t, os.WriteFile(badFile, []byte("objectives: []\nobjectivs: []\n"), 0o600))
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unreachable SLA manager", []string{"ctl", "--sla-addr", dead, "status"}, 1,
			"cannot reach the SLA manager at " + dead + ": start it with `slapipe slamanager` or set --sla-addr"},
		{"unreachable retrieval", []string{"ctl", "--retrieval-addr", dead, "stats", "node_load1"}, 1,
			"cannot reach the retrieval service at " + dead + ": start it with `slapipe dataretrieval` or set --retrieval-addr"},
		{"unparsable address", []string{"ctl", "--sla-addr", "bad::addr::", "status"}, 2, `invalid --sla-addr "bad::addr::": want host:port`},
		{"server reason surfaces", append(append([]string{"ctl"}, addrs...), "sla", "add", "--name", "disk-write", "--selector", "up", "--min", "1"), 1,
			`objectives[5].name: "disk-write" is used twice`},
		{"lower >= upper", append(append([]string{"ctl"}, addrs...), "sla", "add", "--name", "x", "--selector", "up", "--min", "5", "--max", "5"), 2,
			"max: must be greater than min (got 5 <= 5)"},
		{"malformed selector", append(append([]string{"ctl"}, addrs...), "sla", "add", "--name", "x", "--selector", "up{job=", "--max", "5"), 2,
			"selector:"},
		{"bad bound", append(append([]string{"ctl"}, addrs...), "sla", "add", "--name", "x", "--selector", "up", "--max", "lots"), 2,
			`invalid --max: "lots" is not a number`},
		{"bad window", append(append([]string{"ctl"}, addrs...), "violations", "--window", "2h"), 2, `invalid --window "2h"`},
		{"bad output", append(append([]string{"ctl"}, addrs...), "-o", "yaml", "status"), 2, `invalid --output "yaml"`},
		{"unknown metric", append(append([]string{"ctl"}, addrs...), "stats", "node_nope"), 1,
			`no stored series for metric "node_nope": list the stored metrics with ` + "`slapipe ctl metrics --stored`"},
		{"metric missing", append(append([]string{"ctl"}, addrs...), "forecast"), 2, "give one metric name"},
		{"unknown objective", append(append([]string{"ctl"}, addrs...), "sla", "remove", "nope"), 1, `no objective named "nope"`},
		{"sla file unknown key", append(append([]string{"ctl"}, addrs...), "sla", "set", "--file", badFile), 2, "field objectivs not found"},
		{"sla set without file", append(append([]string{"ctl"}, addrs...), "sla", "set"), 2, "give the document with --file"},
		{"etl bad selector", append(append([]string{"ctl"}, addrs...), "etl", "run", "--selector", "rate(x[5m])"), 2, `invalid --selector "rate(x[5m])"`},
		{"unknown subcommand", []string{"ctl", "bogus"}, 2, `unknown command "bogus"`},
		{"menu without terminal", []string{"ctl"}, 2, "the interactive menu needs a terminal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runBinary(t, "", nil, tc.args...)
			if tc.name == "menu without terminal" {
				// Help goes to stderr, then the one-line reason last.
				require.Equal(t, 2, r.code)
				require.Empty(t, r.stdout)
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				require.Contains(t, lines[len(lines)-1], tc.want)
				return
			}
			requireOneLineError(t, r, tc.code, tc.want)
		})
	}
}
