package ctl

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// suffixes are the unit multipliers ParseBound accepts, longest first so
// "Mi" is tried before "M".
var suffixes = []struct {
	s string
	m float64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
	{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
}

// ParseBound parses an SLA bound: a number ("268435456", "1e8") optionally
// followed by an SI (k, M, G, T) or binary (Ki, Mi, Gi, Ti) suffix, so
// "256Mi" is 268435456. An empty string means no bound (nil).
func ParseBound(s string) (*float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	mult, body := 1.0, s
	for _, sf := range suffixes {
		if strings.HasSuffix(s, sf.s) {
			mult, body = sf.m, strings.TrimSpace(strings.TrimSuffix(s, sf.s))
			break
		}
	}
	v, err := strconv.ParseFloat(body, 64)
	if errors.Is(err, strconv.ErrRange) {
		err = nil // ±Inf: refused below as out of range, not as garbage
	}
	if err != nil || math.IsNaN(v) || (math.IsInf(v, 0) && !strings.ContainsAny(body, "0123456789")) {
		return nil, fmt.Errorf("%q is not a number (examples: 100e6, 256Mi, 1G)", s)
	}
	v *= mult
	if err := slapipev1.CheckBound(v); err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	return &v, nil
}
