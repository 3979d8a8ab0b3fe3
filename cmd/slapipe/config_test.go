package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/pkg/ctl/ctltest"
)

// settingsTree is a small command tree with the kinds of flags slapipe uses;
// run records their values after applySettings.
type settingsTree struct {
	root      *cobra.Command
	url       string
	brokers   []string
	selectors []string
	interval  time.Duration
	limit     int
	once      bool
}

func newSettingsTree() *settingsTree {
	s := &settingsTree{}
	var cfg string
	s.root = &cobra.Command{Use: "slapipe", SilenceErrors: true, SilenceUsage: true}
	s.root.PersistentFlags().StringVar(&cfg, "config", "", "")
	comp := &cobra.Command{Use: "comp", RunE: func(*cobra.Command, []string) error { return nil }}
	fs := comp.Flags()
	fs.StringVar(&s.url, "prometheus-url", "http://default:9090", "")
	fs.StringSliceVar(&s.brokers, "kafka-brokers", []string{"default:9092"}, "")
	fs.StringArrayVar(&s.selectors, "selector", nil, "")
	fs.DurationVar(&s.interval, "etl-interval", 5*time.Minute, "")
	fs.IntVar(&s.limit, "limit", 20, "")
	fs.BoolVar(&s.once, "once", false, "")
	other := &cobra.Command{Use: "other", RunE: func(*cobra.Command, []string) error { return nil }}
	other.Flags().String("sla-addr", "", "")
	s.root.AddCommand(comp, other)
	return s
}

func TestSettingsPrecedence(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		file  string
		check func(t *testing.T, s *settingsTree)
		err   string
	}{
		{name: "default", check: func(t *testing.T, s *settingsTree) {
			require.Equal(t, "http://default:9090", s.url)
			require.Equal(t, []string{"default:9092"}, s.brokers)
		}},
		{name: "file over default", file: "prometheus-url: http://file:9090\n", check: func(t *testing.T, s *settingsTree) {
			require.Equal(t, "http://file:9090", s.url)
		}},
		{name: "env over file", file: "prometheus-url: http://file:9090\n",
			env:   map[string]string{"SLAPIPE_PROMETHEUS_URL": "http://env:9090"},
			check: func(t *testing.T, s *settingsTree) { require.Equal(t, "http://env:9090", s.url) }},
		{name: "flag over env and file", args: []string{"--prometheus-url", "http://flag:9090"},
			file: "prometheus-url: http://file:9090\n", env: map[string]string{"SLAPIPE_PROMETHEUS_URL": "http://env:9090"},
			check: func(t *testing.T, s *settingsTree) { require.Equal(t, "http://flag:9090", s.url) }},
		{name: "empty env counts as unset", file: "prometheus-url: http://file:9090\n",
			env:   map[string]string{"SLAPIPE_PROMETHEUS_URL": ""},
			check: func(t *testing.T, s *settingsTree) { require.Equal(t, "http://file:9090", s.url) }},
		{name: "env list is comma-separated", env: map[string]string{"SLAPIPE_KAFKA_BROKERS": "a:1,b:2"},
			check: func(t *testing.T, s *settingsTree) { require.Equal(t, []string{"a:1", "b:2"}, s.brokers) }},
		{name: "file list", file: "kafka-brokers: [a:1, b:2]\n",
			check: func(t *testing.T, s *settingsTree) { require.Equal(t, []string{"a:1", "b:2"}, s.brokers) }},
		{name: "file list keeps commas inside selectors", file: "selector:\n  - 'up{job=\"a\",instance=\"b\"}'\n  - node_load1\n",
			check: func(t *testing.T, s *settingsTree) {
				require.Equal(t, []string{`up{job="a",instance="b"}`, "node_load1"}, s.selectors)
			}},
		{name: "typed file values", file: "etl-interval: 90s\nlimit: 7\nonce: true\n", check: func(t *testing.T, s *settingsTree) {
			require.Equal(t, 90*time.Second, s.interval)
			require.Equal(t, 7, s.limit)
			require.True(t, s.once)
		}},
		{name: "zero from file disables", file: "etl-interval: 0\n",
			check: func(t *testing.T, s *settingsTree) { require.Equal(t, time.Duration(0), s.interval) }},
		{name: "config path from env", env: map[string]string{"SLAPIPE_CONFIG": "@file"}, file: "limit: 3\n",
			check: func(t *testing.T, s *settingsTree) { require.Equal(t, 3, s.limit) }},
		{name: "another command's key is ignored", file: "sla-addr: 127.0.0.1:1\n",
			check: func(t *testing.T, s *settingsTree) { require.Equal(t, 20, s.limit) }},
		{name: "unknown key", file: "prometheus-url: x\npromethues-url: y\n", err: `unknown key "promethues-url"`},
		{name: "config key in the file", file: "config: other.yaml\n", err: `unknown key "config"`},
		{name: "not a mapping", file: "- a\n- b\n", err: "want a YAML mapping"},
		{name: "list for a single value", file: "prometheus-url: [a, b]\n", err: `key "prometheus-url": want a single value`},
		{name: "bad env value names the variable", env: map[string]string{"SLAPIPE_ETL_INTERVAL": "soon"},
			err: `invalid SLAPIPE_ETL_INTERVAL="soon"`},
		{name: "bad file value names the key", file: "limit: many\n", err: `key "limit"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSettingsTree()
			env := map[string]string{}
			for k, v := range tc.env {
				env[k] = v
			}
			args := append([]string{"comp"}, tc.args...)
			if tc.file != "" {
				path := filepath.Join(t.TempDir(), "slapipe.yaml")
				require.NoError(t, os.WriteFile(path, []byte(tc.file), 0o600))
				if env["SLAPIPE_CONFIG"] == "@file" {
					env["SLAPIPE_CONFIG"] = path
				} else {
					args = append(args, "--config", path)
				}
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			var applyErr error
			s.root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
				applyErr = applySettings(cmd, lookup)
				return applyErr
			}
			s.root.SetArgs(args)
			_ = s.root.Execute()
			if tc.err != "" {
				require.Error(t, applyErr)
				require.Contains(t, applyErr.Error(), tc.err)
				return
			}
			require.NoError(t, applyErr)
			tc.check(t, s)
		})
	}
}

// TestSettingsEndToEnd checks the order on a real command: the address the
// client dials says which layer won.
func TestSettingsEndToEnd(t *testing.T) {
	live, _ := ctltest.Serve(t, ctltest.NewSLA(), ctltest.NewRetrieval())
	dead := ctltest.UnusedAddr(t)
	cfg := filepath.Join(t.TempDir(), "slapipe.yaml")
	cases := []struct {
		name     string
		file     string
		env      map[string]string
		args     []string
		wantLive bool
	}{
		{"file", "sla-addr: " + live + "\n", nil, nil, true},
		{"env over file", "sla-addr: " + live + "\n", map[string]string{"SLAPIPE_SLA_ADDR": dead}, nil, false},
		{"flag over env", "sla-addr: " + dead + "\n", map[string]string{"SLAPIPE_SLA_ADDR": dead}, []string{"--sla-addr", live}, true},
		{"output from env", "sla-addr: " + live + "\n", map[string]string{"SLAPIPE_OUTPUT": "json"}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(cfg, []byte(tc.file), 0o600))
			var out, errb bytes.Buffer
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			args := append([]string{"--config", cfg, "ctl", "sla", "get"}, tc.args...)
			code := run(context.Background(), args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
				lookupEnv: lookup, registry: prometheus.NewRegistry()})
			if !tc.wantLive {
				require.Equal(t, exitError, code)
				require.Contains(t, errb.String(), "cannot reach the SLA manager at "+dead)
				return
			}
			require.Equal(t, exitOK, code, errb.String())
			require.Contains(t, out.String(), "memory-free")
			if tc.env["SLAPIPE_OUTPUT"] == "json" {
				require.True(t, strings.HasPrefix(out.String(), "{"), out.String())
			}
		})
	}
}
