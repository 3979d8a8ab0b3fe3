package demo

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// fmtValue renders a value of metric in its unit: IEC bytes for *_bytes*
// metrics, a "/s" suffix for rates, four significant digits otherwise.
func fmtValue(metric, transform string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	suffix := ""
	if transform == "rate" {
		suffix = "/s"
	}
	if strings.Contains(metric, "_bytes") {
		return fmtBytes(v) + suffix
	}
	return trimFloat(fmt.Sprintf("%.4g", v)) + suffix
}

func fmtBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	a, i := math.Abs(v), 0
	for a >= 1024 && i < len(units)-1 {
		a /= 1024
		i++
	}
	if v < 0 {
		a = -a
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%.0f B", a)
	case math.Abs(a) < 10:
		return fmt.Sprintf("%.2f %s", a, units[i])
	case math.Abs(a) < 100:
		return fmt.Sprintf("%.1f %s", a, units[i])
	default:
		return fmt.Sprintf("%.0f %s", a, units[i])
	}
}

// trimFloat turns %g's exponent form of large numbers into plain digits.
func trimFloat(s string) string {
	if !strings.ContainsAny(s, "e") {
		return s
	}
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil || math.Abs(f) < 1 {
		return s
	}
	return fmt.Sprintf("%.0f", f)
}

// fmtLabels renders labels as a PromQL label set, without the labels in
// hide (shared by every row and said once in the heading); "" when none is
// left, so metric+labels reads as a selector.
func fmtLabels(ls map[string]string, hide map[string]bool) string {
	keys := slices.Sorted(maps.Keys(ls))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if !hide[k] {
			parts = append(parts, fmt.Sprintf("%s=%q", k, ls[k]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// sharedLabels are the labels with one value across all rows (instance and
// job in the demo), so tables can leave them out.
func sharedLabels(sets []map[string]string) (hide map[string]bool, shared map[string]string) {
	hide, shared = map[string]bool{}, map[string]string{}
	if len(sets) == 0 {
		return hide, shared
	}
	for k, v := range sets[0] {
		same := true
		for _, s := range sets[1:] {
			if w, ok := s[k]; !ok || w != v {
				same = false
				break
			}
		}
		if same && (k == "instance" || k == "job") {
			hide[k], shared[k] = true, v
		}
	}
	return hide, shared
}

func fmtPercent(f float64) string {
	if math.IsNaN(f) {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*f)
}

// fmtDuration renders a duration compactly: 850ms, 2.4s, 3m10s, 1h.
func fmtDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var b strings.Builder
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s > 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}
