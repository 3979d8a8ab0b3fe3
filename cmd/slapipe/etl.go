package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/slapipe/slapipe/ctl"
	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/etl/promsource"
)

func registerETL(root *cobra.Command, a *app) {
	var (
		s         sources
		selectors []string
		step, rng time.Duration
		output    string
		limits    etlLimits
	)
	run := &cobra.Command{
		Use:   "run",
		Short: "One ETL run: pull from Prometheus, analyse every series, publish to Kafka",
		Long: `Pulls the last --range of every selected series from Prometheus at --step,
analyses each one and publishes one message per series to --kafka-topic, then
the run's summary to <topic>.runs. Progress goes to stderr, the summary to
stdout. Without --selector the default watch list is pulled.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != ctl.OutputTable && output != ctl.OutputJSON {
				return usagef("invalid --output %q: use table or json", output)
			}
			for _, sel := range selectors {
				if _, _, err := promsource.ParseSelector(sel); err != nil {
					return usagef("invalid --selector %q: %v", sel, err)
				}
			}
			e, err := etl.New(etl.Config{
				PrometheusURL: s.prometheusURL, Brokers: s.kafkaBrokers, Topic: s.kafkaTopic,
				Selectors: selectors, Step: step, Range: rng,
				MaxSelectors: limits.maxSelectors, MaxSeries: limits.maxSeries, RunTimeout: limits.runTimeout,
			}, etl.Deps{Logger: a.logger, Registerer: a.registry})
			if err != nil {
				return fmt.Errorf("setting up the ETL: %w", err)
			}
			defer e.Close()
			progress := ctl.NewProgress(a.stderr, isTerminal(a.stderr))
			r, err := e.Run(cmd.Context(), etl.RunOptions{Trigger: "cli", Progress: func(p etl.Progress) {
				progress.Update(p.Stage, int64(p.Done), int64(p.Total), p.Elapsed)
			}})
			progress.Finish()
			if err != nil {
				return fmt.Errorf("etl run: %w", err)
			}
			if r.GetStatus() == etl.StatusFailed {
				return fmt.Errorf("etl run %s failed: %s", r.GetRunId(), r.GetError())
			}
			return ctl.WriteRun(a.stdout, r, output)
		},
	}
	fs := run.Flags()
	s.prometheusFlag(fs, defaultPrometheusURL)
	s.kafkaFlags(fs, []string{defaultKafkaBroker})
	fs.StringArrayVar(&selectors, "selector", nil, "PromQL selector to pull (repeatable; default: the watch list)")
	fs.DurationVar(&step, "step", etl.DefaultStep, "sampling step")
	fs.DurationVar(&rng, "range", etl.DefaultRange, "how far back to pull")
	fs.StringVarP(&output, "output", "o", ctl.OutputTable, "summary format: table or json")
	limits.flags(fs)

	cmd := &cobra.Command{Use: "etl", Short: "Run the ETL from the command line", Args: cobra.NoArgs}
	cmd.AddCommand(run)
	root.AddCommand(cmd)
}

// etlLimits are the bounds of one ETL run, for the commands that run the ETL.
type etlLimits struct {
	maxSelectors, maxSeries int
	runTimeout              time.Duration
}

func (l *etlLimits) flags(fs *pflag.FlagSet) {
	fs.IntVar(&l.maxSelectors, "max-selectors", etl.DefaultMaxSelectors, "most selectors one ETL run takes")
	fs.IntVar(&l.maxSeries, "max-series", etl.DefaultMaxSeries, "most series one ETL run pulls (counted before pulling)")
	fs.DurationVar(&l.runTimeout, "run-timeout", etl.DefaultRunTimeout, "deadline of one ETL run's pull and analysis")
}
