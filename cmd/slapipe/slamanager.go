package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/pkg/store"
	"github.com/slapipe/slapipe/slamanager"
)

func registerSLAManager(root *cobra.Command, a *app) {
	var (
		s           sources
		d           distributedFlags
		listen      string
		etlInterval time.Duration
		evalEvery   time.Duration
		limits      etlLimits
		amURL       string
		amProb      float64
	)
	cmd := &cobra.Command{
		Use:   "slamanager",
		Short: "SLA manager gRPC server: SLA set, violations, predictions, ETL on demand and on a schedule",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := s.resolve(); err != nil {
				return err
			}
			if err := d.check(); err != nil {
				return err
			}
			st, err := store.OpenMigrated(ctx, s.mysqlDSN)
			if err != nil {
				return err
			}
			defer st.Close()
			// New contacts neither Kafka nor Prometheus: the manager listens
			// and answers while they are down, and runs fail with the reason
			// until they are back.
			cfg := d.etlConfig(&s)
			cfg.MaxSelectors, cfg.MaxSeries, cfg.RunTimeout = limits.maxSelectors, limits.maxSeries, limits.runTimeout
			e, err := etl.New(cfg, etl.Deps{Logger: a.logger, Registerer: a.registry, PrometheusTransport: s.res.promTransport})
			if err != nil {
				return err
			}
			defer func() {
				if err := e.Close(); err != nil {
					a.logger.Warn("closing the etl", "err", err)
				}
			}()
			m, err := slamanager.New(slamanager.Config{Listen: listen, Security: s.security(), PrometheusURL: s.prometheusURL, ETLInterval: etlInterval,
				EvaluationInterval: evalEvery, AlertmanagerURL: amURL, AlertProbability: amProb},
				slamanager.Deps{Store: st, ETL: e, Logger: a.logger, Registerer: a.registry, PrometheusTransport: s.res.promTransport})
			if err != nil {
				return err
			}
			return a.serve(ctx, "slamanager", s.metrics, append(d.workerActors(e), m.Run)...)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&listen, "listen", slamanager.DefaultListen, "gRPC listen address")
	s.prometheusFlag(fs, defaultPrometheusURL)
	s.kafkaFlags(fs, []string{defaultKafkaBroker})
	s.mysqlFlag(fs, defaultMySQLDSN)
	s.metricsFlag(fs)
	limits.flags(fs)
	s.grpcSecurityFlags(fs)
	fs.DurationVar(&etlInterval, "etl-interval", 5*time.Minute, "period of scheduled ETL runs (0 disables them)")
	fs.DurationVar(&evalEvery, "evaluation-interval", slamanager.DefaultEvaluationInterval,
		"period of the evaluations that refresh the slapipe_sla_* metrics")
	fs.StringVar(&amURL, "alertmanager-url", "", "Alertmanager to post predicted violations to (v2 API), e.g. http://127.0.0.1:9093")
	fs.Float64Var(&amProb, "alert-probability", slamanager.DefaultAlertProbability, "probability from which a predicted violation is posted to Alertmanager")
	d.coordinatorFlags(fs)
	root.AddCommand(cmd)
}
