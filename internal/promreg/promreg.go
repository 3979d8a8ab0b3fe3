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

// Set registers a component's collectors on one Registerer, keeping every
// failure for Err: the one way slapipe handles registration errors. A
// component reports Err from its constructor (a conflicting description is
// a programming error, better found at start than as a silent gap).
type Set struct {
	r    prometheus.Registerer
	errs []error
}

// NewSet registers on r; a nil r registers nothing.
func NewSet(r prometheus.Registerer) *Set { return &Set{r: r} }

// Add is RegisterOrReuse on s's Registerer; a failure is kept for s.Err.
func Add[C prometheus.Collector](s *Set, c C) C {
	c, err := RegisterOrReuse(s.r, c)
	if err != nil {
		s.errs = append(s.errs, err)
	}
	return c
}

// Err joins the failures of every Add so far; nil when there were none.
func (s *Set) Err() error { return errors.Join(s.errs...) }
