package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/slapipe/slapipe/internal/promreg"
)

const testService = "slapipe.test.Probe"

// probe is a hand-written service: Boom panics, Block waits for release.
type probe struct {
	started chan struct{}
	release chan struct{}
	// caller is TokenName of the last Block call.
	caller atomic.Value
}

func unary(name string, h func(ctx context.Context) error) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, _ any) (any, error) { return &emptypb.Empty{}, h(ctx) }
			if icpt == nil {
				return call(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + testService + "/" + name}, call)
		},
	}
}

func (p *probe) register(srv grpc.ServiceRegistrar) {
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: testService,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			unary("Boom", func(context.Context) error { panic("boom") }),
			unary("Block", func(ctx context.Context) error {
				p.caller.Store(TokenName(ctx))
				select {
				case <-p.started:
				default:
					close(p.started)
				}
				<-p.release
				return nil
			}),
		},
	}, p)
}

type running struct {
	srv  *GRPC
	addr string
	conn *grpc.ClientConn
	reg  *prometheus.Registry
	stop context.CancelFunc
	done chan error
	p    *probe

	waitOnce sync.Once
	err      error
}

// wait returns what ListenAndServe returned; it may be called more than once.
func (r *running) wait() error {
	r.waitOnce.Do(func() { r.err = <-r.done })
	return r.err
}

// start builds a server with NewGRPC, serves it on a loopback port and dials it.
func start(t *testing.T) *running {
	t.Helper()
	return startOn(t, prometheus.NewRegistry())
}

// startOn is start with the server's metrics registered on reg.
func startOn(t *testing.T, reg *prometheus.Registry) *running {
	t.Helper()
	r, _ := serve(t, reg, Security{}, nil)
	conn, err := grpc.NewClient(r.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	r.conn = conn
	return r
}

// serve builds a server with sec, logging into logs (nil: discarded), adds
// the probe service and serves it on a free loopback port until the test
// ends. The caller dials r.addr.
func serve(t *testing.T, reg *prometheus.Registry, sec Security, logger *slog.Logger) (*running, string) {
	t.Helper()
	srv, err := NewGRPC(logger, reg, "127.0.0.1:0", sec)
	require.NoError(t, err)
	p := &probe{started: make(chan struct{}), release: make(chan struct{})}
	p.register(srv)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, func(a net.Addr) { addrc <- a }) }()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("ListenAndServe returned before listening: %v", err)
	}
	r := &running{srv: srv, addr: addr.String(), reg: reg, stop: cancel, done: done, p: p}
	t.Cleanup(func() {
		cancel()
		_ = r.wait()
	})
	return r, r.addr
}

func TestHealthServing(t *testing.T) {
	r := start(t)
	hc := healthpb.NewHealthClient(r.conn)
	for _, svc := range []string{"", testService} {
		resp, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
		require.NoError(t, err, "service %q", svc)
		require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus(), "service %q", svc)
	}
}

func TestReflectionListsServices(t *testing.T) {
	r := start(t)
	stream, err := reflectionpb.NewServerReflectionClient(r.conn).ServerReflectionInfo(context.Background())
	require.NoError(t, err)
	require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"},
	}))
	resp, err := stream.Recv()
	require.NoError(t, err)
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	require.Contains(t, names, "grpc.health.v1.Health")
	require.Contains(t, names, "grpc.reflection.v1.ServerReflection")
	require.Contains(t, names, testService)
}

func TestPanicBecomesInternalAndIsCounted(t *testing.T) {
	r := start(t)
	for i := 1; i <= 2; i++ {
		err := r.conn.Invoke(context.Background(), "/"+testService+"/Boom", &emptypb.Empty{}, &emptypb.Empty{})
		require.Equal(t, codes.Internal, status.Code(err), "call %d: %v", i, err)
		require.Equal(t, float64(i), metricValue(t, r.reg, "slapipe_grpc_panics_total", nil))
	}
	// The metrics interceptor sees the code recovery produced.
	require.Equal(t, 2.0, metricValue(t, r.reg, "grpc_server_handled_total",
		map[string]string{"grpc_method": "Boom", "grpc_code": "Internal"}))
}

func TestMetricsEndpointAfterCall(t *testing.T) {
	r := start(t)
	_, err := healthpb.NewHealthClient(r.conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- ServeMetrics(ctx, MetricsConfig{}, r.reg, nil, func(a net.Addr) { addrc <- a }) }()
	addr := (<-addrc).String()

	cases := []struct {
		path, want string
	}{
		{"/metrics", `grpc_server_handled_total{grpc_code="OK",grpc_method="Check",grpc_service="grpc.health.v1.Health",grpc_type="unary"} 1`},
		{"/metrics", "grpc_server_handling_seconds_bucket"},
		{"/healthz", "ok"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, err := http.Get("http://" + addr + c.path)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Contains(t, string(body), c.want)
		})
	}
	cancel()
	require.NoError(t, <-done)
	_, err = http.Get("http://" + addr + "/healthz")
	require.Error(t, err, "metrics server still answering after shutdown")
}

func TestGracefulStopLetsInFlightCallFinish(t *testing.T) {
	r := start(t)
	callErr := make(chan error, 1)
	go func() {
		callErr <- r.conn.Invoke(context.Background(), "/"+testService+"/Block", &emptypb.Empty{}, &emptypb.Empty{})
	}()
	<-r.p.started
	r.stop()
	// Health flips to NOT_SERVING right before GracefulStop starts waiting.
	hs := r.srv.Health()
	require.Eventually(t, func() bool {
		resp, err := hs.Check(context.Background(), &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING
	}, ShutdownTimeout, 0.01e9)
	select {
	case err := <-r.done:
		t.Fatalf("ListenAndServe returned with a call in flight: %v", err)
	default:
	}
	close(r.p.release)
	require.NoError(t, <-callErr, "in-flight call must complete during graceful stop")
	require.NoError(t, r.wait())
}

func TestListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	cases := []struct {
		name, listen string
	}{
		{"port in use", busy.Addr().String()},
		{"bad address", "not-an-address"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, err := NewGRPC(nil, nil, c.listen, Security{Insecure: true})
			require.NoError(t, err)
			err = srv.ListenAndServe(context.Background(), nil)
			require.ErrorContains(t, err, "grpc listen on "+c.listen)
			err = ServeMetrics(context.Background(), MetricsConfig{Listen: c.listen}, prometheus.NewRegistry(), nil, nil)
			require.ErrorContains(t, err, "metrics listen on "+c.listen)
		})
	}
}

func TestTwoServersShareOneRegistry(t *testing.T) {
	counter := func() prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "slapipe_test_shared_total", Help: "Test."})
	}
	set := promreg.NewSet(prometheus.NewRegistry())
	first := promreg.Add[prometheus.Counter](set, counter())
	require.Same(t, first, promreg.Add[prometheus.Counter](set, counter()),
		"an equal collector already registered is reused")
	require.NoError(t, set.Err())

	// Panics on the second server count into the series the first one
	// registered (a collector that failed to register would stay at 0).
	shared := prometheus.NewRegistry()
	a := startOn(t, shared)
	b := startOn(t, shared)
	for i, r := range []*running{b, a} {
		err := r.conn.Invoke(context.Background(), "/"+testService+"/Boom", &emptypb.Empty{}, &emptypb.Empty{})
		require.Equal(t, codes.Internal, status.Code(err))
		require.Equal(t, float64(i+1), metricValue(t, shared, "slapipe_grpc_panics_total", nil))
		require.Equal(t, float64(i+1), metricValue(t, shared, "grpc_server_handled_total",
			map[string]string{"grpc_method": "Boom", "grpc_code": "Internal"}))
	}
}

// metricValue returns the counter value of the one series of name whose
// labels include want.
func metricValue(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	families, err := g.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, want) {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s%v", name, want)
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if !strings.EqualFold(got[k], v) {
			return false
		}
	}
	return true
}
