package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/rules"
	"github.com/slapipe/slapipe/pkg/server"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
	"github.com/slapipe/slapipe/slamanager"
)

// The alerting test's history: a gauge rising 1 per 5 s step that reaches
// its bound alertBound alertCrossSteps steps (5 minutes) after the last
// backfilled point, and a flat gauge far under the same bound.
const (
	alertBound      = 10000.0
	alertCrossSteps = 60
	alertPoints     = 8641 + 120 // the 12 h pull and 10 minutes before it
	alertInstance   = "alerts-e2e:0"
)

// alertHistory writes both series as OpenMetrics for promtool's backfill,
// the last point at end.
func alertHistory(end time.Time) string {
	var b strings.Builder
	r := rand.New(rand.NewPCG(7, 7))
	for _, s := range []struct {
		name  string
		value func(ago int) float64
	}{
		{"slapipe_e2e_rising", func(ago int) float64 { return alertBound - alertCrossSteps - float64(ago) + r.Float64() - 0.5 }},
		{"slapipe_e2e_flat", func(int) float64 { return 500 + 4*r.Float64() - 2 }},
	} {
		fmt.Fprintf(&b, "# TYPE %s gauge\n", s.name)
		for i := range alertPoints {
			ago := alertPoints - 1 - i
			fmt.Fprintf(&b, "%s{instance=%q,job=\"alerts-e2e\"} %s %d\n", s.name, alertInstance,
				strconv.FormatFloat(s.value(ago), 'f', 3, 64), end.Unix()-int64(ago)*5)
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

// startServer runs a Debian server binary until the test ends (SIGTERM,
// then SIGKILL) and waits for url+"/-/ready".
func startServer(t *testing.T, dir, name, url string, args ...string) {
	t.Helper()
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	require.NoError(t, err)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("%s log:\n%s", name, tail(string(b), 3000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("%s exited before ready:\n%s", name, tail(string(b), 3000))
		default:
		}
		require.True(t, time.Now().Before(deadline), "%s not ready within 30 s", name)
		time.Sleep(50 * time.Millisecond)
	}
}

// amAlert is an alert as Alertmanager's v2 API lists it.
type amAlert struct {
	Labels map[string]string `json:"labels"`
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

// activeAlerts lists Alertmanager's active (unresolved) alerts.
func activeAlerts(amURL string) ([]amAlert, error) {
	resp, err := http.Get(amURL + "/api/v2/alerts?active=true&silenced=false&inhibited=false")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("alertmanager: %s", resp.Status)
	}
	var out []amAlert
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// promAlerts lists the alerts of Prometheus' rules (pending or firing).
func promAlerts(promURL string) ([]amAlert, error) {
	resp, err := http.Get(promURL + "/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	var out []amAlert
	for _, a := range body.Data.Alerts {
		x := amAlert{Labels: a.Labels}
		x.Status.State = a.State
		out = append(out, x)
	}
	return out, nil
}

// TestPredictedViolationAlerts runs the SLA manager (real ETL through an
// in-process Kafka, datastorage, SQLite) against Debian's Prometheus,
// which backfills a series built to cross its bound 5 minutes after its
// last point and a flat one, scrapes the manager's /metrics every second,
// evaluates the rules `ctl rules` generates every second and sends to
// Debian's Alertmanager, to which the manager also posts directly
// (--alertmanager-url). The predicted violation of the rising series
// reaches Alertmanager by both ways before the crossing; the flat series
// raises nothing; once the SLA set puts the rising series' bound out of
// reach, both alerts resolve.
func TestPredictedViolationAlerts(t *testing.T) {
	const prom, promtool, am = "/usr/bin/prometheus", "/usr/bin/promtool", "/usr/bin/prometheus-alertmanager"
	for _, bin := range []string{prom, promtool, am} {
		if _, err := os.Stat(bin); err != nil {
			testenv.Unavailable(t, bin+" is not installed (scripts/servers.sh installs prometheus and prometheus-alertmanager)")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	end := time.Now().Add(-time.Second).Truncate(5 * time.Second)
	crossing := end.Add(alertCrossSteps * 5 * time.Second)

	// The SLA set, and the rules generated for it with short `for`s.
	set := []*slapipev1.Objective{
		{Name: "rising", Selector: "slapipe_e2e_rising", Max: proto.Float64(alertBound)},
		{Name: "flat", Selector: "slapipe_e2e_flat", Max: proto.Float64(alertBound)},
	}
	g, err := rules.Groups(&slapipev1.SLASet{Objectives: set}, rules.Config{PredictedFor: 2 * time.Second, ViolationFor: 2 * time.Second})
	require.NoError(t, err)
	rb, err := rules.Marshal(g)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), rb, 0o600))

	// The SLA manager and its pipeline, /metrics on a free port.
	brokers := testkit.Broker(t, 0)
	st, err := store.OpenMigrated(ctx, "sqlite:"+filepath.Join(dir, "slapipe.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	amURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	promURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	e, err := etl.New(etl.Config{PrometheusURL: promURL, Brokers: brokers, Partitions: 1}, etl.Deps{Logger: testenv.Logger(t)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	reg := prometheus.NewRegistry()
	m, err := slamanager.New(slamanager.Config{Listen: "127.0.0.1:0", PrometheusURL: promURL, WatchList: []string{},
		EvaluationInterval: time.Second, AlertmanagerURL: amURL},
		slamanager.Deps{Store: st, ETL: e, Logger: testenv.Logger(t), Registerer: reg})
	require.NoError(t, err)
	ds, err := datastorage.New(datastorage.Config{Brokers: brokers, GroupID: "alerts-e2e", BatchWait: 50 * time.Millisecond},
		st, datastorage.Deps{Logger: testenv.Logger(t)})
	require.NoError(t, err)
	grp, gctx := errgroup.WithContext(ctx)
	t.Cleanup(func() {
		cancel()
		_ = grp.Wait()
	})
	metricsAddr := make(chan net.Addr, 1)
	grp.Go(func() error {
		return server.ServeMetrics(gctx, server.MetricsConfig{Listen: "127.0.0.1:0"}, reg, testenv.Logger(t),
			func(a net.Addr) { metricsAddr <- a })
	})
	var maddr net.Addr
	select {
	case maddr = <-metricsAddr:
	case <-time.After(10 * time.Second):
		t.Fatal("/metrics did not listen")
	}

	// Alertmanager, then Prometheus over the backfill, scraping the
	// manager, evaluating the rules and alerting Alertmanager; its alerts
	// carry the external label source="prometheus", the manager's do not.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(
		"route:\n  receiver: none\n  group_wait: 1s\nreceivers:\n  - name: none\n"), 0o600))
	startServer(t, dir, "alertmanager", amURL, am, "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "am"), "--web.listen-address="+strings.TrimPrefix(amURL, "http://"),
		"--cluster.listen-address=")
	om := filepath.Join(dir, "backfill.om")
	require.NoError(t, os.WriteFile(om, []byte(alertHistory(end)), 0o600))
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", om,
		filepath.Join(dir, "prom")).CombinedOutput()
	require.NoError(t, err, "promtool: %s", out)
	promCfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
  external_labels: {source: prometheus}
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs: [{targets: [%q]}]
scrape_configs:
  - job_name: slamanager
    honor_labels: true
    static_configs: [{targets: [%q]}]
`, filepath.Join(dir, "rules.yml"), strings.TrimPrefix(amURL, "http://"), maddr.String())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(promCfg), 0o600))
	startServer(t, dir, "prometheus", promURL, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "prom"), "--web.listen-address="+strings.TrimPrefix(promURL, "http://"),
		"--storage.tsdb.retention.time=30d")

	grp.Go(func() error { return ds.Run(gctx) })
	grp.Go(func() error { return m.Run(gctx) })
	select {
	case <-m.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the SLA manager did not start")
	}
	_, err = m.SetSLA(ctx, &slapipev1.SetSLARequest{Objectives: set})
	require.NoError(t, err)
	run := runETL(t, m.Addr().String())
	require.Equal(t, "succeeded", run.GetStatus(), run.GetError())
	require.EqualValues(t, 2, run.GetSeries())

	// Both alerts of the rising series reach Alertmanager before its
	// crossing.
	byWay := func(as []amAlert, objective string) map[string]bool {
		out := map[string]bool{}
		for _, a := range as {
			if a.Labels["objective"] == objective && a.Labels["alertname"] == rules.AlertPredicted {
				out[a.Labels["source"]] = true
			}
		}
		return out
	}
	t0 := time.Now()
	var active []amAlert
	waitFor(t, "the predicted violation in alertmanager, from the rules and from the manager", func() (bool, error) {
		var err error
		active, err = activeAlerts(amURL)
		w := byWay(active, "rising")
		return w["prometheus"] && w[""], err
	})
	require.True(t, time.Now().Before(crossing), "fired at %s, after the crossing at %s", time.Now(), crossing)
	t.Logf("predicted violation in alertmanager %s after the run, %s before the crossing",
		time.Since(t0).Round(time.Millisecond), time.Until(crossing).Round(time.Second))
	for _, a := range active {
		require.Equal(t, "rising", a.Labels["objective"], "only the rising series alerts: %v", a.Labels)
		require.Equal(t, rules.AlertPredicted, a.Labels["alertname"], "nothing is out of range yet: %v", a.Labels)
		require.Equal(t, "slapipe_e2e_rising", a.Labels["metric"])
		require.Equal(t, alertInstance, a.Labels["instance"], "the series' own labels (honor_labels)")
	}
	// The flat series' rules were evaluated on the same scrapes, over its
	// scraped prediction: nothing pending or firing.
	flatP := promValue(t, promURL, `slapipe_sla_violation_probability{objective="flat",metric="slapipe_e2e_flat"}`)
	require.Less(t, flatP, 0.01, "the flat series' scraped probability")
	pa, err := promAlerts(promURL)
	require.NoError(t, err)
	for _, a := range pa {
		require.NotEqual(t, "flat", a.Labels["objective"], "flat series alert: %v", a)
	}

	// The bound moved out of reach: both alerts resolve.
	set[0].Max = proto.Float64(1e9)
	_, err = m.SetSLA(ctx, &slapipev1.SetSLARequest{Objectives: set})
	require.NoError(t, err)
	t1 := time.Now()
	waitFor(t, "the predicted violation resolved in alertmanager", func() (bool, error) {
		active, err := activeAlerts(amURL)
		return len(byWay(active, "rising")) == 0 && len(active) == 0, err
	})
	t.Logf("resolved %s after the SLA change", time.Since(t1).Round(time.Millisecond))
}

// runETL starts a run through the SLA manager's RunETL and returns its
// summary, once datastorage has stored it (the manager reads forecasts
// from the store).
func runETL(t *testing.T, addr string) *slapipev1.Run {
	t.Helper()
	c := dialSLA(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	stream, err := c.RunETL(ctx, &slapipev1.RunETLRequest{})
	require.NoError(t, err)
	var run *slapipev1.Run
	for {
		p, err := stream.Recv()
		if err != nil {
			break
		}
		if p.GetRun() != nil {
			run = p.GetRun()
		}
	}
	require.NotNil(t, run, "the run's summary")
	return run
}

// promValue is the value of the one series query returns in Prometheus now.
func promValue(t *testing.T, promURL, query string) float64 {
	t.Helper()
	resp, err := http.Get(promURL + "/api/v1/query?query=" + url.QueryEscape(query))
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Len(t, body.Data.Result, 1, "%s: one series", query)
	s, _ := body.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return v
}

// dialSLA connects a client to the SLA manager at addr until the test ends.
func dialSLA(t *testing.T, addr string) slapipev1.SLAManagerClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return slapipev1.NewSLAManagerClient(conn)
}
