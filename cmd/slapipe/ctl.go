package main

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slapipe/slapipe/dataretrieval"
	"github.com/slapipe/slapipe/pkg/ctl"
	"github.com/slapipe/slapipe/pkg/promsource"
	"github.com/slapipe/slapipe/pkg/rules"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
	"github.com/slapipe/slapipe/slamanager"
)

// Default addresses of the two services ctl talks to: where they listen.
const (
	defaultSLAAddr       = slamanager.DefaultListen
	defaultRetrievalAddr = dataretrieval.DefaultListen
)

// ctlFlags are the flags every ctl subcommand shares.
type ctlFlags struct {
	slaAddr, retrievalAddr, output string
	timeout                        time.Duration
	creds                          ctl.Credentials
	tokenFile                      string
}

// do returns a RunE that connects, runs op and closes.
func (f *ctlFlags) do(a *app, op func(ctx context.Context, c *ctl.Client, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := f.client(a)
		if err != nil {
			return err
		}
		defer c.Close()
		return op(cmd.Context(), c, args)
	}
}

func (f *ctlFlags) client(a *app) (*ctl.Client, error) {
	creds := f.creds
	var err error
	if creds.Token, err = f.token(a); err != nil {
		return nil, err
	}
	return ctl.New(ctl.Options{
		SLAAddr: f.slaAddr, RetrievalAddr: f.retrievalAddr, Output: f.output, Timeout: f.timeout,
		Credentials: creds,
		Stdout:      a.stdout, Stderr: a.stderr,
		StdoutTerminal: isTerminal(a.stdout) && a.colorAllowed(), StderrTerminal: isTerminal(a.stderr),
		ValidateSelector: func(s string) error {
			_, _, err := promsource.ParseSelector(s)
			return err
		},
	})
}

// tokenEnv holds the bearer token itself, for callers that cannot write a
// file; --token-file wins over it.
const tokenEnv = envPrefix + "TOKEN"

// token returns the bearer token from --token-file (surrounding white space
// removed, so `echo TOKEN > file` works) or SLAPIPE_TOKEN, or "".
func (f *ctlFlags) token(a *app) (string, error) {
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return "", usagef("--token-file: %v", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", usagef("--token-file %s is empty", f.tokenFile)
		}
		return tok, nil
	}
	tok, _ := a.lookupEnv(tokenEnv)
	return strings.TrimSpace(tok), nil
}

func registerCtl(root *cobra.Command, a *app) {
	f := &ctlFlags{}
	cmd := &cobra.Command{
		Use:   "ctl",
		Short: "Client of the SLA manager and the retrieval service (interactive menu without arguments)",
		Long: `ctl calls the SLA manager (--sla-addr) and the retrieval service
(--retrieval-addr). With no subcommand on a terminal it opens an interactive
menu; with a subcommand it prints a table (-o table) or JSON (-o json).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !isTerminal(a.stdin) || !isTerminal(a.stdout) {
				cmd.SetOut(a.stderr)
				_ = cmd.Help()
				return usagef("the interactive menu needs a terminal: give an operation, e.g. `slapipe ctl status`")
			}
			return f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error { return c.Menu(ctx) })(cmd, nil)
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.slaAddr, "sla-addr", defaultSLAAddr, "SLA manager address (host:port)")
	pf.StringVar(&f.retrievalAddr, "retrieval-addr", defaultRetrievalAddr, "retrieval service address (host:port)")
	pf.StringVarP(&f.output, "output", "o", ctl.OutputTable, "output format: table or json")
	pf.DurationVar(&f.timeout, "timeout", ctl.DefaultTimeout, "deadline of each call (ETL runs are followed until they end)")
	pf.StringVar(&f.creds.CAFile, "tls-ca-file", "", "connect over TLS, verifying the services' certificates with this CA (PEM)")
	pf.StringVar(&f.creds.CertFile, "tls-cert-file", "", "client certificate for mutual TLS (PEM; turns TLS on)")
	pf.StringVar(&f.creds.KeyFile, "tls-key-file", "", "private key of --tls-cert-file (PEM)")
	pf.StringVar(&f.tokenFile, "token-file", "", "file holding the bearer token (default: $"+tokenEnv+"); never sent in plaintext to a non-loopback address")

	cmd.AddCommand(
		ctlStatus(a, f), ctlViolations(a, f), ctlPrediction(a, f), ctlBudget(a, f), ctlRules(a, f), ctlMetrics(a, f),
		ctlSeriesCommand(a, f, "stats", "Window statistics (1h, 3h, 12h) of the series of a metric",
			func(ctx context.Context, c *ctl.Client, q ctl.Query) error { return c.Stats(ctx, q) }),
		ctlSeriesCommand(a, f, "metadata", "Stationarity (ADF), autocorrelation and season of the series of a metric",
			func(ctx context.Context, c *ctl.Client, q ctl.Query) error { return c.Metadata(ctx, q) }),
		ctlSeriesCommand(a, f, "forecast", "Chart of the history, forecast and 95% interval of the series of a metric",
			func(ctx context.Context, c *ctl.Client, q ctl.Query) error { return c.Forecast(ctx, q) }),
		ctlSLA(a, f), ctlETL(a, f), ctlRuns(a, f),
	)
	root.AddCommand(cmd)
}

func ctlStatus(a *app, f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "SLA set, violations per window, predictions and the last run at once",
		Args:  cobra.NoArgs,
		RunE:  f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error { return c.Status(ctx) }),
	}
}

func ctlBudget(a *app, f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "budget",
		Short: "Error budget of every objective with a target: spent, remaining, burn rates, exhaustion",
		Args:  cobra.NoArgs,
		RunE:  f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error { return c.Budget(ctx) }),
	}
}

func ctlRules(a *app, f *ctlFlags) *cobra.Command {
	var o ctl.RulesOptions
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Print Prometheus alerting rules for the current SLA set (a rules file, on stdout)",
		Example: `  slapipe ctl rules > slapipe-rules.yml
  slapipe ctl rules --tests slapipe-rules.test.yml --rule-file slapipe-rules.yml > slapipe-rules.yml
  promtool check rules slapipe-rules.yml && promtool test rules slapipe-rules.test.yml`,
		Args: cobra.NoArgs,
		RunE: f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error { return c.Rules(ctx, o) }),
	}
	fs := cmd.Flags()
	fs.Float64Var(&o.Probability, "probability", rules.DefaultProbability, "predicted violation: probability threshold")
	fs.DurationVar(&o.PredictedFor, "predicted-for", rules.DefaultPredictedFor, "predicted violation: how long the probability stays over the threshold")
	fs.DurationVar(&o.ViolationFor, "violation-for", rules.DefaultViolationFor, "violation now: how long a series stays out of range")
	fs.StringVar(&o.TestsPath, "tests", "", "also write promtool unit tests of the rules to this file")
	fs.StringVar(&o.RuleFile, "rule-file", "slapipe-rules.yml", "the rules file's path as the unit tests name it (relative to them)")
	return cmd
}

func ctlViolations(a *app, f *ctlFlags) *cobra.Command {
	var window string
	cmd := &cobra.Command{
		Use:   "violations",
		Short: "How each objective's series behaved over the last 1h, 3h and 12h",
		Args:  cobra.NoArgs,
		RunE:  f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error { return c.Violations(ctx, window) }),
	}
	cmd.Flags().StringVar(&window, "window", "", "only this window: "+slapipev1.WindowNames(false))
	return cmd
}

func ctlPrediction(a *app, f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "prediction",
		Aliases: []string{"predictions"},
		Short:   "Probability that each objective's series leaves its range in the next 10 minutes",
		Args:    cobra.NoArgs,
		RunE:    f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error { return c.Predictions(ctx) }),
	}
}

func ctlMetrics(a *app, f *ctlFlags) *cobra.Command {
	var filter string
	var stored bool
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Metrics Prometheus has, with type, help and series count (--stored: what the pipeline stored)",
		Args:  cobra.NoArgs,
		RunE: f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error {
			return c.Metrics(ctx, filter, stored)
		}),
	}
	cmd.Flags().StringVar(&filter, "filter", "", "RE2 expression the whole name must match (default node_.*)")
	cmd.Flags().BoolVar(&stored, "stored", false, "list the metrics stored by the pipeline (retrieval service) instead")
	return cmd
}

func ctlSeriesCommand(a *app, f *ctlFlags, name, short string, op func(context.Context, *ctl.Client, ctl.Query) error) *cobra.Command {
	var q ctl.Query
	cmd := &cobra.Command{
		Use:   name + " METRIC",
		Short: short,
		Args:  exactArgs(1, "give one metric name, e.g. node_memory_MemFree_bytes (list them with `slapipe ctl metrics --stored`)"),
		RunE: f.do(a, func(ctx context.Context, c *ctl.Client, args []string) error {
			q.Metric = args[0]
			return op(ctx, c, q)
		}),
	}
	cmd.Flags().StringVar(&q.SeriesID, "series", "", "only the series with this id")
	cmd.Flags().StringVar(&q.RunID, "run", "", "read this run instead of the latest")
	return cmd
}

func ctlRuns(a *app, f *ctlFlags) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "ETL run history, newest first",
		Args:  cobra.NoArgs,
		RunE:  f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error { return c.Runs(ctx, limit) }),
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "number of runs")
	return cmd
}

func ctlETL(a *app, f *ctlFlags) *cobra.Command {
	var selectors []string
	run := &cobra.Command{
		Use:   "run",
		Short: "Run the ETL now (or follow the run in flight), with progress on stderr",
		Args:  cobra.NoArgs,
		RunE: f.do(a, func(ctx context.Context, c *ctl.Client, _ []string) error {
			return c.ETLRun(ctx, selectors)
		}),
	}
	run.Flags().StringArrayVar(&selectors, "selector", nil, "PromQL selector to pull instead of the default selection (repeatable)")
	etl := &cobra.Command{Use: "etl", Short: "ETL runs through the SLA manager", Args: cobra.NoArgs}
	etl.AddCommand(run)
	return etl
}

// exactArgs is cobra.ExactArgs with a message that says what to give.
func exactArgs(n int, hint string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s", hint)
		}
		return nil
	}
}
