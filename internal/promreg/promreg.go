// Package promreg registers Prometheus collectors so that a component built
// twice in one process (the demo, tests, a restarted component) shares its
// series instead of failing.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// RegisterOrReuse registers c on r and returns it; when an equal collector
// is already registered there it returns that one instead, so both
// instances count into the same series. A nil r registers nothing. Any
// other failure (a conflicting description: a programming error) is
// returned together with c, which still counts, unexported.
func RegisterOrReuse[C prometheus.Collector](r prometheus.Registerer, c C) (C, error) {
	if r == nil {
		return c, nil
	}
	err := r.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}
