package main

import (
	"github.com/spf13/cobra"

	"github.com/slapipe/slapipe/dataretrieval"
	"github.com/slapipe/slapipe/pkg/store"
)

func registerDataRetrieval(root *cobra.Command, a *app) {
	var (
		s      sources
		listen string
		cfg    dataretrieval.Config
	)
	cmd := &cobra.Command{
		Use:   "dataretrieval",
		Short: "Retrieval gRPC server over the stored analyses (stats, metadata, forecasts, runs)",
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
			cfg.Listen, cfg.Security = listen, s.security()
			srv, err := dataretrieval.New(cfg, st,
				dataretrieval.Deps{Logger: a.logger, Registerer: a.registry})
			if err != nil {
				return err
			}
			return a.serve(ctx, "dataretrieval", s.metrics, srv.Run)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&listen, "listen", dataretrieval.DefaultListen, "gRPC listen address")
	fs.DurationVar(&cfg.CallTimeout, "call-timeout", dataretrieval.DefaultCallTimeout, "server-side deadline of every call")
	fs.IntVar(&cfg.MaxConcurrent, "max-concurrent", dataretrieval.DefaultMaxConcurrent,
		"calls reading many series (lists, stats, metadata, forecasts) served at once; more get ResourceExhausted with a retry hint")
	fs.IntVar(&cfg.MaxSendBytes, "max-send-bytes", dataretrieval.DefaultMaxSendBytes, "largest answer sent")
	s.mysqlFlag(fs, defaultMySQLDSN)
	s.metricsFlag(fs)
	s.grpcSecurityFlags(fs)
	root.AddCommand(cmd)
}
