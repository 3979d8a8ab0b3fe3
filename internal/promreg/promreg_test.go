package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestRegisterOrReuse(t *testing.T) {
	newCounter := func() prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x"})
	}
	reg := prometheus.NewRegistry()
	first, err := RegisterOrReuse(reg, newCounter())
	require.NoError(t, err)
	second, err := RegisterOrReuse(reg, newCounter())
	require.NoError(t, err)
	require.Same(t, first, second, "the second instance counts into the first one's series")

	// Same name, other help: a conflict, reported, the collector still usable.
	other := prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "other"})
	got, err := RegisterOrReuse(reg, other)
	require.Error(t, err)
	require.Same(t, other, got)

	c := newCounter()
	got, err = RegisterOrReuse[prometheus.Counter](nil, c)
	require.NoError(t, err)
	require.Same(t, c, got)
}
