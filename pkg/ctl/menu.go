package ctl

import (
	"context"
	"errors"
	"fmt"

	"github.com/charmbracelet/huh"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Menu entries; the values are what the loop switches on.
const (
	menuStatus      = "status"
	menuViolations  = "violations"
	menuPredictions = "predictions"
	menuMetrics     = "metrics"
	menuStats       = "stats"
	menuMetadata    = "metadata"
	menuForecast    = "forecast"
	menuSLA         = "sla"
	menuETL         = "etl"
	menuRuns        = "runs"
	menuBudget      = "budget"
	menuQuit        = "quit"
)

// errBack ends a sub-menu without an error.
var errBack = errors.New("back")

// Menu runs the interactive menu on the terminal until the user picks Quit
// or presses Ctrl-C. A failing operation prints its one-line error and the
// menu goes on. Results are always tables.
func (c *Client) Menu(ctx context.Context) error {
	c.opts.Output = OutputTable
	for {
		choice := menuStatus
		sel := huh.NewSelect[string]().
			Title("slapipe: what do you want to do?").
			Options(
				huh.NewOption("Status: SLA set, violations, predictions, last run", menuStatus),
				huh.NewOption("Violations per window", menuViolations),
				huh.NewOption("Predictions for the next minutes", menuPredictions),
				huh.NewOption("Metrics Prometheus has", menuMetrics),
				huh.NewOption("Statistics of a metric", menuStats),
				huh.NewOption("Stationarity and season of a metric", menuMetadata),
				huh.NewOption("Forecast chart of a metric", menuForecast),
				huh.NewOption("SLA set: view, edit, add, remove", menuSLA),
				huh.NewOption("Run the ETL now", menuETL),
				huh.NewOption("Run history", menuRuns),
				huh.NewOption("Error budgets of objectives with a target", menuBudget),
				huh.NewOption("Quit", menuQuit),
			).Value(&choice)
		if err := c.runForm(ctx, huh.NewForm(huh.NewGroup(sel))); err != nil {
			return quitOnAbort(err)
		}
		if choice == menuQuit {
			return nil
		}
		err := c.menuAction(ctx, choice)
		if errors.Is(err, huh.ErrUserAborted) || errors.Is(err, errBack) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintf(c.opts.Stderr, "error: %v\n", err)
		}
		fmt.Fprintln(c.opts.Stdout)
	}
}

func (c *Client) menuAction(ctx context.Context, choice string) error {
	switch choice {
	case menuStatus:
		return c.Status(ctx)
	case menuBudget:
		return c.Budget(ctx)
	case menuViolations:
		window := ""
		options := []huh.Option[string]{huh.NewOption("all", "")}
		for _, w := range slapipev1.Windows {
			options = append(options, huh.NewOption(w.Name, w.Name))
		}
		err := c.runForm(ctx, huh.NewForm(huh.NewGroup(huh.NewSelect[string]().Title("Window").
			Options(options...).Value(&window))))
		if err != nil {
			return err
		}
		return c.Violations(ctx, window)
	case menuPredictions:
		return c.Predictions(ctx)
	case menuMetrics:
		return c.Metrics(ctx, "", false)
	case menuStats, menuMetadata, menuForecast:
		q, err := c.pickSeries(ctx, choice == menuForecast)
		if err != nil {
			return err
		}
		switch choice {
		case menuStats:
			return c.Stats(ctx, q)
		case menuMetadata:
			return c.Metadata(ctx, q)
		}
		return c.Forecast(ctx, q)
	case menuSLA:
		return c.slaMenu(ctx)
	case menuETL:
		return c.ETLRun(ctx, nil)
	case menuRuns:
		return c.Runs(ctx, 0)
	}
	return fmt.Errorf("unknown menu entry %q", choice)
}

// pickSeries asks for a stored metric and, when series is set and the metric
// has several series, for one of them.
func (c *Client) pickSeries(ctx context.Context, series bool) (Query, error) {
	cctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	resp, err := c.storedMetrics(cctx, "")
	if err != nil {
		return Query{}, err
	}
	if len(resp.GetMetrics()) == 0 {
		return Query{}, errors.New("nothing stored yet: run the ETL first (menu: Run the ETL now)")
	}
	var opts []huh.Option[string]
	for _, m := range resp.GetMetrics() {
		opts = append(opts, huh.NewOption(fmt.Sprintf("%s (%s, %d series)", m.GetName(), m.GetMetricType(), m.GetSeries()), m.GetName()))
	}
	var q Query
	if err := c.runForm(ctx, huh.NewForm(huh.NewGroup(huh.NewSelect[string]().Title("Metric (type / to filter)").
		Options(opts...).Height(12).Value(&q.Metric)))); err != nil {
		return Query{}, err
	}
	if !series {
		return q, nil
	}
	// The metric form may have been open longer than the timeout.
	sctx, scancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer scancel()
	sresp, err := c.ret.ListSeries(sctx, &slapipev1.ListSeriesRequest{Metric: q.Metric})
	if err != nil {
		return Query{}, c.retrievalService().explain(err)
	}
	if len(sresp.GetSeries()) < 2 {
		return q, nil
	}
	sopts := []huh.Option[string]{huh.NewOption(fmt.Sprintf("all %d series (first %d drawn)", len(sresp.GetSeries()), maxCharts), "")}
	for _, s := range sresp.GetSeries() {
		sopts = append(sopts, huh.NewOption(labelString(s.GetLabels())+"  "+s.GetSeriesId(), s.GetSeriesId()))
	}
	err = c.runForm(ctx, huh.NewForm(huh.NewGroup(huh.NewSelect[string]().Title("Series").
		Options(sopts...).Height(12).Value(&q.SeriesID))))
	return q, err
}

// runForm runs a form on the terminal, tied to ctx.
func (c *Client) runForm(ctx context.Context, f *huh.Form) error {
	return f.WithShowHelp(true).RunWithContext(ctx)
}

// quitOnAbort treats Ctrl-C / Esc in the main menu as Quit.
func quitOnAbort(err error) error {
	if errors.Is(err, huh.ErrUserAborted) || errors.Is(err, huh.ErrTimeout) {
		return nil
	}
	return err
}
