package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
)

// repoRoot is where the deployment files live, relative to this package
// (test/deploy).
const repoRoot = "../.."

// cliDoc is what docs/cli.md promises: the subcommands of its command table
// and, from its settings table, the flag of every environment variable.
type cliDoc struct {
	commands  map[string]bool   // "slamanager", "datastorage", "ctl", ...
	envToFlag map[string]string // "SLAPIPE_LISTEN" -> "--listen"
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	flagName   = regexp.MustCompile(`^--[a-z][a-z-]*$`)
	envName    = regexp.MustCompile(`^SLAPIPE_[A-Z_]+$`)
	command    = regexp.MustCompile("^slapipe ([a-z]+)")
)

// readCLIDoc parses docs/cli.md's two tables. A settings row names its
// flags and their variables in the same order ("`--sla-addr`,
// `--retrieval-addr` (ctl) | `SLAPIPE_SLA_ADDR`, `SLAPIPE_RETRIEVAL_ADDR`").
func readCLIDoc(t testing.TB) cliDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "cli.md"))
	require.NoError(t, err)
	doc, err := parseCLIDoc(b)
	require.NoError(t, err)
	return doc
}

func parseCLIDoc(b []byte) (cliDoc, error) {
	doc := cliDoc{commands: map[string]bool{}, envToFlag: map[string]string{}}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			section = strings.TrimSpace(strings.TrimLeft(line, "#"))
			continue
		}
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 2 {
			continue
		}
		first := backticked.FindAllStringSubmatch(cells[0], -1)
		switch {
		case section == "Settings":
			var flags, envs []string
			for _, m := range first {
				if flagName.MatchString(m[1]) {
					flags = append(flags, m[1])
				}
			}
			for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
				if envName.MatchString(m[1]) {
					envs = append(envs, m[1])
				}
			}
			if len(flags) == 0 && len(envs) == 0 {
				continue // the header row
			}
			if len(flags) != len(envs) {
				return cliDoc{}, fmt.Errorf("cli.md settings row %q: %d flags but %d variables", line, len(flags), len(envs))
			}
			for i := range flags {
				doc.envToFlag[envs[i]] = flags[i]
			}
		case len(first) > 0:
			if m := command.FindStringSubmatch(first[0][1]); m != nil {
				doc.commands[m[1]] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return cliDoc{}, err
	}
	if len(doc.envToFlag) == 0 || len(doc.commands) == 0 {
		return cliDoc{}, fmt.Errorf("cli.md: no settings table or no command table found")
	}
	return doc, nil
}

// flagValues says how each documented flag parses its value, as the
// command does: a new row in cli.md's table fails the compose test until it
// is taught here.
var flagValues = map[string]func(string) error{
	"--prometheus-url":  checkHTTPURL,
	"--kafka-brokers":   checkBrokers,
	"--kafka-topic":     checkTopic,
	"--mysql-dsn":       checkDSN,
	"--listen":          checkHostPort,
	"--metrics-listen":  checkHostPort,
	"--sla-addr":        checkHostPort,
	"--retrieval-addr":  checkHostPort,
	"--mysql-dsn-file":  checkSecretFile,
	"--web-config-file": checkSecretFile,
	"--tls-cert-file":   checkSecretFile,
	"--tls-key-file":    checkSecretFile,
	"--auth-file":       checkSecretFile,
}

// checkSecretFile accepts the path of a Compose secret: files holding
// credentials are mounted from ./secrets, never baked into the image.
func checkSecretFile(v string) error {
	if !strings.HasPrefix(v, "/run/secrets/") || strings.Contains(v[len("/run/secrets/"):], "/") {
		return fmt.Errorf("want /run/secrets/NAME, a Compose secret")
	}
	return nil
}

// commandFlags are the flags docker-compose.yml may give on a command line
// besides those of cli.md's table.
var commandFlags = map[string]func(string) error{
	"--etl-interval": func(v string) error {
		d, err := time.ParseDuration(v)
		if err == nil && d <= 0 {
			err = fmt.Errorf("must be positive")
		}
		return err
	},
	"--etl-workers": func(v string) error {
		n, err := strconv.Atoi(v)
		if err == nil && n < 0 {
			err = fmt.Errorf("must be 0 or more")
		}
		return err
	},
	"--log-format": oneOf("text", "json"),
	"--log-level":  oneOf("debug", "info", "warn", "error"),
}

func oneOf(allowed ...string) func(string) error {
	return func(v string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return fmt.Errorf("want one of %v", allowed)
	}
}

func checkHTTPURL(v string) error {
	u, err := url.ParseRequestURI(v)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an http(s) URL with a host")
	}
	return nil
}

func checkHostPort(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return err
	}
	_, err = parsePort(port)
	return err
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return p, nil
}

// checkBrokers parses a comma-separated list as pflag's StringSlice does.
func checkBrokers(v string) error {
	for b := range strings.SplitSeq(v, ",") {
		if err := checkHostPort(strings.TrimSpace(b)); err != nil {
			return fmt.Errorf("broker %q: %w", b, err)
		}
	}
	return nil
}

var topicName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func checkTopic(v string) error {
	if !topicName.MatchString(v) {
		return fmt.Errorf("not a legal Kafka topic name")
	}
	return nil
}

// checkDSN accepts what store.Open accepts: "sqlite:PATH" or a
// go-sql-driver/mysql DSN naming a database.
func checkDSN(v string) error {
	if strings.HasPrefix(v, "sqlite:") {
		return nil
	}
	cfg, err := mysql.ParseDSN(v)
	if err != nil {
		return err
	}
	if cfg.DBName == "" {
		return fmt.Errorf("names no database")
	}
	return nil
}

func TestParseCLIDoc(t *testing.T) {
	doc := readCLIDoc(t)
	cases := []struct{ env, flag string }{
		{"SLAPIPE_PROMETHEUS_URL", "--prometheus-url"},
		{"SLAPIPE_LISTEN", "--listen"},
		{"SLAPIPE_SLA_ADDR", "--sla-addr"},
		{"SLAPIPE_RETRIEVAL_ADDR", "--retrieval-addr"},
	}
	for _, c := range cases {
		require.Equal(t, c.flag, doc.envToFlag[c.env], c.env)
	}
	for _, c := range []string{"slamanager", "datastorage", "dataretrieval", "migrate", "ctl", "demo"} {
		require.True(t, doc.commands[c], "command %s in cli.md's table", c)
	}
	for env, flag := range doc.envToFlag {
		require.Contains(t, flagValues, flag, "cli.md documents %s (%s): teach flagValues how it parses", flag, env)
	}

	_, err := parseCLIDoc([]byte("## Settings\n| flag | environment |\n|---|---|\n| `--a`, `--b` | `SLAPIPE_A` |\n"))
	require.ErrorContains(t, err, "2 flags but 1 variables")
}

func TestFlagValueCheckers(t *testing.T) {
	cases := []struct {
		flag, value string
		ok          bool
	}{
		{"--prometheus-url", "http://prometheus:9090", true},
		{"--prometheus-url", "prometheus:9090", false},
		{"--kafka-brokers", "kafka:19092,kafka2:19092", true},
		{"--kafka-brokers", "kafka", false},
		{"--kafka-topic", "prometheusdata", true},
		{"--kafka-topic", "prometheus data", false},
		{"--mysql-dsn", "slapipe:slapipe@tcp(mysql:3306)/slapipe?parseTime=true", true},
		{"--mysql-dsn", "slapipe:slapipe@tcp(mysql:3306)/", false},
		{"--mysql-dsn", "sqlite:/tmp/x.db", true},
		{"--listen", "0.0.0.0:50051", true},
		{"--listen", "0.0.0.0:500510", false},
		{"--metrics-listen", ":9400", true},
		{"--sla-addr", "slamanager", false},
	}
	for _, c := range cases {
		t.Run(c.flag+"="+c.value, func(t *testing.T) {
			err := flagValues[c.flag](c.value)
			if c.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}
