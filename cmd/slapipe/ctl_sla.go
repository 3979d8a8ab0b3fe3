package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/slapipe/slapipe/pkg/ctl"
)

func ctlSLA(a *app, f *ctlFlags) *cobra.Command {
	sla := &cobra.Command{Use: "sla", Short: "View and change the SLA set", Args: cobra.NoArgs}
	sla.AddCommand(
		&cobra.Command{
			Use:   "get",
			Short: "Print the SLA set",
			Args:  cobra.NoArgs,
			RunE:  f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error { return c.SLAGet(ctx) }),
		},
		ctlSLASet(a, f), ctlSLAAdd(a, f),
		&cobra.Command{
			Use:   "remove NAME",
			Short: "Remove the objective called NAME",
			Args:  exactArgs(1, "give the name of the objective to remove (see `slapipe ctl sla get`)"),
			RunE: f.do(a, func(ctx context.Context, c *ctl.Client, args []string) error {
				return c.SLARemove(ctx, args[0])
			}),
		},
	)
	return sla
}

func ctlSLASet(a *app, f *ctlFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "set --file F",
		Short: "Replace the whole SLA set with a YAML or JSON document (as `sla get -o json` prints it)",
		Example: `  slapipe ctl sla get -o json > sla.json   # edit it, then
  slapipe ctl sla set --file sla.json`,
		Args: cobra.NoArgs,
		RunE: f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error {
			if file == "" {
				return usagef("give the document with --file F (- reads stdin)")
			}
			objs, err := ctl.ReadSLAFile(file, a.stdin)
			if err != nil {
				return usageError{err}
			}
			return c.SLASet(ctx, objs)
		}),
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "YAML or JSON SLA document; - reads stdin")
	return cmd
}

func ctlSLAAdd(a *app, f *ctlFlags) *cobra.Command {
	var o ctl.Objective
	var minS, maxS, targetS, windowS string
	cmd := &cobra.Command{
		Use:     "add --name N --selector S [--min X] [--max Y] [--target T [--budget-window W]]",
		Short:   "Add one objective (at least one bound)",
		Example: `  slapipe ctl sla add --name load --selector 'node_load1{instance="host:9100"}' --max 4`,
		Args:    cobra.NoArgs,
		RunE: f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error {
			var err error
			if o.Min, err = ctl.ParseBound(minS); err != nil {
				return usagef("invalid --min: %v", err)
			}
			if o.Max, err = ctl.ParseBound(maxS); err != nil {
				return usagef("invalid --max: %v", err)
			}
			if o.Target, o.BudgetWindowSeconds, err = ctl.ParseBudget(targetS, windowS); err != nil {
				return usageError{err}
			}
			return c.SLAAdd(ctx, o)
		}),
	}
	cmd.Flags().StringVar(&o.Name, "name", "", "objective name (unique)")
	cmd.Flags().StringVar(&o.Selector, "selector", "", `PromQL selector, e.g. node_filesystem_avail_bytes{mountpoint="/"}`)
	cmd.Flags().StringVar(&minS, "min", "", "lower bound (e.g. 256Mi, 1e9)")
	cmd.Flags().StringVar(&maxS, "max", "", "upper bound")
	cmd.Flags().StringVar(&targetS, "target", "", "share of time within the bounds, for an error budget (0.999 or 99.9%)")
	cmd.Flags().StringVar(&windowS, "budget-window", "", "error budget window (e.g. 7d, 30d, 12h; default 7d)")
	return cmd
}
