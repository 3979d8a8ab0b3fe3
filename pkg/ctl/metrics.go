package ctl

import (
	"context"
	"fmt"
	"io"
	"regexp"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

type metricsJSON struct {
	Metrics []metricJSON `json:"metrics"`
}

type metricJSON struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Help      string `json:"help"`
	Series    int64  `json:"series"`
	Transform string `json:"transform,omitempty"`
}

// Metrics lists the metrics Prometheus has (through the SLA manager), or with
// stored set the metrics the pipeline stored (through the retrieval service).
// filter is a RE2 expression matched against the whole name ("" = the
// server's default).
func (c *Client) Metrics(ctx context.Context, filter string, stored bool) error {
	if filter != "" {
		if _, err := regexp.Compile(filter); err != nil {
			return usageErrorf("invalid --filter %q: %v", filter, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	out := metricsJSON{Metrics: []metricJSON{}}
	if stored {
		resp, err := c.storedMetrics(ctx, filter)
		if err != nil {
			return err
		}
		for _, m := range resp.GetMetrics() {
			out.Metrics = append(out.Metrics, metricJSON{Name: m.GetName(), Type: m.GetMetricType(),
				Series: m.GetSeries(), Transform: m.GetTransform()})
		}
	} else {
		resp, err := c.sla.ListMetrics(ctx, &slapipev1.ListPromMetricsRequest{NameFilter: filter})
		if err != nil {
			return c.slaService().explain(err)
		}
		for _, m := range resp.GetMetrics() {
			out.Metrics = append(out.Metrics, metricJSON{Name: m.GetName(), Type: m.GetType(), Help: m.GetHelp(), Series: m.GetSeries()})
		}
	}
	if c.json() {
		return writeJSON(c.opts.Stdout, out)
	}
	if len(out.Metrics) == 0 && stored {
		_, err := io.WriteString(c.opts.Stdout, "Nothing stored yet: run the ETL with `slapipe ctl etl run`.\n")
		return err
	}
	if len(out.Metrics) == 0 {
		_, err := io.WriteString(c.opts.Stdout, "No metrics match.\n")
		return err
	}
	var t *table
	if stored {
		t = newTable("NAME", "TYPE", "TRANSFORM", "SERIES")
	} else {
		t = newTable("NAME", "TYPE", "SERIES", "HELP")
	}
	for _, m := range out.Metrics {
		if stored {
			t.row(m.Name, m.Type, m.Transform, fmt.Sprint(m.Series))
		} else {
			t.row(m.Name, m.Type, fmt.Sprint(m.Series), truncate(m.Help, 70))
		}
	}
	_, err := io.WriteString(c.opts.Stdout, t.String())
	return err
}

// storedMetrics lists the stored metrics; an empty store (the service
// answers NotFound: no run yet) is an empty list, not an error.
func (c *Client) storedMetrics(ctx context.Context, filter string) (*slapipev1.ListMetricsResponse, error) {
	resp, err := c.ret.ListMetrics(ctx, &slapipev1.ListMetricsRequest{NameFilter: filter})
	if status.Code(err) == codes.NotFound {
		return &slapipev1.ListMetricsResponse{}, nil
	}
	return resp, c.retrievalService().explain(err)
}

type runsJSON struct {
	Runs []*runJSON `json:"runs"`
}

// Runs lists the newest ETL runs, at most limit (0 = the server's default).
func (c *Client) Runs(ctx context.Context, limit int) error {
	if limit < 0 {
		return usageErrorf("invalid --limit %d: must be positive", limit)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	resp, err := c.sla.ListRuns(ctx, &slapipev1.ListRunsRequest{Limit: int32(min(limit, 1<<20))})
	if err != nil {
		return c.slaService().explain(err)
	}
	if c.json() {
		out := runsJSON{Runs: []*runJSON{}}
		for _, r := range resp.GetRuns() {
			out.Runs = append(out.Runs, toRunJSON(r))
		}
		return writeJSON(c.opts.Stdout, out)
	}
	if len(resp.GetRuns()) == 0 {
		_, err := io.WriteString(c.opts.Stdout, "No runs yet: start one with `slapipe ctl etl run`.\n")
		return err
	}
	_, err = io.WriteString(c.opts.Stdout, runsTable(resp.GetRuns()))
	return err
}

func runsTable(runs []*slapipev1.Run) string {
	t := newTable("RUN", "STATUS", "TRIGGER", "STARTED", "SERIES", "DURATION", "ERROR")
	for _, r := range runs {
		errText := "-"
		if r.GetError() != "" {
			errText = truncate(oneLine(r.GetError()), 60)
		}
		t.row(r.GetRunId(), r.GetStatus(), r.GetTrigger(), fmtTime(r.GetStartedAt()), fmt.Sprint(r.GetSeries()),
			fmtSeconds(r.GetTotalSeconds()), errText)
	}
	return t.String()
}
