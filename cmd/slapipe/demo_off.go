//go:build nodemo

package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// registerDemo, in a binary built with -tags nodemo (the production image:
// Dockerfile), keeps the command's name but none of what the demo links:
// the embedded Prometheus (its TSDB, PromQL engine and service-discovery
// SDKs), the kfake broker and the history generator. The production
// components then start without initialising any of it.
func registerDemo(root *cobra.Command, _ *app) {
	root.AddCommand(&cobra.Command{
		Use:    "demo",
		Short:  "Not in this binary (built with -tags nodemo); run: go run ./cmd/slapipe demo",
		Hidden: true,
		Args:   cobra.ArbitraryArgs,
		// Flags of the full demo are not parsed here: the answer is the same.
		DisableFlagParsing: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("this binary was built without the demo (-tags nodemo); run it from a checkout: go run ./cmd/slapipe demo")
		},
	})
}
