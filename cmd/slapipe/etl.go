package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/pkg/ctl"
	"github.com/slapipe/slapipe/pkg/promsource"
)

func registerETL(root *cobra.Command, a *app) {
	var (
		s         sources
		d         distributedFlags
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
stdout. Without --selector the default watch list is pulled.

The run is shared out as tasks of --etl-task-series series on <topic>.tasks:
--etl-workers in-process workers (default 1) and any ` + "`slapipe etl worker`" + `
processes of consumer group slapipe-etl work them.`,
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
			if err := s.resolve(); err != nil {
				return err
			}
			if err := d.check(); err != nil {
				return err
			}
			cfg := d.etlConfig(&s)
			cfg.Selectors, cfg.Step, cfg.Range = selectors, step, rng
			cfg.MaxSelectors, cfg.MaxSeries, cfg.RunTimeout = limits.maxSelectors, limits.maxSeries, limits.runTimeout
			e, err := etl.New(cfg, etl.Deps{Logger: a.logger, Registerer: a.registry, PrometheusTransport: s.res.promTransport})
			if err != nil {
				return fmt.Errorf("setting up the ETL: %w", err)
			}
			defer e.Close()
			// The in-process workers live as long as the run.
			wctx, stopWorkers := context.WithCancel(cmd.Context())
			var workers errgroup.Group
			for _, act := range d.workerActors(e) {
				workers.Go(func() error { return act(wctx) })
			}
			progress := ctl.NewProgress(a.stderr, isTerminal(a.stderr))
			r, err := e.Run(cmd.Context(), etl.RunOptions{Trigger: "cli", Progress: func(p etl.Progress) {
				progress.Update(p.Stage, int64(p.Done), int64(p.Total), p.Elapsed)
			}})
			progress.Finish()
			stopWorkers()
			if werr := workers.Wait(); werr != nil && err == nil {
				return fmt.Errorf("etl worker: %w", werr)
			}
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
	d.coordinatorFlags(fs)

	cmd := &cobra.Command{Use: "etl", Short: "Run the ETL from the command line, or work the tasks of distributed runs", Args: cobra.NoArgs}
	cmd.AddCommand(run)
	registerETLWorker(cmd, a)
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
