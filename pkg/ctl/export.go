package ctl

import (
	"errors"
	"fmt"
	"io"
	"strings"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// The functions here are ctl's table formatting, exported so other human
// readable reports (`slapipe demo`) print values, labels and the status
// exactly as `slapipe ctl` does.

// FormatValue renders v in the unit of metric as ctl's tables do: binary
// prefixes for *_bytes* metrics, a "/s" suffix for rates (transform "rate",
// or "" and a _total counter), SI prefixes above 10^4 otherwise; "-" when v
// is not finite.
func FormatValue(metric, transform string, v float64) string {
	return unitOf(metric, transform).format(v)
}

// FormatLabels renders labels as {a="x", b="y"} in key order without
// __name__; "-" when none is left, so it always fills a table cell.
func FormatLabels(l map[string]string) string { return cellLabels(l) }

// CommonLabels returns the labels every one of sets has with the same value
// (never __name__); empty for fewer than two sets.
func CommonLabels(sets []map[string]string) map[string]string { return commonLabels(sets) }

// WithoutLabels returns a copy of l without the keys of common.
func WithoutLabels(l, common map[string]string) map[string]string { return without(l, common) }

// WriteStatus writes the tables of `slapipe ctl status`: headed sections
// "SLA set", "Violations", "Predictions" and "Last run", each separated by
// a blank line.
func WriteStatus(w io.Writer, s *slapipev1.GetStatusResponse) error {
	var b strings.Builder
	b.WriteString("SLA set\n")
	b.WriteString(indent(slaTable(s.GetSet())))
	b.WriteString("\nViolations\n")
	b.WriteString(indent(violationsTable(s.GetViolations())))
	b.WriteString("\nPredictions\n")
	b.WriteString(indent(predictionsTable(s.GetPredictions())))
	b.WriteString("\nError budget\n")
	b.WriteString(indent(budgetTable(s.GetBudget())))
	b.WriteString("\nLast run\n")
	if r := s.GetLastRun(); r != nil {
		b.WriteString(indent(runsTable([]*slapipev1.Run{r})))
	} else {
		b.WriteString(indent("no run yet: start one with `slapipe ctl etl run`\n"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ProgressStream is the client side of the SLA manager's RunETL stream.
type ProgressStream interface {
	Recv() (*slapipev1.ETLProgress, error)
}

// ErrNoSummary is returned by FollowRun when the stream ends without the
// run's summary.
var ErrNoSummary = errors.New("the SLA manager ended the ETL stream without a summary: see `slapipe ctl runs`")

// FollowRun reads stream to its end, calling onMsg (when not nil) with every
// progress message, and returns the run's summary. An error from the stream
// is returned as is (a gRPC status); a run whose status is "failed" or that
// carries an error is returned together with an error naming it.
func FollowRun(stream ProgressStream, onMsg func(*slapipev1.ETLProgress)) (*slapipev1.Run, error) {
	var run *slapipev1.Run
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if onMsg != nil {
			onMsg(msg)
		}
		if msg.GetRun() != nil {
			run = msg.GetRun()
		}
	}
	switch {
	case run == nil:
		return nil, ErrNoSummary
	case run.GetStatus() == "failed" || run.GetError() != "":
		reason := oneLine(run.GetError())
		if reason == "" {
			reason = "no reason given"
		}
		return run, fmt.Errorf("etl run %s failed: %s", run.GetRunId(), reason)
	}
	return run, nil
}
