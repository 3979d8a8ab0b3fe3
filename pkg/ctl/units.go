package ctl

import (
	"math"
	"strconv"
	"strings"
)

// unit says how a metric's values read in tables: byte sizes (binary
// prefixes, as node_exporter's *_bytes metrics are), per-second rates
// (counters are analysed as rates), or plain numbers. JSON is never
// affected.
type unit struct {
	bytes, rate bool
}

// unitOf infers the unit from the metric name and the transform ("rate",
// "raw", or "" when unknown: counters by their _total suffix).
func unitOf(metric, transform string) unit {
	rate := transform == "rate" || (transform == "" && strings.HasSuffix(metric, "_total"))
	return unit{bytes: strings.Contains(metric, "_bytes"), rate: rate}
}

// selectorUnit is the unit of the metric an SLA selector names.
func selectorUnit(selector string) unit {
	metric, _, _ := strings.Cut(selector, "{")
	return unitOf(strings.TrimSpace(metric), "")
}

// format renders v in the unit; "-" when not finite.
func (u unit) format(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	s := fmtNum(v)
	if u.bytes {
		s = fmtIEC(v)
	}
	if u.rate {
		s += "/s"
	}
	return s
}

// bound renders an optional bound in the unit; "-" when absent.
func (u unit) bound(p *float64) string {
	if p == nil {
		return "-"
	}
	return u.format(*p)
}

var iecUnits = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// fmtIEC renders a byte count with binary prefixes and 3 significant
// digits: 268435456 is "256 MiB".
func fmtIEC(v float64) string {
	a, i := math.Abs(v), 0
	for a >= 1024 && i < len(iecUnits)-1 {
		a /= 1024
		i++
	}
	s := strconv.FormatFloat(a, 'g', 3, 64)
	if strings.Contains(s, "e") { // 1000..1023 of a unit
		s = strconv.FormatFloat(math.Round(a), 'f', 0, 64)
	}
	if v < 0 {
		s = "-" + s
	}
	return s + " " + iecUnits[i]
}

// commonLabels returns the labels every one of sets has with the same value;
// empty for fewer than two sets, where nothing is gained by factoring out.
func commonLabels(sets []map[string]string) map[string]string {
	common := map[string]string{}
	if len(sets) < 2 {
		return common
	}
	for k, v := range sets[0] {
		common[k] = v
	}
	for _, s := range sets[1:] {
		for k, v := range common {
			if w, ok := s[k]; !ok || w != v {
				delete(common, k)
			}
		}
	}
	delete(common, "__name__")
	return common
}

// without returns l minus the keys of common.
func without(l, common map[string]string) map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		if _, ok := common[k]; !ok {
			out[k] = v
		}
	}
	return out
}

// commonNote is the line above a table saying which labels were factored
// out of its rows; "" when none.
func commonNote(common map[string]string) string {
	if len(common) == 0 {
		return ""
	}
	return "every series has " + labelString(common) + "\n"
}

// cellLabels renders labels for a table cell; "-" when there are none left.
func cellLabels(l map[string]string) string {
	if s := labelString(l); s != "" {
		return s
	}
	return "-"
}
