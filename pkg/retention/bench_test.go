package retention

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/pkg/store"
)

// benchSeries and benchOldRuns shape the history BenchmarkPruneWhileWriting
// deletes: a week of runs of 1000 series, one every 12 hours (14 runs,
// 14,000 analyses and their ~130,000 child rows; a 5-minute schedule
// would make 2016 runs, too many to seed in a benchmark of a minute).
const (
	benchSeries  = 1000
	benchOldRuns = 14
	// benchBatches of datastorage's 500 messages are written per phase.
	benchBatches = 10
)

// cloneRun copies run's rows in every run-keyed table under the new id,
// started at: a fast way to seed history (one INSERT ... SELECT per table).
func cloneRun(b *testing.B, st *store.Store, run, id string, at time.Time) {
	b.Helper()
	ctx := context.Background()
	for _, table := range []string{"runs", "analyses", "window_stats", "stationarity", "autocorrelation",
		"seasonality", "forecasts", "season_checks"} {
		rows, err := st.DB().QueryContext(ctx, "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "+
			"AND table_name = ? AND extra NOT LIKE '%GENERATED%' ORDER BY ordinal_position", table)
		if err != nil {
			b.Fatal(err)
		}
		var cols, sel []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				b.Fatal(err)
			}
			cols = append(cols, c)
			switch c {
			case "run_id":
				sel = append(sel, "?")
			case "started_at", "analyses_at", "computed_at":
				sel = append(sel, "?")
			default:
				sel = append(sel, c)
			}
		}
		_ = rows.Close()
		var args []any
		for _, c := range cols {
			switch c {
			case "run_id":
				args = append(args, id)
			case "started_at", "analyses_at", "computed_at":
				args = append(args, at)
			}
		}
		// Column names come from the catalogue, not from input.
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(sel, ", ") +
			" FROM " + table + " WHERE run_id = ?"
		if _, err := st.DB().ExecContext(ctx, q, append(args, run)...); err != nil {
			b.Fatalf("cloning %s: %v", table, err)
		}
	}
}

// writeRate writes benchBatches batches of 500 new analyses (new runs, all
// inserts, as datastorage writes a run) and returns messages per second.
func writeRate(b *testing.B, st *store.Store, prefix string) float64 {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	for i := range benchBatches {
		as := fixtures.Analyses(fmt.Sprintf("%s-%d", prefix, i/2), 1000)[500*(i%2) : 500*(i%2)+500]
		now := timestamppb.Now()
		for _, a := range as {
			a.ComputedAt = now
		}
		if err := st.WriteAnalyses(ctx, as); err != nil {
			b.Fatal(err)
		}
	}
	return float64(benchBatches*500) / time.Since(start).Seconds()
}

// BenchmarkPruneWhileWriting seeds a week of 1000-series runs in MariaDB,
// measures the write rate of datastorage's batches while a retention pass
// deletes the week (default batch and pause) and alone (the mean of a
// measure before and one after the pass), and reports the rates, their
// ratio and the pass's pace. Run it alone:
//
//	go test -run XXX -bench PruneWhileWriting -benchtime 1x ./retention/
func BenchmarkPruneWhileWriting(b *testing.B) {
	for b.Loop() {
		st := openStore(b, store.DialectMySQL)
		now := time.Now().UTC()
		writeRun(b, st, "base", benchSeries, now.Add(-8*24*time.Hour))
		for i := range benchOldRuns {
			cloneRun(b, st, "base", fmt.Sprintf("old-%02d", i), now.Add(-8*24*time.Hour+time.Duration(i)*12*time.Hour))
		}
		writeRun(b, st, "latest", benchSeries, now)

		before := writeRate(b, st, "before")
		ctx := context.Background()
		type result struct {
			p   store.Pruned
			err error
			d   time.Duration
		}
		done := make(chan result, 1)
		go func() {
			t0 := time.Now()
			p, err := st.Prune(ctx, now.Add(-time.Hour), DefaultKeepVersions, DefaultBatch, DefaultPause)
			done <- result{p, err, time.Since(t0)}
		}()
		during := writeRate(b, st, "during")
		res := <-done
		if res.err != nil {
			b.Fatal(res.err)
		}
		// The usual rate is measured on both sides of the pass: on a shared
		// machine the load moves more than retention moves it.
		alone := (before + writeRate(b, st, "after")) / 2
		if want := int64((benchOldRuns + 1) * benchSeries); res.p["analyses"] != want {
			b.Fatalf("deleted %d analyses, want %d", res.p["analyses"], want)
		}
		b.ReportMetric(alone, "alone-msgs/s")
		b.ReportMetric(during, "during-msgs/s")
		b.ReportMetric(during/alone, "ratio")
		b.ReportMetric(float64(res.p["analyses"])/res.d.Seconds(), "deleted-analyses/s")
		b.ReportMetric(res.d.Seconds(), "prune-s")
	}
}
