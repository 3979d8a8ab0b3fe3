package demo

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// windows are the violation and statistics windows, shortest first.
var windows = []string{"1h", "3h", "12h"}

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
	renderSLA(w, r.sla)
	renderViolations(w, r)
	renderPredictions(w, r)
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
		fmt.Fprintf(tw, "  Kafka\t%s\tembedded kfake broker, topics prometheusdata, prometheusdata.runs, %s\n", strings.Join(r.brokers, ","), dlqTopic)
	} else {
		fmt.Fprintf(tw, "  Kafka\t%s\t\n", strings.Join(r.brokers, ","))
	}
	fmt.Fprintf(tw, "  Store\t%s\t\n", r.storeDesc)
	fmt.Fprintf(tw, "  slamanager\t%s\tgRPC\n", r.slaAddr)
	fmt.Fprintf(tw, "  dataretrieval\t%s\tgRPC\n", r.retrievalAddr)
	fmt.Fprintf(tw, "  datastorage\tgroup %s\tconsuming %s and %s\n", groupID, "prometheusdata", "prometheusdata.runs")
	if r.metricsURL != "" {
		fmt.Fprintf(tw, "  metrics\t%s\tof every component\n", r.metricsURL)
	}
	w.flush(tw)
}

func renderSLA(w *errWriter, set *slapipev1.SLASet) {
	w.printf("\nSLA set (version %d)\n", set.GetVersion())
	tw := w.table()
	fmt.Fprintln(tw, "  NAME\tSELECTOR\tMIN\tMAX")
	for _, o := range set.GetObjectives() {
		metric, _, _ := strings.Cut(o.GetSelector(), "{")
		transform := ""
		if strings.HasSuffix(metric, "_total") {
			transform = "rate"
		}
		bound := func(p *float64) string {
			if p == nil {
				return "-"
			}
			// The exact configured number (as `slapipe ctl sla set` takes it)
			// and its reading in the metric's unit.
			exact := strconv.FormatFloat(*p, 'f', -1, 64)
			human := fmtValue(metric, transform, *p)
			if human == exact || human == exact+"/s" {
				return human
			}
			return exact + " (" + human + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", o.GetName(), o.GetSelector(), bound(o.Min), bound(o.Max))
	}
	w.flush(tw)
}

func renderViolations(w *errWriter, r *report) {
	stale := ""
	if r.viol.GetStale() {
		stale = fmt.Sprintf(" (stale: Prometheus did not answer; snapshot from %s ago)", fmtDuration(seconds(r.viol.GetAgeSeconds())))
	}
	w.printf("\nViolations per window, at the 5s step%s\n", stale)
	var sets []map[string]string
	for _, wv := range r.viol.GetWindows() {
		for _, v := range wv.GetRows() {
			sets = append(sets, v.GetLabels())
		}
	}
	hide, _ := sharedLabels(sets)
	tw := w.table()
	fmt.Fprintln(tw, "  WINDOW\tOBJECTIVE\tSERIES\tSTATE\tSAMPLES\tOUT\tEPISODES\tTIME OUT\tCOMPLIANCE\tWORST")
	byWindow := map[string]*slapipev1.WindowViolations{}
	for _, wv := range r.viol.GetWindows() {
		byWindow[wv.GetWindow()] = wv
	}
	for _, win := range windows {
		for _, v := range byWindow[win].GetRows() {
			state, worst := "ok", "-"
			if v.GetSamplesOut() > 0 {
				state = "VIOLATED"
				worst = fmtValue(v.GetMetric(), transformOf(r, v.GetMetric()), v.GetWorst())
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", win, v.GetObjective(), v.GetMetric(),
				fmtLabels(v.GetLabels(), hide), state, v.GetSamples(), v.GetSamplesOut(), v.GetEpisodes(),
				fmtDuration(seconds(v.GetSecondsOut())), fmtPercent(v.GetCompliance()), worst)
		}
	}
	w.flush(tw)
}

func renderPredictions(w *errWriter, r *report) {
	horizon := fmtDuration(seconds(r.pred.GetHorizonSeconds()))
	stale := ""
	if r.pred.GetStale() {
		stale = fmt.Sprintf(" (stale: from a run %s old)", fmtDuration(seconds(r.pred.GetAgeSeconds())))
	}
	w.printf("\nPredictions for the next %s, from the run's Holt-Winters forecasts%s\n", horizon, stale)
	preds := slices.Clone(r.pred.GetPredictions())
	slices.SortStableFunc(preds, func(a, b *slapipev1.Prediction) int { return cmp.Compare(b.GetProbability(), a.GetProbability()) })
	sets := make([]map[string]string, len(preds))
	for i, p := range preds {
		sets[i] = p.GetLabels()
	}
	hide, _ := sharedLabels(sets)
	now := r.run.GetFinishedAt().AsTime()
	tw := w.table()
	fmt.Fprintln(tw, "  OBJECTIVE\tSERIES\tP(LEAVE)\tFIRST CROSSING\tPRED MIN\tPRED MAX\tPRED MEAN\tMODEL")
	for _, p := range preds {
		tr := transformOf(r, p.GetMetric())
		crossing := "-"
		if fc := p.GetFirstCrossing(); fc != nil {
			crossing = fmt.Sprintf("%s (in %s)", fc.AsTime().Local().Format("15:04:05"), fmtDuration(max(fc.AsTime().Sub(now), 0)))
		}
		fmt.Fprintf(tw, "  %s\t%s%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.GetObjective(), p.GetMetric(), fmtLabels(p.GetLabels(), hide),
			fmtPercent(p.GetProbability()), crossing, fmtValue(p.GetMetric(), tr, p.GetMin()),
			fmtValue(p.GetMetric(), tr, p.GetMax()), fmtValue(p.GetMetric(), tr, p.GetMean()), p.GetModel())
	}
	w.flush(tw)
}

func renderSeries(w *errWriter, r *report) {
	sets := make([]map[string]string, len(r.analyses))
	for i, a := range r.analyses {
		sets[i] = a.GetLabels()
	}
	hide, shared := sharedLabels(sets)
	common := ""
	if len(shared) > 0 {
		common = ", all with " + fmtLabels(shared, nil)
	}
	w.printf("\nSeries of run %s (%d%s; counters as per-second rates)\n", r.run.GetRunId(), len(r.analyses), common)
	tw := w.table()
	fmt.Fprintln(tw, "  METRIC\tLABELS\t1H MEAN\t3H MEAN\t12H MEAN\t12H MIN\t12H MAX\tSEASON\tSTATIONARY\tFORECAST")
	for _, a := range r.analyses {
		st := map[string]*slapipev1.WindowStats{}
		for _, ws := range a.GetWindows() {
			st[ws.GetWindow()] = ws
		}
		v := func(f float64) string { return fmtValue(a.GetMetric(), a.GetTransform(), f) }
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
		ls := fmtLabels(a.GetLabels(), hide)
		if ls == "" {
			ls = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.GetMetric(), ls,
			v(st["1h"].GetMean()), v(st["3h"].GetMean()), v(st["12h"].GetMean()),
			v(st["12h"].GetMin()), v(st["12h"].GetMax()), season, stationary, model)
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

// transformOf is the transform the run used for metric ("rate" for counters).
func transformOf(r *report, metric string) string {
	for _, a := range r.analyses {
		if a.GetMetric() == metric {
			return a.GetTransform()
		}
	}
	return ""
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
