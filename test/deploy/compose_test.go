package deploy

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/pkg/server"
)

// loadCompose loads docker-compose.yml as `docker compose config` does:
// schema validation, interpolation (with an empty environment, so the
// result does not depend on the caller's), merges and consistency checks.
func loadCompose(t testing.TB) *types.Project {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	ctx := context.Background()
	details, err := loader.LoadConfigFiles(ctx, []string{filepath.Join(root, "docker-compose.yml")}, root)
	require.NoError(t, err)
	details.Environment = types.Mapping{}
	p, err := loader.LoadWithContext(ctx, *details, func(o *loader.Options) { o.SetProjectName("slapipe", true) })
	require.NoError(t, err, "docker compose config would reject docker-compose.yml")
	return p
}

// slapipeServices are the services running the slapipe image, by name.
func slapipeServices(p *types.Project) map[string]types.ServiceConfig {
	out := map[string]types.ServiceConfig{}
	for name, s := range p.Services {
		if strings.HasPrefix(s.Image, "slapipe:") {
			out[name] = s
		}
	}
	return out
}

func TestComposeServicesAndPorts(t *testing.T) {
	p := loadCompose(t)
	require.Equal(t, "slapipe", p.Name)
	names := p.ServiceNames()
	sort.Strings(names)
	require.Equal(t, []string{"dataretrieval", "datastorage", "etl-worker", "grafana", "kafka", "kafka-init", "migrate",
		"mysql", "node-exporter", "prometheus", "slamanager"}, names)

	published := map[int]string{}
	for name, s := range p.Services {
		for _, port := range s.Ports {
			n, err := parsePort(port.Published)
			require.NoError(t, err, "%s: published port %q", name, port.Published)
			require.Equal(t, uint32(n), port.Target, "%s publishes %d on the same container port", name, n)
			require.NotContains(t, published, n, "port %d published twice", n)
			published[n] = name
		}
	}
	// Only Grafana and the two gRPC services (TLS and tokens) face the
	// network; Kafka, MySQL, Prometheus and node_exporter stay inside.
	require.Equal(t, map[int]string{50051: "slamanager", 50052: "dataretrieval", 3000: "grafana"}, published)

	ss := slapipeServices(p)
	require.Len(t, ss, 5, "migrate, datastorage, dataretrieval, etl-worker and slamanager run the slapipe image")
	for name, s := range ss {
		require.NotNil(t, s.Build, "%s builds the image from the Dockerfile", name)
		require.Equal(t, "Dockerfile", filepath.Base(s.Build.Dockerfile), name)
	}
	for name, s := range ss {
		require.NotNil(t, s.StopGracePeriod, "%s sets stop_grace_period", name)
		grace := time.Duration(*s.StopGracePeriod)
		require.Greater(t, grace, datastorage.DefaultShutdownGrace, "%s: a batch in flight at SIGTERM is written and committed before SIGKILL", name)
		require.Greater(t, grace, server.ShutdownTimeout, "%s: calls in flight at SIGTERM finish before SIGKILL", name)
	}
	ds := p.Services["datastorage"]
	require.NotNil(t, ds.Deploy)
	require.NotNil(t, ds.Deploy.Replicas)
	require.Greater(t, *ds.Deploy.Replicas, 1, "several datastorage replicas share the partitions")
	ew := p.Services["etl-worker"]
	require.Equal(t, []string{"etl", "worker"}, []string(ew.Command[:2]))
	require.NotNil(t, ew.Deploy)
	require.NotNil(t, ew.Deploy.Replicas)
	require.Equal(t, 2, *ew.Deploy.Replicas, "two ETL workers share the runs' tasks")
	require.Contains(t, strings.Join(p.Services["slamanager"].Command, " "), "--etl-workers 0", "the SLA manager leaves the tasks to the workers")
}

// TestComposeEnvironmentMatchesCLIDoc checks that the slapipe services are
// configured only through the variables of cli.md's table, with values
// their flags accept, and through command-line flags the commands have.
func TestComposeEnvironmentMatchesCLIDoc(t *testing.T) {
	doc := readCLIDoc(t)
	p := loadCompose(t)
	for name, s := range slapipeServices(p) {
		t.Run(name, func(t *testing.T) {
			require.NotEmpty(t, s.Environment)
			for k, v := range s.Environment {
				require.True(t, strings.HasPrefix(k, "SLAPIPE_"), "%s sets %s: only SLAPIPE_* settings", name, k)
				flag, ok := doc.envToFlag[k]
				require.True(t, ok, "%s sets %s, which docs/cli.md's settings table does not list", name, k)
				require.NotNil(t, v, "%s=%s has a value", k, name)
				require.NoError(t, flagValues[flag](*v), "%s=%q must parse as %s does", k, *v, flag)
			}
			require.NotEmpty(t, s.Command)
			require.True(t, doc.commands[s.Command[0]], "%s runs `slapipe %s`, which cli.md does not list", name, s.Command[0])
			args := s.Command[1:]
			if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
				args = args[1:] // a subcommand: `etl worker`
			}
			require.Zero(t, len(args)%2, "%s: flags come as --flag value pairs: %v", name, args)
			for i := 0; i < len(args); i += 2 {
				check, ok := commandFlags[args[i]]
				require.True(t, ok, "%s: unknown flag %s", name, args[i])
				require.NoError(t, check(args[i+1]), "%s: %s %q", name, args[i], args[i+1])
			}
		})
	}
	listen := map[string]string{"slamanager": "50051", "dataretrieval": "50052"}
	for name, port := range listen {
		v := p.Services[name].Environment["SLAPIPE_LISTEN"]
		require.NotNil(t, v, "%s sets SLAPIPE_LISTEN", name)
		_, got, err := net.SplitHostPort(*v)
		require.NoError(t, err)
		require.Equal(t, port, got, "%s listens on the port it publishes", name)
	}
}

func TestComposeDependsOn(t *testing.T) {
	p := loadCompose(t)
	want := map[string]map[string]string{
		"kafka-init":    {"kafka": types.ServiceConditionHealthy},
		"migrate":       {"mysql": types.ServiceConditionHealthy},
		"datastorage":   {"migrate": types.ServiceConditionCompletedSuccessfully, "kafka-init": types.ServiceConditionCompletedSuccessfully},
		"dataretrieval": {"migrate": types.ServiceConditionCompletedSuccessfully},
		"slamanager": {"migrate": types.ServiceConditionCompletedSuccessfully, "kafka-init": types.ServiceConditionCompletedSuccessfully,
			"prometheus": types.ServiceConditionHealthy},
		"grafana": {"mysql": types.ServiceConditionHealthy, "prometheus": types.ServiceConditionHealthy},
	}
	for service, deps := range want {
		for dep, cond := range deps {
			got, ok := p.Services[service].DependsOn[dep]
			require.True(t, ok, "%s depends on %s", service, dep)
			require.Equal(t, cond, got.Condition, "%s -> %s", service, dep)
		}
	}
	// A service waited for as healthy must have a health check.
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionHealthy {
				hc := p.Services[dep].HealthCheck
				require.True(t, hc != nil && len(hc.Test) > 0 && !hc.Disable, "%s waits for %s to be healthy: it needs a healthcheck", name, dep)
			}
		}
	}
	for _, name := range []string{"migrate", "kafka-init"} {
		require.Equal(t, "no", p.Services[name].Restart, "%s runs once", name)
	}
}

var topicCreate = regexp.MustCompile(`--topic\s+(\S+)\s+--partitions\s+(\d+)`)

func TestComposeCreatesTopics(t *testing.T) {
	p := loadCompose(t)
	script := strings.Join(append(append([]string{}, p.Services["kafka-init"].Entrypoint...), p.Services["kafka-init"].Command...), " ")
	require.Contains(t, script, "kafka-topics.sh")
	parts := map[string]int{}
	for _, m := range topicCreate.FindAllStringSubmatch(script, -1) {
		n, err := strconv.Atoi(m[2])
		require.NoError(t, err)
		parts[m[1]] = n
	}
	topic := p.Services["datastorage"].Environment["SLAPIPE_KAFKA_TOPIC"]
	require.NotNil(t, topic)
	// The components derive the other topics from --kafka-topic.
	for _, name := range []string{*topic, *topic + ".runs", *topic + ".dlq", *topic + ".tasks", *topic + ".progress"} {
		require.Contains(t, parts, name, "kafka-init creates %s", name)
	}
	ds := p.Services["datastorage"]
	require.Greater(t, parts[*topic], 1, "%s has several partitions", *topic)
	require.GreaterOrEqual(t, parts[*topic], *ds.Deploy.Replicas, "every datastorage replica gets a partition")
	require.GreaterOrEqual(t, parts[*topic+".tasks"], *p.Services["etl-worker"].Deploy.Replicas, "every etl worker gets tasks")
	require.Equal(t, 1, parts[*topic+".progress"], "the coordinator reads the task reports of one partition")
	auto := p.Services["kafka"].Environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]
	require.True(t, auto != nil && *auto == "false", "topics come from kafka-init, never from a first use with default settings")
}

// TestComposeSecrets: credentials are files under /run/secrets written by
// scripts/compose-secrets.sh, never values in the environment; the gRPC
// services run TLS with tokens and every /metrics is protected.
func TestComposeSecrets(t *testing.T) {
	p := loadCompose(t)
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	// The script writes every declared secret, and what it writes works.
	dir := filepath.Join(t.TempDir(), "secrets")
	cmd := exec.Command(filepath.Join(root, "scripts", "compose-secrets.sh"))
	cmd.Env = append(os.Environ(), "SECRETS_DIR="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for name, s := range p.Secrets {
		require.Equal(t, filepath.Join(root, "secrets", name), s.File, "secret %s comes from ./secrets", name)
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, "scripts/compose-secrets.sh writes %s", name)
		require.NotZero(t, fi.Size(), name)
	}
	auth, err := server.LoadAuthFile(filepath.Join(dir, "auth.yaml"))
	require.NoError(t, err)
	require.Len(t, auth.Tokens, 2)
	dsn, err := os.ReadFile(filepath.Join(dir, "mysql.dsn"))
	require.NoError(t, err)
	require.NoError(t, checkDSN(strings.TrimSpace(string(dsn))))
	pass, err := os.ReadFile(filepath.Join(dir, "mysql.password"))
	require.NoError(t, err)
	require.Contains(t, string(dsn), ":"+string(pass)+"@", "the DSN carries the password MySQL was given")
	// The web configuration's user is Prometheus' with metrics.password.
	var webCfg web.Config
	b, err := os.ReadFile(filepath.Join(dir, "web.yml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &webCfg))
	metricsPass, err := os.ReadFile(filepath.Join(dir, "metrics.password"))
	require.NoError(t, err)
	hash, ok := webCfg.Users["prometheus"]
	require.True(t, ok, "web.yml has the user prometheus.yml scrapes with")
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), metricsPass))
	require.Equal(t, "/run/secrets/server.pem", webCfg.TLSConfig.TLSCertPath)
	mountedSecret := regexp.MustCompile(`/run/secrets/([^/\s"]+)`)
	for name, s := range p.Services {
		mounted := map[string]bool{}
		for _, sec := range s.Secrets {
			require.Contains(t, p.Secrets, sec.Source, "%s mounts an undeclared secret", name)
			mounted[sec.Source] = true
		}
		var refs []string
		for k, v := range s.Environment {
			require.NotNil(t, v, "%s: %s", name, k)
			require.False(t, k == "SLAPIPE_MYSQL_DSN" || (strings.Contains(k, "PASSWORD") && !strings.HasSuffix(k, "_FILE")),
				"%s puts a secret in the environment (%s): use a file", name, k)
			refs = append(refs, *v)
		}
		if s.HealthCheck != nil {
			refs = append(refs, s.HealthCheck.Test...)
		}
		for _, ref := range refs {
			for _, m := range mountedSecret.FindAllStringSubmatch(ref, -1) {
				require.True(t, mounted[m[1]], "%s reads /run/secrets/%s without mounting it", name, m[1])
			}
		}
	}
	for _, name := range []string{"slamanager", "dataretrieval"} {
		env := p.Services[name].Environment
		for _, k := range []string{"SLAPIPE_TLS_CERT_FILE", "SLAPIPE_TLS_KEY_FILE", "SLAPIPE_AUTH_FILE", "SLAPIPE_WEB_CONFIG_FILE"} {
			require.NotNil(t, env[k], "%s sets %s", name, k)
		}
		require.Contains(t, strings.Join(p.Services[name].HealthCheck.Test, " "), "--token-file", "%s's health check authenticates", name)
	}
	require.NotNil(t, p.Services["datastorage"].Environment["SLAPIPE_WEB_CONFIG_FILE"], "datastorage's /metrics is protected")
}
