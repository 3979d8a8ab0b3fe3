package slapipev1

import "testing"

// TestCheckVisible: what ctl would print escaped is what a name may not
// hold, so escaping never changes a name ctl sends back.
func TestCheckVisible(t *testing.T) {
	cases := map[string]bool{ // name -> accepted
		"disk-write":         true,
		"Grüße, 温度 °C":       true,
		"disk-write\u200b":   false, // zero-width space
		"\x1b[31mred":        false, // terminal escape
		"a\u2028b":           false, // line separator
		"a\u2029b":           false, // paragraph separator
		"bidi\u202eoverride": false,
		"tab\tinside":        false,
		"new\nline":          false,
		"bell\a":             false,
	}
	for name, ok := range cases {
		if err := CheckVisible(name); (err == nil) != ok {
			t.Errorf("CheckVisible(%q) = %v, want accepted %v", name, err, ok)
		}
	}
}
