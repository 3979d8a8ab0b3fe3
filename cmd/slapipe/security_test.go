package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/slapipe/slapipe/internal/testing/testcerts"
	"github.com/slapipe/slapipe/pkg/ctl/ctltest"
	"github.com/slapipe/slapipe/pkg/server"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Tokens of the secured tests: long enough to never occur in a log by chance.
const (
	readToken  = "read-7c1e0f2b9a4d48e6b3f5a1c9d2e8f4b7"
	adminToken = "admin-5d8a2c6e1f9b47d3a0e4c7b2f6d1a9e3"
)

// secured is the security material of one test: a CA, a server
// certificate for 127.0.0.1, an auth file with a read and an admin token
// (and files holding them), and an exporter-toolkit web configuration with
// basic auth user "prom" / "scrape-secret".
type secured struct {
	ca                            *testcerts.CA
	srv                           testcerts.Pair
	authFile, webConfig           string
	readTokenFile, adminTokenFile string
	serverFlags                   []string
}

func newSecured(t *testing.T) *secured {
	t.Helper()
	dir := t.TempDir()
	s := &secured{ca: testcerts.NewCA(t, "slapipe")}
	s.srv = s.ca.Server(t, "grpc", "127.0.0.1", "localhost")
	var b strings.Builder
	b.WriteString("tokens:\n")
	for _, e := range []struct{ name, role, token string }{{"grafana", "read", readToken}, {"operator", "admin", adminToken}} {
		sum := sha256.Sum256([]byte(e.token))
		fmt.Fprintf(&b, "  - name: %s\n    role: %s\n    sha256: %s\n", e.name, e.role, hex.EncodeToString(sum[:]))
	}
	s.authFile = filepath.Join(dir, "auth.yaml")
	require.NoError(t, os.WriteFile(s.authFile, []byte(b.String()), 0o600))
	s.readTokenFile = filepath.Join(dir, "read.token")
	s.adminTokenFile = filepath.Join(dir, "admin.token")
	require.NoError(t, os.WriteFile(s.readTokenFile, []byte(readToken+"\n"), 0o600))
	require.NoError(t, os.WriteFile(s.adminTokenFile, []byte(adminToken+"\n"), 0o600))
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-secret"), bcrypt.MinCost)
	require.NoError(t, err)
	s.webConfig = filepath.Join(dir, "web.yml")
	require.NoError(t, os.WriteFile(s.webConfig, []byte(fmt.Sprintf(
		"tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prom: %s\n", s.srv.CertFile, s.srv.KeyFile, hash)), 0o600))
	s.serverFlags = []string{"--tls-cert-file", s.srv.CertFile, "--tls-key-file", s.srv.KeyFile,
		"--auth-file", s.authFile, "--web-config-file", s.webConfig, "--log-level", "debug"}
	return s
}

func (s *secured) tlsConfig(t *testing.T) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(s.ca.CertFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func (s *secured) dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(s.tlsConfig(t))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// call is one RPC made with whatever token the context carries.
type call struct {
	name  string
	admin bool
	do    func(ctx context.Context) error
}

func slaCalls(c slapipev1.SLAManagerClient) []call {
	obj := &slapipev1.Objective{Name: "load", Selector: "node_load1", Max: new(float64)}
	*obj.Max = 4
	return []call{
		{"GetSLA", false, func(ctx context.Context) error { _, err := c.GetSLA(ctx, &slapipev1.GetSLARequest{}); return err }},
		{"ListMetrics", false, func(ctx context.Context) error {
			_, err := c.ListMetrics(ctx, &slapipev1.ListPromMetricsRequest{})
			return err
		}},
		{"ListRuns", false, func(ctx context.Context) error { _, err := c.ListRuns(ctx, &slapipev1.ListRunsRequest{}); return err }},
		{"GetViolations", false, func(ctx context.Context) error {
			_, err := c.GetViolations(ctx, &slapipev1.GetViolationsRequest{})
			return err
		}},
		{"GetPredictions", false, func(ctx context.Context) error {
			_, err := c.GetPredictions(ctx, &slapipev1.GetPredictionsRequest{})
			return err
		}},
		{"GetStatus", false, func(ctx context.Context) error { _, err := c.GetStatus(ctx, &slapipev1.GetStatusRequest{}); return err }},
		{"GetBudget", false, func(ctx context.Context) error { _, err := c.GetBudget(ctx, &slapipev1.GetBudgetRequest{}); return err }},
		{"SetSLA", true, func(ctx context.Context) error {
			_, err := c.SetSLA(ctx, &slapipev1.SetSLARequest{Objectives: []*slapipev1.Objective{obj}})
			return err
		}},
		{"AddObjective", true, func(ctx context.Context) error {
			o := &slapipev1.Objective{Name: "swap", Selector: "node_memory_SwapFree_bytes", Min: new(float64)}
			_, err := c.AddObjective(ctx, &slapipev1.AddObjectiveRequest{Objective: o})
			return err
		}},
		{"RemoveObjective", true, func(ctx context.Context) error {
			_, err := c.RemoveObjective(ctx, &slapipev1.RemoveObjectiveRequest{Name: "swap"})
			return err
		}},
		{"RunETL", true, func(ctx context.Context) error {
			// An invalid selector: accepted calls end with InvalidArgument
			// instead of a run against the absent Prometheus and Kafka.
			stream, err := c.RunETL(ctx, &slapipev1.RunETLRequest{Selectors: []string{"{"}})
			if err != nil {
				return err
			}
			for {
				if _, err := stream.Recv(); err != nil {
					if errors.Is(err, io.EOF) {
						return nil
					}
					return err
				}
			}
		}},
	}
}

func retrievalCalls(c slapipev1.DataRetrievalClient) []call {
	q := &slapipev1.SeriesQuery{Metric: "node_load1"}
	return []call{
		{"ListMetrics", false, func(ctx context.Context) error {
			_, err := c.ListMetrics(ctx, &slapipev1.ListMetricsRequest{})
			return err
		}},
		{"ListSeries", false, func(ctx context.Context) error {
			_, err := c.ListSeries(ctx, &slapipev1.ListSeriesRequest{Metric: "node_load1"})
			return err
		}},
		{"GetStats", false, func(ctx context.Context) error { _, err := c.GetStats(ctx, q); return err }},
		{"GetMetadata", false, func(ctx context.Context) error { _, err := c.GetMetadata(ctx, q); return err }},
		{"GetForecast", false, func(ctx context.Context) error { _, err := c.GetForecast(ctx, q); return err }},
		{"ListRuns", false, func(ctx context.Context) error { _, err := c.ListRuns(ctx, &slapipev1.ListRunsRequest{}); return err }},
	}
}

// TestSecuredServices runs slamanager and dataretrieval with TLS, an auth
// file and a protected /metrics, and checks every RPC of both services with
// no token, a read token and an admin token, the logs, /metrics and ctl.
func TestSecuredServices(t *testing.T) {
	s := newSecured(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "slapipe.db")
	require.Equal(t, 0, runBinary(t, "", nil, "migrate", "--mysql-dsn", dsn).code)

	slaAddr, retAddr := ctltest.UnusedAddr(t), ctltest.UnusedAddr(t)
	sla := startDaemon(t, append([]string{"slamanager", "--mysql-dsn", dsn, "--listen", slaAddr, "--etl-interval", "0",
		"--prometheus-url", "http://" + ctltest.UnusedAddr(t), "--kafka-brokers", ctltest.UnusedAddr(t)}, s.serverFlags...)...)
	ret := startDaemon(t, append([]string{"dataretrieval", "--mysql-dsn", dsn, "--listen", retAddr}, s.serverFlags...)...)
	metricsRE := regexp.MustCompile(`metrics at (https://\S+/metrics)`)
	slaMetrics := sla.waitFor(metricsRE)[1]
	retMetrics := ret.waitFor(metricsRE)[1]

	withToken := func(tok string) context.Context {
		ctx := context.Background()
		if tok != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
		}
		return ctx
	}
	waitServing(t, s.dial(t, slaAddr))
	waitServing(t, s.dial(t, retAddr))

	services := map[string][]call{
		"slamanager":    slaCalls(slapipev1.NewSLAManagerClient(s.dial(t, slaAddr))),
		"dataretrieval": retrievalCalls(slapipev1.NewDataRetrievalClient(s.dial(t, retAddr))),
	}
	refusals := 0
	for svc, calls := range services {
		for _, c := range calls {
			t.Run(svc+"/"+c.name, func(t *testing.T) {
				for _, tc := range []struct {
					who, token string
					want       codes.Code // OK means "let through": any code but the two refusals
				}{
					{"no token", "", codes.Unauthenticated},
					{"unknown token", "not-a-listed-token", codes.Unauthenticated},
					{"read", readToken, map[bool]codes.Code{false: codes.OK, true: codes.PermissionDenied}[c.admin]},
					{"admin", adminToken, codes.OK},
				} {
					ctx, cancel := context.WithTimeout(withToken(tc.token), 10*time.Second)
					got := status.Code(c.do(ctx))
					cancel()
					if tc.want == codes.OK {
						require.NotContains(t, []codes.Code{codes.Unauthenticated, codes.PermissionDenied}, got, tc.who)
						continue
					}
					refusals++
					require.Equal(t, tc.want, got, tc.who)
				}
			})
		}
	}
	require.Equal(t, 2*17+4, refusals, "17 calls refused twice without a valid token, 4 writes refused to the read token")

	// The health service needs no token.
	for _, addr := range []string{slaAddr, retAddr} {
		resp, err := healthpb.NewHealthClient(s.dial(t, addr)).Check(context.Background(), &healthpb.HealthCheckRequest{})
		require.NoError(t, err)
		require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	}

	// /metrics: 401 without basic auth, 200 with, refusals counted.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: s.tlsConfig(t)}}
	for _, u := range []string{slaMetrics, retMetrics} {
		resp, err := client.Get(u)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, u)
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		req.SetBasicAuth("prom", "scrape-secret")
		resp, err = client.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, u)
		require.Regexp(t, `slapipe_grpc_auth_refused_total\{grpc_code="Unauthenticated",grpc_method="\w+",grpc_service="slapipe\.v1\.\w+"\} 2`, string(body))
	}
	permission := regexp.MustCompile(`slapipe_grpc_auth_refused_total\{grpc_code="PermissionDenied",grpc_method="SetSLA",grpc_service="slapipe.v1.SLAManager"\} 1`)
	req, _ := http.NewRequest(http.MethodGet, slaMetrics, nil)
	req.SetBasicAuth("prom", "scrape-secret")
	resp, err := client.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Regexp(t, permission, string(body))

	// ctl: TLS and tokens from a file or the environment.
	caFlags := []string{"ctl", "--sla-addr", slaAddr, "--retrieval-addr", retAddr, "--tls-ca-file", s.ca.CertFile}
	r := runBinary(t, "", nil, append(caFlags, "--token-file", s.readTokenFile, "-o", "json", "sla", "get")...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"objectives"`)
	r = runBinary(t, "", nil, append(caFlags, "--token-file", s.readTokenFile, "sla", "remove", "load")...)
	requireOneLineError(t, r, 1, `token "grafana" has role read: /slapipe.v1.SLAManager/RemoveObjective needs an admin token`)
	r = runBinary(t, "", nil, append(caFlags, "runs")...)
	requireOneLineError(t, r, 1, "missing bearer token")
	require.Contains(t, r.stderr, "--token-file or SLAPIPE_TOKEN")
	r = runBinary(t, "", []string{tokenEnv + "=" + adminToken}, append(caFlags, "-o", "json", "sla", "add", "--name", "load5", "--selector", "node_load5", "--max", "8")...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"load5"`)
	r = runBinary(t, "", []string{tokenEnv + "=" + readToken}, "ctl", "--sla-addr", slaAddr, "status")
	requireOneLineError(t, r, 1, "the SLA manager at "+slaAddr+" closed the connection before answering: if it serves TLS, give --tls-ca-file")
	other := testcerts.NewCA(t, "other")
	r = runBinary(t, "", []string{tokenEnv + "=" + readToken}, "ctl", "--sla-addr", slaAddr, "--tls-ca-file", other.CertFile, "status")
	requireOneLineError(t, r, 1, "no secure connection to the SLA manager at "+slaAddr)
	r = runBinary(t, "", []string{tokenEnv + "=" + readToken}, "ctl", "--sla-addr", "192.0.2.1:50051", "status")
	requireOneLineError(t, r, 2, "refusing to send the token in plaintext to 192.0.2.1:50051")

	// The SLA set's history names the token that changed it.
	st, err := store.Open(context.Background(), dsn)
	require.NoError(t, err)
	defer st.Close()
	hist, err := st.SLAHistory(context.Background(), 1)
	require.NoError(t, err)
	require.Len(t, hist, 1)
	require.Regexp(t, `^grpc:operator@127\.0\.0\.1:\d+$`, hist[0].Actor)

	// Logs: every refusal names the caller's address; no token anywhere.
	for name, d := range map[string]*daemon{"slamanager": sla, "dataretrieval": ret} {
		logs := d.stderr()
		require.Regexp(t, `grpc call refused.*peer=127\.0\.0\.1:\d+`, logs, name)
		for _, tok := range []string{readToken, adminToken, "not-a-listed-token"} {
			require.NotContains(t, logs, tok, "%s logged a token", name)
		}
	}
}

func waitServing(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
}

// TestServerSecurityRefusals: the command refuses an unsafe or half
// configuration with one line that says what to give.
func TestServerSecurityRefusals(t *testing.T) {
	s := newSecured(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "slapipe.db")
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	require.NoError(t, os.WriteFile(pass, []byte("s3cr3t-value"), 0o600))
	promCfg := filepath.Join(dir, "prom.yml")
	require.NoError(t, os.WriteFile(promCfg, []byte("basic_auth: {username: u, password_file: "+pass+"}\n"), 0o600))
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dataretrieval", "--listen", "0.0.0.0:0"}, 1, "refusing to listen on 0.0.0.0:0 without --auth-file"},
		{[]string{"slamanager", "--listen", "0.0.0.0:0"}, 1, "refusing to listen on 0.0.0.0:0 without --auth-file"},
		{[]string{"dataretrieval", "--listen", "127.0.0.1:0", "--tls-cert-file", s.srv.CertFile}, 1, "--tls-key-file is not"},
		{[]string{"slamanager", "--listen", "127.0.0.1:0", "--tls-client-ca-file", s.ca.CertFile}, 1, "--tls-client-ca-file needs --tls-cert-file"},
		{[]string{"demo", "--once", "--tls-cert-file", s.srv.CertFile, "--tls-key-file", s.srv.KeyFile, "--tls-client-ca-file", s.ca.CertFile,
			"--sla-listen", "127.0.0.1:0", "--retrieval-listen", "127.0.0.1:0"}, 1, "--tls-client-ca-file is not supported"},
		{[]string{"demo", "--once", "--kafka-sasl-mechanism", "plain", "--kafka-sasl-username", "u", "--kafka-sasl-password-file", pass},
			2, "are for real brokers: give --kafka-brokers"},
		{[]string{"demo", "--once", "--prometheus-config-file", promCfg}, 2, "is for a real Prometheus: give --prometheus-url"},
		{[]string{"slamanager", "--prometheus-config-file", pass}, 2, "cannot unmarshal !!str `...`"},
		{[]string{"datastorage", "--kafka-sasl-mechanism", "gssapi", "--kafka-sasl-username", "u", "--kafka-sasl-password-file", pass},
			2, `invalid --kafka-sasl-mechanism "gssapi"`},
		{[]string{"migrate", "--mysql-tls-ca-file", s.ca.CertFile}, 2, "--mysql-tls-ca-file is for MySQL"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := runBinary(t, "", nil, append(c.args, "--mysql-dsn", dsn)...)
			requireOneLineError(t, r, c.code, c.want)
			require.NotContains(t, r.stderr, "s3cr3t-value", "an error quotes a secret")
		})
	}
}

// TestMenuWithTLSAndToken: the interactive menu works over TLS with a token.
func TestMenuWithTLSAndToken(t *testing.T) {
	s := newSecured(t)
	sec := server.Security{TLS: server.TLSFiles{CertFile: s.srv.CertFile, KeyFile: s.srv.KeyFile}, AuthFile: s.authFile}
	addrs := map[string]string{}
	for _, name := range []string{"sla", "retrieval"} {
		srv, err := server.NewGRPC(nil, nil, "127.0.0.1:0", sec)
		require.NoError(t, err)
		if name == "sla" {
			slapipev1.RegisterSLAManagerServer(srv, ctltest.NewSLA())
		} else {
			slapipev1.RegisterDataRetrievalServer(srv, ctltest.NewRetrieval())
		}
		ctx, cancel := context.WithCancel(context.Background())
		addrc := make(chan net.Addr, 1)
		done := make(chan error, 1)
		go func() { done <- srv.ListenAndServe(ctx, func(a net.Addr) { addrc <- a }) }()
		t.Cleanup(func() { cancel(); <-done })
		addrs[name] = (<-addrc).String()
	}
	tm := startTerminal(t, "ctl", "--sla-addr", addrs["sla"], "--retrieval-addr", addrs["retrieval"],
		"--tls-ca-file", s.ca.CertFile, "--token-file", s.adminTokenFile)
	tm.waitFor("what do you want to do?")
	tm.send(keyEnter) // Status: the SLA manager over TLS with the token
	tm.waitFor("Last run")
	tm.waitFor("what do you want to do?")
	tm.send(strings.Repeat(keyDown, 8) + keyEnter) // Run the ETL now: an admin call
	tm.waitFor(ctltest.RunID + " succeeded: 3 series")
	tm.waitFor("what do you want to do?")
	tm.send(keyEnd + keyEnter)
	require.Equal(t, 0, tm.exit())
}
