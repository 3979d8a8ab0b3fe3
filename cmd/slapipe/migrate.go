package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slapipe/slapipe/pkg/store"
)

func registerMigrate(root *cobra.Command, a *app) {
	var s sources
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema (idempotent)",
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
			v, err := st.SchemaVersion(ctx)
			if err != nil {
				return fmt.Errorf("reading the schema version: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "schema version %d (%s)\n", v, st.Dialect())
			return err
		},
	}
	s.mysqlFlag(cmd.Flags(), defaultMySQLDSN)
	root.AddCommand(cmd)
}
