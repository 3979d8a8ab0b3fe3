package main

import (
	"github.com/spf13/cobra"

	"github.com/slapipe/slapipe/dataretrieval"
	"github.com/slapipe/slapipe/store"
)

func registerDataRetrieval(root *cobra.Command, a *app) {
	var (
		s      sources
		listen string
	)
	cmd := &cobra.Command{
		Use:   "dataretrieval",
		Short: "Retrieval gRPC server over the stored analyses (stats, metadata, forecasts, runs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := store.OpenMigrated(ctx, s.mysqlDSN)
			if err != nil {
				return err
			}
			defer st.Close()
			srv, err := dataretrieval.New(dataretrieval.Config{Listen: listen, Security: s.security()}, st,
				dataretrieval.Deps{Logger: a.logger, Registerer: a.registry})
			if err != nil {
				return err
			}
			return a.serve(ctx, "dataretrieval", s.metrics, srv.Run)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&listen, "listen", dataretrieval.DefaultListen, "gRPC listen address")
	s.mysqlFlag(fs, defaultMySQLDSN)
	s.metricsFlag(fs)
	s.grpcSecurityFlags(fs)
	root.AddCommand(cmd)
}
