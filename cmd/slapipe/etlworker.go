package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/pkg/promsource"
)

// distributedFlags are the settings of distributed ETL runs shared by the
// coordinators (slamanager, etl run, demo) and the workers.
type distributedFlags struct {
	workers        int
	taskSeries     int
	taskTimeout    time.Duration
	sessionTimeout time.Duration
	read           string
}

// coordinatorFlags declares the flags of a component that plans runs and
// runs in-process workers.
func (d *distributedFlags) coordinatorFlags(fs *pflag.FlagSet) {
	fs.IntVar(&d.workers, "etl-workers", 1, "in-process ETL workers; 0 relies on external `slapipe etl worker` processes")
	fs.IntVar(&d.taskSeries, "etl-task-series", etl.DefaultTaskSeries, "series per ETL task handed to the workers")
	fs.DurationVar(&d.taskTimeout, "etl-task-timeout", etl.DefaultTaskTimeout, "a run fails when no worker finishes a task for this long")
	d.workerFlags(fs)
}

// workerFlags declares the flags of a component that works tasks.
func (d *distributedFlags) workerFlags(fs *pflag.FlagSet) {
	fs.StringVar(&d.read, "prometheus-read", promsource.ReadAuto, "how workers pull: auto (remote read when Prometheus serves it), remote-read or query-range")
	fs.DurationVar(&d.sessionTimeout, "etl-session-timeout", etl.DefaultSessionTimeout, "how long the worker group waits for a silent worker before handing its tasks to another")
}

// check refuses bad values with a usage error.
func (d *distributedFlags) check() error {
	if d.workers < 0 {
		return usagef("invalid --etl-workers %d: must be 0 or more", d.workers)
	}
	if !promsource.ValidRead(d.read) {
		return usagef("invalid --prometheus-read %q: use auto, remote-read or query-range", d.read)
	}
	return nil
}

// etlConfig is the configuration of a distributed ETL on s (resolved).
func (d *distributedFlags) etlConfig(s *sources) etl.Config {
	return etl.Config{
		PrometheusURL: s.prometheusURL, Brokers: s.kafkaBrokers, Kafka: s.res.kafkaSec, Topic: s.kafkaTopic, Distributed: true,
		TaskSeries: d.taskSeries, TaskTimeout: d.taskTimeout, SessionTimeout: d.sessionTimeout, Read: d.read,
	}
}

// workerActors are the in-process workers of e, one run-group actor each.
func (d *distributedFlags) workerActors(e *etl.ETL) []func(ctx context.Context) error {
	acts := make([]func(ctx context.Context) error, d.workers)
	for i := range acts {
		acts[i] = func(ctx context.Context) error { return e.Work(ctx, etl.WorkerName(i)) }
	}
	return acts
}

func registerETLWorker(parent *cobra.Command, a *app) {
	var (
		s sources
		d distributedFlags
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Work the tasks of distributed ETL runs (consumer group slapipe-etl)",
		Long: `Joins consumer group slapipe-etl on topic <kafka-topic>.tasks and works the
tasks of every run its coordinator (the SLA manager, ` + "`slapipe etl run`" + `) hands
out: pulls the task's series from Prometheus (remote read when it is
served, query_range otherwise), analyses them, publishes the analyses to
<kafka-topic> and reports the task done on <kafka-topic>.progress, then
commits it. Run as many as you like; a worker that dies leaves its tasks to
the others after --etl-session-timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d.workers = 1
			if err := d.check(); err != nil {
				return err
			}
			if err := s.resolve(); err != nil {
				return err
			}
			e, err := etl.New(d.etlConfig(&s), etl.Deps{Logger: a.logger, Registerer: a.registry, PrometheusTransport: s.res.promTransport})
			if err != nil {
				return usageError{err}
			}
			defer func() {
				if err := e.Close(); err != nil {
					a.logger.Warn("closing the etl", "err", err)
				}
			}()
			return a.serve(cmd.Context(), "etl worker", s.metrics, d.workerActors(e)...)
		},
	}
	fs := cmd.Flags()
	s.prometheusFlag(fs, defaultPrometheusURL)
	s.kafkaFlags(fs, []string{defaultKafkaBroker})
	s.metricsFlag(fs)
	d.workerFlags(fs)
	parent.AddCommand(cmd)
}
