package main

import (
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/pkg/retention"
	"github.com/slapipe/slapipe/pkg/store"
)

func registerDataStorage(root *cobra.Command, a *app) {
	var (
		s           sources
		group       string
		maxBytes    int
		poisonTries int
		keep        = model.Duration(retention.DefaultRetention)
		versions    int
	)
	cmd := &cobra.Command{
		Use:   "datastorage",
		Short: "Kafka consumer that stores every analysis and run in the database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := s.resolve(); err != nil {
				return err
			}
			st, err := store.OpenMigrated(ctx, s.mysqlDSN)
			if err != nil {
				return err
			}
			defer st.Close()
			c, err := datastorage.New(datastorage.Config{Brokers: s.kafkaBrokers, Kafka: s.res.kafkaSec, Topic: s.kafkaTopic,
				GroupID: group, MaxMessageBytes: maxBytes, PoisonTries: poisonTries}, st,
				datastorage.Deps{Logger: a.logger, Registerer: a.registry})
			if err != nil {
				return err
			}
			rcfg := retention.Config{Retention: time.Duration(keep), KeepVersions: versions}
			if rcfg.Retention == 0 {
				rcfg.Retention = -1 // --retention 0 keeps everything
			}
			if versions == 0 {
				rcfg.KeepVersions = -1
			}
			r, err := retention.New(rcfg, st, retention.Deps{Logger: a.logger, Registerer: a.registry})
			if err != nil {
				return err
			}
			return a.serve(ctx, "datastorage", s.metrics, c.Run, r.Run)
		},
	}
	fs := cmd.Flags()
	s.kafkaFlags(fs, []string{defaultKafkaBroker})
	s.mysqlFlag(fs, defaultMySQLDSN)
	s.metricsFlag(fs)
	fs.StringVar(&group, "kafka-group", datastorage.DefaultGroupID, "Kafka consumer group (replicas share the partitions)")
	fs.IntVar(&maxBytes, "max-message-bytes", datastorage.DefaultMaxMessageBytes,
		"largest message stored; a larger one goes to the dead-letter topic with this limit as its reason")
	fs.IntVar(&poisonTries, "poison-tries", datastorage.DefaultPoisonTries,
		"tries of one message the database refuses for its content before it goes to the dead-letter topic")
	fs.Var(&keep, "retention", "runs (with their analyses) and SLA history older than this are deleted, in small batches every 10m; "+
		"the latest complete run is always kept; 0 keeps everything")
	fs.IntVar(&versions, "sla-history", retention.DefaultKeepVersions, "SLA set versions kept (the newest); 0 keeps all")
	root.AddCommand(cmd)
}
