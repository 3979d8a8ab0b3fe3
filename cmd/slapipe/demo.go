//go:build !nodemo

package main

import (
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slapipe/slapipe/demo"
)

func registerDemo(root *cobra.Command, a *app) {
	var (
		s                          sources
		once                       bool
		workers                    int
		kafkaListen                string
		slaListen, retrievalListen string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The whole pipeline in one process on embedded Prometheus, Kafka and SQLite",
		Long: `Starts an embedded Prometheus holding 12 hours of node_exporter-shaped
history, an embedded Kafka broker and an SQLite database, then the SLA
manager, datastorage and dataretrieval on their default ports; runs one ETL,
prints the report and serves until Ctrl-C (--once: exits after the report).
Give --prometheus-url, --kafka-brokers or --mysql-dsn to use a real server
in place of the embedded one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := a.logger
			// The report is the output; component logs would interleave with
			// it on the terminal, so only warnings unless asked otherwise.
			if !cmd.Flags().Changed("log-level") {
				var err error
				if logger, err = newLogger(a.stderr, slog.LevelWarn.String(), a.logFormat); err != nil {
					return usageError{err}
				}
			}
			if err := s.resolve(); err != nil {
				return err
			}
			// The embedded stand-ins take no credentials.
			if s.res.kafkaSec.Enabled() && len(s.kafkaBrokers) == 0 {
				return usagef("--kafka-tls-* and --kafka-sasl-* are for real brokers: give --kafka-brokers")
			}
			if s.out.prometheusConfigFile != "" && s.prometheusURL == "" {
				return usagef("--prometheus-config-file is for a real Prometheus: give --prometheus-url")
			}
			if workers < 0 {
				return usagef("invalid --etl-workers %d: must be 0 or more", workers)
			}
			if workers == 0 {
				workers = -1 // demo.Config: none in-process
			}
			if kafkaListen != "" && len(s.kafkaBrokers) > 0 {
				return usagef("--kafka-listen and --kafka-brokers exclude each other: the first starts the embedded broker, the second uses real ones")
			}
			return demo.Run(cmd.Context(), demo.Config{
				ETLWorkers: workers, KafkaListen: kafkaListen,
				PrometheusTransport: s.res.promTransport, Kafka: s.res.kafkaSec,
				Once: once, PrometheusURL: s.prometheusURL, KafkaBrokers: strings.Join(s.kafkaBrokers, ","),
				MySQLDSN: s.mysqlDSN, SLAListen: slaListen, RetrievalListen: retrievalListen,
				MetricsListen: s.metrics.Listen, WebConfigFile: s.metrics.WebConfigFile, Security: s.security(),
				Out: a.stdout, Logger: logger,
				Registerer: a.registry, Gatherer: a.registry,
			})
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&once, "once", false, "exit 0 after printing the report")
	fs.IntVar(&workers, "etl-workers", 1, "in-process ETL workers; 0 relies on external `slapipe etl worker` processes")
	fs.StringVar(&kafkaListen, "kafka-listen", "", "address of the embedded Kafka broker, so external workers can join (default: a free loopback port)")
	s.prometheusFlag(fs, "")
	fs.StringSliceVar(&s.kafkaBrokers, "kafka-brokers", nil, "real Kafka brokers (default: the embedded broker)")
	s.kafkaSecurityFlags(fs)
	s.mysqlFlag(fs, "")
	fs.Lookup("prometheus-url").Usage = "real Prometheus base URL (default: the embedded one with demo history)"
	fs.Lookup("mysql-dsn").Usage = "real MySQL DSN, or sqlite:PATH (default: SQLite in a temporary directory)"
	s.metricsFlag(fs)
	s.grpcSecurityFlags(fs)
	fs.StringVar(&slaListen, "sla-listen", demo.DefaultSLAListen, "gRPC address of the SLA manager")
	fs.StringVar(&retrievalListen, "retrieval-listen", demo.DefaultRetrievalListen, "gRPC address of dataretrieval")
	root.AddCommand(cmd)
}
