package main

import (
	"context"
	"fmt"
	"net"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/slapipe/slapipe/pkg/server"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Defaults of the settings shared by the components (docs/cli.md).
const (
	defaultPrometheusURL = "http://127.0.0.1:9090"
	defaultKafkaBroker   = "127.0.0.1:9092"
	defaultKafkaTopic    = slapipev1.DefaultTopic
	defaultMySQLDSN      = "slapipe:slapipe@tcp(127.0.0.1:3306)/slapipe?parseTime=true"
)

// sources are the external systems a component reads or writes; each
// register* method declares the flag of one of them.
type sources struct {
	prometheusURL string
	kafkaBrokers  []string
	kafkaTopic    string
	mysqlDSN      string
	metrics       server.MetricsConfig
	grpc          grpcFlags
	out           outbound
	res           resolved
}

func (s *sources) prometheusFlag(fs *pflag.FlagSet, def string) {
	fs.StringVar(&s.prometheusURL, "prometheus-url", def, "Prometheus base URL")
	s.prometheusSecurityFlags(fs)
}

func (s *sources) kafkaFlags(fs *pflag.FlagSet, def []string) {
	fs.StringSliceVar(&s.kafkaBrokers, "kafka-brokers", def, "Kafka bootstrap brokers (host:port, comma-separated)")
	fs.StringVar(&s.kafkaTopic, "kafka-topic", defaultKafkaTopic, "Kafka topic of the analyses; run records go to <topic>.runs, dead letters to <topic>.dlq, distributed ETL tasks and progress to <topic>.tasks and <topic>.progress")
	s.kafkaSecurityFlags(fs)
}

func (s *sources) mysqlFlag(fs *pflag.FlagSet, def string) {
	fs.StringVar(&s.mysqlDSN, "mysql-dsn", def, `MySQL DSN (user:pass@tcp(host:3306)/db?parseTime=true), or sqlite:PATH for an embedded database`)
	s.mysqlSecurityFlags(fs)
}

func (s *sources) metricsFlag(fs *pflag.FlagSet) {
	fs.StringVar(&s.metrics.Listen, "metrics-listen", "", "address of the /metrics endpoint (default: a free loopback port, printed at start)")
	fs.StringVar(&s.metrics.WebConfigFile, "web-config-file", "",
		"exporter-toolkit web configuration of /metrics (TLS, basic auth; docs/security.md)")
}

// serve runs the component's actors and its /metrics endpoint in one group
// tied to ctx (cancelled by SIGINT/SIGTERM): when one fails, all stop and its
// error is returned. Every actor returns nil only once ctx is done.
func (a *app) serve(ctx context.Context, name string, metrics server.MetricsConfig, actors ...func(context.Context) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return server.ServeMetrics(gctx, metrics, a.registry, a.logger, func(addr net.Addr) {
			if metrics.Listen == "" {
				fmt.Fprintf(a.stdout, "%s: metrics at %s://%s/metrics\n", name, metrics.Scheme(), addr)
			}
		})
	})
	for _, act := range actors {
		g.Go(func() error { return act(gctx) })
	}
	return g.Wait()
}
