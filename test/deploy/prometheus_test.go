package deploy

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/dns"
	"github.com/stretchr/testify/require"
)

// scrapeTarget is one way a job finds a target: a static host:port, or a
// DNS name resolved to every replica on port.
type scrapeTarget struct {
	job, host string
	port      int
	interval  time.Duration
	path      string
}

// scrapeTargets lists what each job of cfg scrapes.
func scrapeTargets(t testing.TB, cfg *config.Config) []scrapeTarget {
	t.Helper()
	scs, err := cfg.GetScrapeConfigs()
	require.NoError(t, err)
	var out []scrapeTarget
	for _, sc := range scs {
		base := scrapeTarget{job: sc.JobName, interval: time.Duration(sc.ScrapeInterval), path: sc.MetricsPath}
		for _, sd := range sc.ServiceDiscoveryConfigs {
			switch c := sd.(type) {
			case discovery.StaticConfig:
				for _, g := range c {
					for _, tg := range g.Targets {
						host, port, err := net.SplitHostPort(string(tg[model.AddressLabel]))
						require.NoError(t, err, "job %s target %v", sc.JobName, tg)
						p, err := strconv.Atoi(port)
						require.NoError(t, err)
						st := base
						st.host, st.port = host, p
						out = append(out, st)
					}
				}
			case *dns.SDConfig:
				for _, name := range c.Names {
					st := base
					st.host, st.port = name, c.Port
					out = append(out, st)
				}
			default:
				t.Fatalf("job %s: service discovery %T not understood by this test", sc.JobName, sd)
			}
		}
	}
	return out
}

func TestPrometheusConfig(t *testing.T) {
	cfg, err := config.LoadFile(filepath.Join(repoRoot, "prometheus.yml"), false, nil)
	require.NoError(t, err, "prometheus would refuse prometheus.yml")
	targets := scrapeTargets(t, cfg)
	find := func(host string, port int) *scrapeTarget {
		for i := range targets {
			if targets[i].host == host && targets[i].port == port {
				return &targets[i]
			}
		}
		return nil
	}

	ne := find("node-exporter", 9100)
	require.NotNil(t, ne, "node-exporter:9100 is scraped")
	require.Equal(t, 5*time.Second, ne.interval, "node_exporter every 5 s, the ETL's step")

	// Every long-running slapipe component is scraped on the port its
	// SLAPIPE_METRICS_LISTEN binds in docker-compose.yml.
	p := loadCompose(t)
	for _, name := range []string{"slamanager", "datastorage", "dataretrieval"} {
		v := p.Services[name].Environment["SLAPIPE_METRICS_LISTEN"]
		require.NotNil(t, v, "%s sets SLAPIPE_METRICS_LISTEN", name)
		_, port, err := net.SplitHostPort(*v)
		require.NoError(t, err)
		n, _ := strconv.Atoi(port)
		tg := find(name, n)
		require.NotNil(t, tg, "%s:%d (its /metrics) is scraped", name, n)
		require.Equal(t, "/metrics", tg.path, name)
		require.LessOrEqual(t, tg.interval, 15*time.Second, "%s scraped often enough for rate() over a minute", name)
	}

	// Every slapipe /metrics is TLS with basic auth (--web-config-file in
	// docker-compose.yml): every job scraping one presents both.
	scs, err := cfg.GetScrapeConfigs()
	require.NoError(t, err)
	for _, sc := range scs {
		if !strings.HasPrefix(sc.JobName, "slapipe") {
			continue
		}
		require.Equal(t, "https", sc.Scheme, "job %s", sc.JobName)
		ba := sc.HTTPClientConfig.BasicAuth
		require.True(t, ba != nil && ba.PasswordFile != "", "job %s: basic auth with a password file", sc.JobName)
		require.NotEmpty(t, sc.HTTPClientConfig.TLSConfig.CAFile, "job %s verifies the certificate", sc.JobName)
		for _, f := range []string{ba.PasswordFile, sc.HTTPClientConfig.TLSConfig.CAFile} {
			secret := strings.TrimPrefix(f, "/run/secrets/")
			mountedSecret := false
			for _, s := range p.Services["prometheus"].Secrets {
				mountedSecret = mountedSecret || s.Source == secret
			}
			require.True(t, mountedSecret, "job %s reads %s: the prometheus service mounts it", sc.JobName, f)
		}
	}

	mounted := false
	for _, v := range p.Services["prometheus"].Volumes {
		if filepath.Base(v.Source) == "prometheus.yml" && v.Target == "/etc/prometheus/prometheus.yml" {
			mounted = true
		}
	}
	require.True(t, mounted, "the prometheus service runs this prometheus.yml")
}
