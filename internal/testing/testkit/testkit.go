// Package testkit is what the tests of several packages share: a fresh
// store per dialect, an in-process Kafka-protocol broker and metric reads.
// Only _test.go files import it. The store's own tests cannot (testkit
// imports store) and keep their opener; the reference cases of the
// analysis packages are loaded by package refcase, which pulls in none of
// this.
package testkit

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/pkg/store"
)

// Dialects are the store's dialects, SQLite first (it needs no server).
var Dialects = []string{store.DialectSQLite, store.DialectMySQL}

// openTimeout bounds opening and migrating a store.
const openTimeout = time.Minute

// Store opens a migrated store on a new empty database of dialect, closed
// (and, on MySQL, dropped) when the test ends: SQLite in the test's temp
// directory, MySQL through testenv (skipped without
// SLAPIPE_TEST_MYSQL_DSN, failed instead under CI=true).
func Store(t testing.TB, dialect string) *store.Store {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "store.db")
	if dialect == store.DialectMySQL {
		dsn = testenv.NewMySQLDatabase(t, testenv.MySQLDSN(t), "kit")
	}
	return OpenStore(t, dsn)
}

// OpenStore opens and migrates the store at dsn, closed when the test ends.
func OpenStore(t testing.TB, dsn string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	st, err := store.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(ctx))
	return st
}

// Broker starts an in-process Kafka-protocol broker (kfake) on loopback
// that creates topics on first use with partitions partitions (kfake's
// default when 0), closed when the test ends, and returns its bootstrap
// addresses.
func Broker(t testing.TB, partitions int) []string {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}
	if partitions > 0 {
		opts = append(opts, kfake.DefaultNumPartitions(partitions))
	}
	c, err := kfake.NewCluster(opts...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// Metric is the value of the one counter, gauge or untyped series of g
// named name whose labels include labelPairs (name, value, name, value...).
// The test fails when no series or several match.
func Metric(t testing.TB, g prometheus.Gatherer, name string, labelPairs ...string) float64 {
	t.Helper()
	require.Zero(t, len(labelPairs)%2, "label pairs: %q", labelPairs)
	families, err := g.Gather()
	require.NoError(t, err)
	var found []float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i < len(labelPairs); i += 2 {
				if v, ok := have[labelPairs[i]]; !ok || v != labelPairs[i+1] {
					continue series
				}
			}
			switch {
			case m.GetCounter() != nil:
				found = append(found, m.GetCounter().GetValue())
			case m.GetGauge() != nil:
				found = append(found, m.GetGauge().GetValue())
			case m.GetUntyped() != nil:
				found = append(found, m.GetUntyped().GetValue())
			}
		}
	}
	want := name + "{" + pairs(labelPairs) + "}"
	require.Len(t, found, 1, "series matching %s", want)
	return found[0]
}

func pairs(labelPairs []string) string {
	var b strings.Builder
	for i := 0; i+1 < len(labelPairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", labelPairs[i], labelPairs[i+1])
	}
	return b.String()
}

// Sum is FamilySum of g's family name, and whether g has it. It needs no
// testing.TB, so that a poll can call it.
func Sum(g prometheus.Gatherer, name string) (float64, bool) {
	families, err := g.Gather()
	if err != nil {
		return 0, false
	}
	for _, f := range families {
		if f.GetName() == name {
			return FamilySum(f), true
		}
	}
	return 0, false
}

// FamilySum adds up the values (counters, gauges, untyped) or sample counts
// (histograms, summaries) of every series of f.
func FamilySum(f *dto.MetricFamily) float64 {
	var sum float64
	for _, m := range f.GetMetric() {
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.Summary != nil:
			sum += float64(m.GetSummary().GetSampleCount())
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum
}
