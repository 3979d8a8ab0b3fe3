package testenv

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchSeries is what the benchmarks of a run over Prometheus read: the
// selector SLAPIPE_BENCH_SELECTOR (default the series the bench scripts
// backfill, {instance="bench:9100"}) and the end of the range
// SLAPIPE_BENCH_END (unix seconds; default now).
func BenchSeries(b testing.TB) (selector string, end time.Time) {
	b.Helper()
	selector = os.Getenv("SLAPIPE_BENCH_SELECTOR")
	if selector == "" {
		selector = `{instance="bench:9100"}`
	}
	end = time.Now()
	if s := os.Getenv("SLAPIPE_BENCH_END"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("SLAPIPE_BENCH_END=%q: %v", s, err)
		}
		end = time.Unix(sec, 0)
	}
	return selector, end
}
