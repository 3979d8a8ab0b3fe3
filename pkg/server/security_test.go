package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/slapipe/slapipe/internal/testing/testcerts"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func dialTLS(t *testing.T, addr string, cfg *tls.Config) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func pool(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	require.NoError(t, err)
	p := x509.NewCertPool()
	require.True(t, p.AppendCertsFromPEM(pem))
	return p
}

func check(ctx context.Context, conn *grpc.ClientConn, opts ...grpc.CallOption) error {
	_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, opts...)
	return err
}

// servedSerial returns the serial number of the certificate the server
// presented on a fresh connection.
func servedSerial(t *testing.T, addr string, roots *x509.CertPool) string {
	t.Helper()
	conn := dialTLS(t, addr, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
	var p peer.Peer
	require.NoError(t, check(context.Background(), conn, grpc.Peer(&p)))
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	require.True(t, ok, "not a TLS connection: %T", p.AuthInfo)
	return info.State.PeerCertificates[0].SerialNumber.String()
}

func TestTLSHandshakes(t *testing.T) {
	ca := testcerts.NewCA(t, "server")
	other := testcerts.NewCA(t, "other")
	srvPair := ca.Server(t, "grpc", "127.0.0.1", "localhost")
	clientCA := testcerts.NewCA(t, "clients")
	client := clientCA.Client(t, "ctl")
	stranger := other.Client(t, "stranger")
	loadPair := func(p testcerts.Pair) []tls.Certificate {
		c, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
		require.NoError(t, err)
		return []tls.Certificate{c}
	}

	t.Run("tls", func(t *testing.T) {
		_, addr := serve(t, prometheus.NewRegistry(), Security{TLS: TLSFiles{CertFile: srvPair.CertFile, KeyFile: srvPair.KeyFile}}, nil)
		require.NoError(t, check(context.Background(), dialTLS(t, addr, &tls.Config{RootCAs: pool(t, ca.CertFile)})))

		wrongCA := check(context.Background(), dialTLS(t, addr, &tls.Config{RootCAs: pool(t, other.CertFile)}))
		require.Equal(t, codes.Unavailable, status.Code(wrongCA), "%v", wrongCA)
		require.ErrorContains(t, wrongCA, "certificate signed by unknown authority")

		plain, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer plain.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = check(ctx, plain)
		require.Error(t, err, "plaintext call to a TLS server")
		require.Contains(t, []codes.Code{codes.Unavailable, codes.DeadlineExceeded}, status.Code(err), "%v", err)
	})

	t.Run("mutual tls", func(t *testing.T) {
		_, addr := serve(t, prometheus.NewRegistry(), Security{TLS: TLSFiles{
			CertFile: srvPair.CertFile, KeyFile: srvPair.KeyFile, ClientCAFile: clientCA.CertFile}}, nil)
		roots := pool(t, ca.CertFile)
		require.NoError(t, check(context.Background(), dialTLS(t, addr, &tls.Config{RootCAs: roots, Certificates: loadPair(client)})))
		for name, certs := range map[string][]tls.Certificate{"no client certificate": nil, "certificate of another CA": loadPair(stranger)} {
			err := check(context.Background(), dialTLS(t, addr, &tls.Config{RootCAs: roots, Certificates: certs}))
			require.Equal(t, codes.Unavailable, status.Code(err), "%s: %v", name, err)
		}
	})

	t.Run("rotation without restart", func(t *testing.T) {
		prev := reloadCheckInterval
		reloadCheckInterval = 0
		t.Cleanup(func() { reloadCheckInterval = prev })
		rot := ca.Server(t, "rotating", "127.0.0.1")
		_, addr := serve(t, prometheus.NewRegistry(), Security{TLS: TLSFiles{CertFile: rot.CertFile, KeyFile: rot.KeyFile}}, nil)
		roots := pool(t, ca.CertFile)
		first := servedSerial(t, addr, roots)
		require.Equal(t, first, servedSerial(t, addr, roots), "same files, same certificate")
		ca.Server(t, "rotating", "127.0.0.1") // new key and certificate, same paths
		// Make the change visible even on a file system with coarse times.
		later := time.Now().Add(time.Minute)
		require.NoError(t, os.Chtimes(rot.CertFile, later, later))
		require.NoError(t, os.Chtimes(rot.KeyFile, later, later))
		require.NotEqual(t, first, servedSerial(t, addr, roots), "the rotated certificate is served by the running server")
	})
}

func TestHalfConfigurationsNameTheMissingFlag(t *testing.T) {
	ca := testcerts.NewCA(t, "half")
	p := ca.Server(t, "srv", "127.0.0.1")
	cases := []struct {
		name string
		sec  Security
		want string
	}{
		{"cert without key", Security{TLS: TLSFiles{CertFile: p.CertFile}}, "--tls-key-file is not"},
		{"key without cert", Security{TLS: TLSFiles{KeyFile: p.KeyFile}}, "--tls-cert-file is not"},
		{"client CA without cert", Security{TLS: TLSFiles{ClientCAFile: ca.CertFile}}, "--tls-client-ca-file needs --tls-cert-file"},
		{"key that is not the cert's", Security{TLS: TLSFiles{CertFile: p.CertFile, KeyFile: ca.CertFile}}, "tls certificate"},
		{"missing auth file", Security{AuthFile: filepath.Join(t.TempDir(), "none.yaml")}, "--auth-file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewGRPC(nil, nil, "127.0.0.1:0", c.sec)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestNonLoopbackNeedsAuthOrInsecure(t *testing.T) {
	_, err := NewGRPC(nil, nil, "0.0.0.0:0", Security{})
	require.ErrorContains(t, err, "refusing to listen on 0.0.0.0:0 without --auth-file")
	require.ErrorContains(t, err, "--insecure")
	_, err = NewGRPC(nil, nil, ":50051", Security{})
	require.ErrorContains(t, err, "without --auth-file", "an empty host binds every interface")

	logs := &syncBuffer{}
	_, err = NewGRPC(slog.New(slog.NewTextHandler(logs, nil)), nil, "0.0.0.0:0", Security{Insecure: true})
	require.NoError(t, err)
	require.Contains(t, logs.String(), "serving without authentication on a non-loopback address (--insecure)")
	_, err = NewGRPC(nil, nil, "0.0.0.0:0", Security{AuthFile: writeAuthFile(t, map[string]Role{"a": RoleAdmin})})
	require.NoError(t, err)
	for _, l := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		_, err = NewGRPC(nil, nil, l, Security{})
		require.NoError(t, err, l)
	}
}

// writeAuthFile writes an auth file whose token of each name is "secret-"+name.
func writeAuthFile(t *testing.T, roles map[string]Role) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("tokens:\n")
	for name, role := range roles {
		sum := sha256.Sum256([]byte("secret-" + name))
		fmt.Fprintf(&b, "  - name: %s\n    role: %s\n    sha256: %s\n", name, role, hex.EncodeToString(sum[:]))
	}
	path := filepath.Join(t.TempDir(), "auth.yaml")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

func TestAuthFileValidation(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	h := hex.EncodeToString(sum[:])
	cases := []struct{ name, yaml, want string }{
		{"no tokens", "tokens: []\n", "tokens: none listed"},
		{"unknown key", "tokens:\n  - name: a\n    role: read\n    sha256: " + h + "\n    token: x\n", "field token not found"},
		{"empty name", "tokens:\n  - role: read\n    sha256: " + h + "\n", "tokens[0].name: empty"},
		{"name with a newline", "tokens:\n  - name: \"a\\nb\"\n    role: read\n    sha256: " + h + "\n", `tokens[0].name: "a\nb": use up to 64`},
		{"bad role", "tokens:\n  - name: a\n    role: root\n    sha256: " + h + "\n", `tokens[0].role: "root": use read or admin`},
		{"short hash", "tokens:\n  - name: a\n    role: read\n    sha256: abcd\n", "tokens[0].sha256: want the 64 hex digits"},
		{"same token twice", "tokens:\n  - name: a\n    role: read\n    sha256: " + h + "\n  - name: b\n    role: admin\n    sha256: " + strings.ToUpper(h) + "\n", `tokens[1].sha256: same token as "a"`},
		{"same name twice", "tokens:\n  - name: a\n    role: read\n    sha256: " + h + "\n  - name: a\n    role: admin\n    sha256: " + h[:63] + "0\n", `tokens[1].name: "a" listed twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.yaml")
			require.NoError(t, os.WriteFile(path, []byte(c.yaml), 0o600))
			_, err := LoadAuthFile(path)
			require.ErrorContains(t, err, c.want)
			require.NotContains(t, err.Error(), h[:16], "errors never repeat a hash")
		})
	}
}

func TestBearerTokensAndRoles(t *testing.T) {
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	sec := Security{AuthFile: writeAuthFile(t, map[string]Role{"reader": RoleRead, "operator": RoleAdmin})}
	r, addr := serve(t, reg, sec, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	close(r.p.release) // Block answers at once

	withToken := func(tok string) context.Context {
		if tok == "" {
			return context.Background()
		}
		return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	}
	probeAdmin := "/" + testService + "/Block" // not a listed read method: admin only
	cases := []struct {
		name, token string
		want        codes.Code
	}{
		{"no token", "", codes.Unauthenticated},
		{"unknown token", "secret-nobody", codes.Unauthenticated},
		{"read token on an admin call", "secret-reader", codes.PermissionDenied},
		{"admin token", "secret-operator", codes.OK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := conn.Invoke(withToken(c.token), probeAdmin, &emptypb.Empty{}, &emptypb.Empty{})
			require.Equal(t, c.want, status.Code(err), "%v", err)
			if c.want == codes.OK {
				require.Equal(t, "operator", r.p.caller.Load(), "the handler knows which token called")
			}
			// Health is open to everyone.
			require.NoError(t, check(withToken(c.token), conn))
		})
	}
	// A malformed header is no token.
	bad := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Basic c2VjcmV0LW9wZXJhdG9y")
	require.Equal(t, codes.Unauthenticated, status.Code(conn.Invoke(bad, probeAdmin, &emptypb.Empty{}, &emptypb.Empty{})))

	require.Equal(t, 3.0, metricValue(t, reg, "slapipe_grpc_auth_refused_total",
		map[string]string{"grpc_method": "Block", "grpc_code": "Unauthenticated"}))
	require.Equal(t, 1.0, metricValue(t, reg, "slapipe_grpc_auth_refused_total",
		map[string]string{"grpc_method": "Block", "grpc_code": "PermissionDenied"}))

	out := logs.String()
	require.Contains(t, out, "grpc call refused")
	require.Contains(t, out, "peer=127.0.0.1:", "refusals name the caller's address")
	require.Contains(t, out, "token reader has role read")
	for _, secret := range []string{"secret-reader", "secret-operator", "secret-nobody", "c2VjcmV0LW9wZXJhdG9y"} {
		require.NotContains(t, out, secret, "a token in the log")
	}
}

func listServices(ctx context.Context, conn *grpc.ClientConn) ([]string, error) {
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	// A refused stream may end before Send; its status then comes from Recv.
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"},
	}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names, nil
}

func TestReflectionOnlyToAuthenticatedCallers(t *testing.T) {
	sec := Security{AuthFile: writeAuthFile(t, map[string]Role{"reader": RoleRead})}
	_, addr := serve(t, prometheus.NewRegistry(), sec, nil)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	_, err = listServices(context.Background(), conn)
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	names, err := listServices(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer secret-reader"), conn)
	require.NoError(t, err)
	require.Contains(t, names, testService)

	sec.NoReflection = true
	_, addr = serve(t, prometheus.NewRegistry(), sec, nil)
	off, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer off.Close()
	_, err = listServices(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer secret-reader"), off)
	require.Equal(t, codes.Unimplemented, status.Code(err), "reflection turned off: %v", err)
}

// TestEveryMethodHasARole: every call of both services is either a listed
// read or needs admin, and exactly the four writes need admin.
func TestEveryMethodHasARole(t *testing.T) {
	admin := map[string]bool{
		slapipev1.SLAManager_SetSLA_FullMethodName:          true,
		slapipev1.SLAManager_AddObjective_FullMethodName:    true,
		slapipev1.SLAManager_RemoveObjective_FullMethodName: true,
		slapipev1.SLAManager_RunETL_FullMethodName:          true,
	}
	for _, sd := range []grpc.ServiceDesc{slapipev1.SLAManager_ServiceDesc, slapipev1.DataRetrieval_ServiceDesc} {
		var names []string
		for _, m := range sd.Methods {
			names = append(names, m.MethodName)
		}
		for _, s := range sd.Streams {
			names = append(names, s.StreamName)
		}
		for _, n := range names {
			full := "/" + sd.ServiceName + "/" + n
			want := RoleRead
			if admin[full] {
				want = RoleAdmin
			}
			require.Equal(t, want, requiredRole(full), full)
		}
	}
	require.Equal(t, Role(""), requiredRole("/grpc.health.v1.Health/Watch"))
}

func TestMetricsBehindWebConfig(t *testing.T) {
	ca := testcerts.NewCA(t, "web")
	p := ca.Server(t, "metrics", "127.0.0.1")
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-pass"), bcrypt.MinCost)
	require.NoError(t, err)
	webCfg := filepath.Join(t.TempDir(), "web.yml")
	require.NoError(t, os.WriteFile(webCfg, []byte(fmt.Sprintf(
		"tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n",
		p.CertFile, p.KeyFile, hash)), 0o600))

	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "slapipe_test_web_total", Help: "Test."}))
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- ServeMetrics(ctx, MetricsConfig{WebConfigFile: webCfg}, reg, slog.New(slog.NewTextHandler(logs, nil)), func(a net.Addr) { addrc <- a })
	}()
	require.Equal(t, "https", MetricsConfig{WebConfigFile: webCfg}.Scheme())
	url := "https://" + (<-addrc).String() + "/metrics"
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool(t, ca.CertFile)}}}
	get := func(user, pass string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		require.NoError(t, err)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	code, _ := get("", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = get("prometheus", "wrong")
	require.Equal(t, http.StatusUnauthorized, code)
	code, body := get("prometheus", "scrape-pass")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "slapipe_test_web_total 0")

	// net/http answers plain HTTP on a TLS port with 400, never the metrics.
	resp, err := http.Get(strings.Replace(url, "https", "http", 1))
	require.NoError(t, err)
	body2, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.NotContains(t, string(body2), "slapipe_test_web_total")
	cancel()
	require.NoError(t, <-done)
	require.NotContains(t, logs.String(), "scrape-pass")

	// A broken configuration fails before listening.
	require.NoError(t, os.WriteFile(webCfg, []byte("basic_auth_users: [\n"), 0o600))
	err = ServeMetrics(context.Background(), MetricsConfig{WebConfigFile: webCfg}, reg, nil, nil)
	require.ErrorContains(t, err, "--web-config-file")
}
