package store

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Column sizes of schema.sql, checked in bytes so both dialects accept the
// same values (SQLite would store anything).
const (
	maxIDLen      = 64
	maxMetricLen  = 255
	maxTypeLen    = 32
	maxShortLen   = 16
	maxModelLen   = 64
	maxActorLen   = 255
	maxErrorLen   = 65535
	maxStatusLen  = 32
	maxTriggerLen = 32
)

// checkKey validates a string that is part of a key: non-empty, valid
// UTF-8, printable, without leading or trailing spaces (MySQL's PAD SPACE
// collations would make "a" and "a " the same key).
func checkKey(field, v string, maxLen int) error {
	if v == "" {
		return fmt.Errorf("%s: %w: empty", field, ErrInvalidArgument)
	}
	if err := checkText(field, v, maxLen); err != nil {
		return err
	}
	if strings.TrimSpace(v) != v {
		return fmt.Errorf("%s %q: %w: leading or trailing space", field, v, ErrInvalidArgument)
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%s %q: %w: non-printable character %U", field, v, ErrInvalidArgument, r)
		}
	}
	return nil
}

// checkWindow validates a window name ("1h", "12h"): it is part of the keys
// of window, violation and prediction rows, so a leading or trailing space
// would alias another name under MySQL's PAD SPACE collations. Unlike
// checkKey it accepts "", which callers already store.
func checkWindow(w string) error {
	if err := checkText("window", w, maxShortLen); err != nil {
		return err
	}
	if strings.TrimSpace(w) != w {
		return fmt.Errorf("window %q: %w: leading or trailing space", w, ErrInvalidArgument)
	}
	return nil
}

// checkText validates a free string: valid UTF-8 within maxLen bytes.
func checkText(field, v string, maxLen int) error {
	if len(v) > maxLen {
		return fmt.Errorf("%s: %w: %d bytes, at most %d", field, ErrInvalidArgument, len(v), maxLen)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s: %w: not valid UTF-8", field, ErrInvalidArgument)
	}
	return nil
}

// ValidateAnalysis reports, wrapping ErrInvalidArgument, why the store
// cannot keep m: missing keys, oversized or non-UTF-8 strings, times outside
// years 1000-9999, nil list elements, repeated window names. A consumer can
// call it per message to dead-letter bad ones before WriteAnalyses.
func ValidateAnalysis(m *slapipev1.SeriesAnalysis) error {
	if m == nil {
		return fmt.Errorf("analysis: %w: nil message", ErrInvalidArgument)
	}
	if err := checkKey("run_id", m.RunId, maxIDLen); err != nil {
		return err
	}
	if err := checkKey("series_id", m.SeriesId, maxIDLen); err != nil {
		return err
	}
	if err := checkKey("metric", m.Metric, maxMetricLen); err != nil {
		return err
	}
	for _, c := range []struct {
		field, v string
		max      int
	}{{"metric_type", m.MetricType, maxTypeLen}, {"transform", m.Transform, maxShortLen}} {
		if err := checkText(c.field, c.v, c.max); err != nil {
			return err
		}
	}
	for k, v := range m.Labels {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("label %q: %w: not valid UTF-8", k, ErrInvalidArgument)
		}
	}
	if err := checkTS("computed_at", m.ComputedAt); err != nil {
		return err
	}
	if err := checkTS("range_start", m.RangeStart); err != nil {
		return err
	}
	if err := checkTS("range_end", m.RangeEnd); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, w := range m.Windows {
		if w == nil {
			return fmt.Errorf("windows[%d]: %w: nil", i, ErrInvalidArgument)
		}
		if err := checkWindow(w.Window); err != nil {
			return fmt.Errorf("windows[%d]: %w", i, err)
		}
		if seen[w.Window] {
			return fmt.Errorf("windows[%d]: %w: window %q repeated", i, ErrInvalidArgument, w.Window)
		}
		seen[w.Window] = true
	}
	if f := m.Forecast; f != nil {
		if err := checkText("forecast.model", f.Model, maxModelLen); err != nil {
			return err
		}
		for k := range f.Params {
			if !utf8.ValidString(k) {
				return fmt.Errorf("forecast.params: %w: name not valid UTF-8", ErrInvalidArgument)
			}
		}
		for i, p := range f.Points {
			if p == nil {
				return fmt.Errorf("forecast.points[%d]: %w: nil", i, ErrInvalidArgument)
			}
			if err := checkTS("time", p.Time); err != nil {
				return fmt.Errorf("forecast.points[%d]: %w", i, err)
			}
		}
	}
	return nil
}

// ValidateRun reports, wrapping ErrInvalidArgument, why the store cannot
// keep run.
func ValidateRun(run *slapipev1.Run) error {
	if run == nil {
		return fmt.Errorf("run: %w: nil message", ErrInvalidArgument)
	}
	if err := checkKey("run_id", run.RunId, maxIDLen); err != nil {
		return err
	}
	for _, c := range []struct {
		field, v string
		max      int
	}{{"status", run.Status, maxStatusLen}, {"trigger", run.Trigger, maxTriggerLen}, {"error", run.Error, maxErrorLen}} {
		if err := checkText(c.field, c.v, c.max); err != nil {
			return err
		}
	}
	if err := checkTS("started_at", run.StartedAt); err != nil {
		return err
	}
	return checkTS("finished_at", run.FinishedAt)
}
