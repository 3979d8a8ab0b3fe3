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

func TestSet(t *testing.T) {
	reg := prometheus.NewRegistry()
	newCounter := func(help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "y_total", Help: help})
	}
	first := NewSet(reg)
	a := Add(first, newCounter("y"))
	require.NoError(t, first.Err())

	second := NewSet(reg)
	require.Same(t, a, Add(second, newCounter("y")), "a second component instance shares the series")
	other := newCounter("conflicting help")
	require.Same(t, other, Add(second, other), "a conflicting collector still counts, unexported")
	require.ErrorContains(t, second.Err(), "y_total")

	require.NoError(t, NewSet(nil).Err())
	c := newCounter("y")
	none := NewSet(nil)
	require.Same(t, c, Add(none, c))
	require.NoError(t, none.Err())
}
