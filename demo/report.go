package demo

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/pkg/ctl"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// render writes the report. Tables are aligned with tabwriter; numbers
// carry their unit.
func render(out io.Writer, r *report, once bool) error {
	w := &errWriter{w: out}
	w.printf("slapipe demo: the whole pipeline in one process\n\nServices\n")
	renderServices(w, r)
	run := r.run
	w.printf("\nETL run %s (%s): %d series pulled in %s, analysed in %s, published in %s; stored by datastorage %s later.\n",
		run.GetRunId(), run.GetStatus(), run.GetSeries(),
		fmtDuration(seconds(run.GetPullSeconds())), fmtDuration(seconds(run.GetAnalyseSeconds())),
		fmtDuration(seconds(run.GetPublishSeconds())), fmtDuration(r.storeTook))
	// The SLA set, violations, predictions and last run exactly as
	// `slapipe ctl status` prints them.
	w.printf("\n")
	if err := ctl.WriteStatus(w, r.status); err != nil {
		return err
	}
	renderSeries(w, r)
	renderNext(w, r, once)
	return w.err
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func renderServices(w *errWriter, r *report) {
	tw := w.table()
	if r.embeddedProm {
		fmt.Fprintf(tw, "  Prometheus\t%s\tembedded: %d series of node_exporter-shaped history, 12h at 5s (%d samples ingested in %s), live points every 5s\n",
			r.promURL, r.historySeries, r.ingested, fmtDuration(r.ingestTook))
	} else {
		fmt.Fprintf(tw, "  Prometheus\t%s\t\n", r.promURL)
	}
	if r.embeddedKafka {
		fmt.Fprintf(tw, "  Kafka\t%s\tembedded kfake broker, topics %s, %s, %s\n", strings.Join(r.brokers, ","),
			slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic), slapipev1.DeadLetterTopic(slapipev1.DefaultTopic))
	} else {
		fmt.Fprintf(tw, "  Kafka\t%s\t\n", strings.Join(r.brokers, ","))
	}
	fmt.Fprintf(tw, "  Store\t%s\t\n", r.storeDesc)
	fmt.Fprintf(tw, "  slamanager\t%s\tgRPC\n", r.slaAddr)
	fmt.Fprintf(tw, "  dataretrieval\t%s\tgRPC\n", r.retrievalAddr)
	fmt.Fprintf(tw, "  datastorage\tgroup %s\tconsuming %s and %s\n", datastorage.DefaultGroupID, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))
	if r.metricsURL != "" {
		fmt.Fprintf(tw, "  metrics\t%s\tof every component\n", r.metricsURL)
	}
	w.flush(tw)
}

func renderSeries(w *errWriter, r *report) {
	sets := make([]map[string]string, len(r.analyses))
	for i, a := range r.analyses {
		sets[i] = a.GetLabels()
	}
	shared := ctl.CommonLabels(sets)
	common := ""
	if len(shared) > 0 {
		common = ", all with " + ctl.FormatLabels(shared)
	}
	w.printf("\nSeries of run %s (%d%s; counters as per-second rates)\n", r.run.GetRunId(), len(r.analyses), common)
	tw := w.table()
	longest := slapipev1.Windows[len(slapipev1.Windows)-1].Name
	head := []string{"  METRIC", "LABELS"}
	for _, w := range slapipev1.Windows {
		head = append(head, strings.ToUpper(w.Name)+" MEAN")
	}
	head = append(head, strings.ToUpper(longest)+" MIN", strings.ToUpper(longest)+" MAX", "SEASON", "STATIONARY", "FORECAST")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, a := range r.analyses {
		st := map[string]*slapipev1.WindowStats{}
		for _, ws := range a.GetWindows() {
			st[ws.GetWindow()] = ws
		}
		v := func(f float64) string { return ctl.FormatValue(a.GetMetric(), a.GetTransform(), f) }
		season := "-"
		if s := a.GetSeasonality(); s != nil && s.GetPeriod() > 1 {
			season = fmtDuration(time.Duration(float64(s.GetPeriod()) * a.GetStepSeconds() * float64(time.Second)))
		}
		stationary := "-"
		if adf := a.GetAdf(); adf != nil {
			stationary = "no"
			if adf.GetStationary() {
				stationary = "yes"
			}
		}
		model := "-"
		if fc := a.GetForecast(); fc != nil && fc.GetModel() != "" {
			model = fc.GetModel()
		}
		ls := ctl.FormatLabels(ctl.WithoutLabels(a.GetLabels(), shared))
		row := []string{"  " + a.GetMetric(), ls}
		for _, w := range slapipev1.Windows {
			row = append(row, v(st[w.Name].GetMean()))
		}
		row = append(row, v(st[longest].GetMin()), v(st[longest].GetMax()), season, stationary, model)
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	w.flush(tw)
}

func renderNext(w *errWriter, r *report, once bool) {
	flags := ""
	if !r.defaultAddrs {
		flags = fmt.Sprintf(" --sla-addr %s --retrieval-addr %s", r.slaAddr, r.retrievalAddr)
	}
	w.printf("\nTry in another terminal")
	if once {
		w.printf(" (run `slapipe demo` without --once to keep the services up)")
	}
	w.printf(":\n")
	for _, c := range []string{
		"status", "violations", "forecast node_filesystem_avail_bytes", "stats node_memory_MemFree_bytes",
		"sla get", "etl run",
	} {
		w.printf("  slapipe ctl%s %s\n", flags, c)
	}
	if r.embeddedProm {
		w.printf("  curl '%s/api/v1/query?query=node_filesystem_avail_bytes'\n", r.promURL)
	}
	if !once {
		every := "never (scheduled runs disabled)"
		if r.etlInterval > 0 {
			every = "every " + fmtDuration(r.etlInterval)
		}
		w.printf("\nServing until Ctrl-C; the SLA manager runs the ETL %s.\n", every)
	}
	w.printf("\nReport ready %s after start.\n", fmtDuration(r.wall))
}

// errWriter keeps the first write error so the rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

func (e *errWriter) table() *tabwriter.Writer { return tabwriter.NewWriter(e, 0, 0, 2, ' ', 0) }

func (e *errWriter) flush(tw *tabwriter.Writer) {
	if err := tw.Flush(); err != nil && e.err == nil {
		e.err = err
	}
}
