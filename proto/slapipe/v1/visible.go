package slapipev1

import (
	"fmt"
	"math"
	"unicode"
)

// MaxBound is the largest magnitude of an SLA bound: finite, printable in a
// few characters (1e300, not the 309 digits of 1.8e308), and far from
// overflowing when a computation scales it.
const MaxBound = 1e300

// CheckBound reports a bound that is not a
// finite number within ±MaxBound.
func CheckBound(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > MaxBound {
		return fmt.Errorf("must be a finite number within ±1e300 (got %g)", v)
	}
	return nil
}

// CheckVisible reports a control character
// (which would rewrite the terminal of whoever prints it) or a Unicode
// format character (category Cf: zero-width spaces and joiners, bidi
// overrides), which makes a name look like another.
func CheckVisible(s string) error {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("contains the invisible or control character %U", r)
		}
	}
	return nil
}
