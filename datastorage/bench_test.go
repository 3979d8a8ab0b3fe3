package datastorage

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/slapipe/slapipe/internal/kafkaconn"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// benchMessages is how many messages one benchmark iteration moves.
const benchMessages = 10000

// countingWriter passes writes to the store and notes when the first began
// and when the wanted number of messages was written.
type countingWriter struct {
	Writer
	want    int
	mu      sync.Mutex
	n       int
	first   time.Time
	lastEnd time.Time
	done    chan struct{}
}

func (c *countingWriter) WriteAnalyses(ctx context.Context, msgs []*slapipev1.SeriesAnalysis) error {
	c.mu.Lock()
	if c.first.IsZero() {
		c.first = time.Now()
	}
	c.mu.Unlock()
	if err := c.Writer.WriteAnalyses(ctx, msgs); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += len(msgs)
	if c.n >= c.want && c.lastEnd.IsZero() {
		c.lastEnd = time.Now()
		close(c.done)
	}
	return nil
}

// BenchmarkThroughput moves realistic messages (internal/fixtures/analysis.json:
// 3 windows, 41 ACF lags, a 120-value season, 120 forecast points) from an
// in-process broker into the real store with the default batch size and
// wait, each iteration a new run (all inserts); "none" stores nothing and
// measures the consumer alone. "msgs/s" counts from the
// consumer's start (group join included) to the last write; "steady-msgs/s"
// from the first write to the last.
func BenchmarkThroughput(b *testing.B) {
	for _, d := range append([]string{"none"}, testkit.Dialects...) {
		for _, writers := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("%s/writers=%d", d, writers), func(b *testing.B) {
				benchThroughput(b, d, writers)
			})
		}
	}
}

func benchThroughput(b *testing.B, dialect string, writers int) {
	var st Writer = nopWriter{}
	if dialect != "none" {
		st = testkit.Store(b, dialect)
	}
	brokers := testkit.Broker(b, testPartitions)
	var total, steady time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		run := fmt.Sprintf("bench-%d", i)
		cfg := Config{Brokers: brokers, Topic: "bench." + run, GroupID: "bench-" + run, Writers: writers}
		// The production partition count, so that every writer has work.
		if err := ensureTopics(context.Background(), kafkaconn.Security{}, brokers, DefaultPartitions, cfg.Topic, cfg.runsTopic()); err != nil {
			b.Fatal(err)
		}
		produce(b, brokers, cfg.Topic, analysisMessages(b, genAnalyses(b, run, benchMessages))...)
		w := &countingWriter{Writer: st, want: benchMessages, done: make(chan struct{})}
		c, err := New(cfg, w, Deps{Logger: testLogger(b)})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		b.StartTimer()
		start := time.Now()
		go func() { errc <- c.Run(ctx) }()
		select {
		case <-w.done:
		case err := <-errc:
			b.Fatalf("consumer stopped: %v", err)
		}
		b.StopTimer()
		total += w.lastEnd.Sub(start)
		steady += w.lastEnd.Sub(w.first)
		cancel()
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	n := float64(b.N * benchMessages)
	b.ReportMetric(n/total.Seconds(), "msgs/s")
	b.ReportMetric(n/steady.Seconds(), "steady-msgs/s")
}

// nopWriter stores nothing: it measures the consumer itself (fetch, decode,
// commit).
type nopWriter struct{}

func (nopWriter) WriteAnalyses(context.Context, []*slapipev1.SeriesAnalysis) error { return nil }
func (nopWriter) UpsertRun(context.Context, *slapipev1.Run) error                  { return nil }

// pingingCounter is a countingWriter whose store answers pings, as the
// real store does.
type pingingCounter struct {
	*countingWriter
	st *store.Store
}

func (p pingingCounter) Ping(ctx context.Context) error { return p.st.Ping(ctx) }

// BenchmarkPoisonDelay measures how long one poison message (poisonAnalysis:
// MariaDB resets the connection, the failure that looks most like an
// outage) delays the valid messages around it: 500 valid, the poison, 500
// valid on one partition, default batch size, retries and poison tries, one
// writer. "ms" is from the first write to the last valid message stored;
// compare "clean" (no poison) with "poison".
func BenchmarkPoisonDelay(b *testing.B) {
	st := testkit.Store(b, store.DialectMySQL)
	brokers := testkit.Broker(b, testPartitions)
	for _, withPoison := range []bool{false, true} {
		name := map[bool]string{false: "clean", true: "poison"}[withPoison]
		b.Run(name, func(b *testing.B) {
			var total time.Duration
			for i := 0; b.Loop(); i++ {
				run := fmt.Sprintf("delay-%s-%d", name, i)
				cfg := Config{Brokers: brokers, Topic: "bench." + run, GroupID: "bench-" + run, Writers: 1, MaxMessageBytes: 16 << 20}
				createBigTopics(b, brokers, cfg.Topic, cfg.runsTopic())
				msgs := analysisMessages(b, genAnalyses(b, run, 1000))
				if withPoison {
					poison := analysisMessages(b, []*slapipev1.SeriesAnalysis{poisonAnalysis(run)})[0]
					msgs = append(append(msgs[:500:500], poison), msgs[500:]...)
				}
				produceBig(b, brokers, cfg.Topic, msgs...)
				w := &countingWriter{Writer: st, want: 1000, done: make(chan struct{})}
				c, err := New(cfg, pingingCounter{w, st}, Deps{Logger: testLogger(b)})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				errc := make(chan error, 1)
				go func() { errc <- c.Run(ctx) }()
				select {
				case <-w.done:
				case err := <-errc:
					b.Fatalf("consumer stopped: %v", err)
				}
				total += w.lastEnd.Sub(w.first)
				cancel()
				if err := <-errc; err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms")
		})
	}
}
