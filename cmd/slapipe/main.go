// Command slapipe turns Prometheus node_exporter metrics into SLA answers.
// It is one binary with a subcommand per component (slamanager, datastorage,
// dataretrieval, etl), the client (ctl), the offline analysis (analyze), the
// schema tool (migrate) and the all-in-one demo. See docs/cli.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks for a graceful stop; a second one kills, should
	// the shutdown hang.
	context.AfterFunc(ctx, stop)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector())
	code := run(ctx, os.Args[1:], env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		lookupEnv: os.LookupEnv, registry: reg,
	})
	stop()
	os.Exit(code)
}
