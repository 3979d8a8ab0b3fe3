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

// Invisible reports a rune that must not reach a terminal as it is, nor
// stand in a name: a control character (ESC starts a terminal command, BEL
// rings), a Unicode format character (category Cf: zero-width spaces and
// joiners, bidi overrides, which make a name look like another) or a line
// or paragraph separator. Servers refuse names with one; ctl escapes the
// ones it is sent.
func Invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// CheckVisible reports the first Invisible rune of s.
func CheckVisible(s string) error {
	for _, r := range s {
		if Invisible(r) {
			return fmt.Errorf("contains the invisible or control character %U", r)
		}
	}
	return nil
}
