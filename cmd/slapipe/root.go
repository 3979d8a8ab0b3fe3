package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slapipe/slapipe/pkg/ctl"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// env is what the process gives the commands: standard streams, the
// environment and the process-wide metrics registry.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	registry       *prometheus.Registry
}

// app is the state shared by every command: the environment, the global
// flags and the logger built from them.
type app struct {
	env
	logger *slog.Logger

	logLevel, logFormat, configFile string
	// configured is set once flags, environment and config file are applied;
	// an error before that is a usage error.
	configured bool
}

// errUsage marks invocation errors (exit status 2).
var errUsage = errors.New("usage")

type usageError struct{ err error }

func (u usageError) Error() string        { return u.err.Error() }
func (u usageError) Unwrap() error        { return u.err }
func (u usageError) Is(target error) bool { return target == errUsage }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// run executes one command line and returns the exit status. Errors are
// printed as one line on stderr; stdout only ever holds results.
func run(ctx context.Context, args []string, e env) int {
	a := &app{env: e, logger: slog.New(slog.DiscardHandler)}
	root := newRoot(a)
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	usage := !a.configured || errors.Is(err, errUsage) || errors.Is(err, ctl.ErrUsage)
	msg := ctl.Printable(strings.Join(strings.Fields(err.Error()), " "))
	if usage && cmd != nil && !strings.Contains(msg, "--help") {
		msg += fmt.Sprintf(" (see `%s --help`)", cmd.CommandPath())
	}
	fmt.Fprintf(e.stderr, "slapipe: %s\n", msg)
	if usage {
		return exitUsage
	}
	return exitError
}

func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "slapipe",
		Short: "Prometheus node_exporter metrics in, SLA answers out",
		Long: `slapipe pulls node_exporter metrics from Prometheus, analyses every series
(statistics, stationarity, season, Holt-Winters forecast), ships the results
through Kafka into MySQL, and answers whether SLA objectives were violated or
are about to be. Try ` + "`slapipe demo`" + ` first: it needs nothing installed.

Every flag can also be set with the environment variable SLAPIPE_<FLAG>
(e.g. SLAPIPE_PROMETHEUS_URL) or in the YAML file given with --config (keys
are flag names); a flag wins over the environment, which wins over the file.`,
		Version:           version(),
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.setup(cmd) },
	}
	root.SetVersionTemplate("slapipe {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	pf.StringVar(&a.configFile, "config", "", "YAML file setting any flag (keys are flag names)")

	registerAnalyze(root, a)
	registerCtl(root, a)
	registerDemo(root, a)
	registerSLAManager(root, a)
	registerDataStorage(root, a)
	registerDataRetrieval(root, a)
	registerETL(root, a)
	registerMigrate(root, a)
	return root
}

// setup applies environment and config file to the flags of cmd, then builds
// the logger. It runs before every command.
func (a *app) setup(cmd *cobra.Command) error {
	if err := applySettings(cmd, a.lookupEnv); err != nil {
		return usageError{err}
	}
	logger, err := newLogger(a.stderr, a.logLevel, a.logFormat)
	if err != nil {
		return usageError{err}
	}
	a.logger = logger
	a.configured = true
	return nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid --log-format %q: use text or json", format)
}

// isTerminal reports whether v is an interactive terminal (not merely a
// character device such as /dev/null).
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// colorAllowed reports whether colours are allowed: NO_COLOR (no-color.org)
// unset or empty.
func (a *app) colorAllowed() bool {
	v, ok := a.lookupEnv("NO_COLOR")
	return !ok || v == ""
}
