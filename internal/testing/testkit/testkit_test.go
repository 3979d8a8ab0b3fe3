package testkit

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestMetricAndSum(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "k_total", Help: "k"}, []string{"topic", "kind"})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "k_seconds", Help: "k"})
	reg.MustRegister(c, h)
	c.WithLabelValues("a", "x").Add(2)
	c.WithLabelValues("b", "x").Add(3)
	h.Observe(1)
	h.Observe(2)

	require.Equal(t, 2.0, Metric(t, reg, "k_total", "topic", "a"))
	require.Equal(t, 3.0, Metric(t, reg, "k_total", "topic", "b", "kind", "x"))
	sum, ok := Sum(reg, "k_total")
	require.True(t, ok)
	require.Equal(t, 5.0, sum)
	count, ok := Sum(reg, "k_seconds")
	require.True(t, ok)
	require.Equal(t, 2.0, count, "a histogram counts its samples")
	_, ok = Sum(reg, "absent")
	require.False(t, ok)
}
