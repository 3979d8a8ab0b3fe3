package slapipev1

// This file is hand-written (protoc leaves it alone, as Prometheus keeps
// custom code beside prompb): the pipeline's contract that the .proto files
// cannot say. Producers (etl), consumers (datastorage, store), readers
// (slamanager, ctl) and the command take these facts from here and nowhere
// else.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// Window is one trailing period a series is summarised and an objective
// judged over.
type Window struct {
	// Name is how messages, rows and commands spell it: "1h".
	Name string
	// Duration is its length.
	Duration time.Duration
}

// Windows are the trailing windows of SeriesAnalysis.windows and of the
// SLA manager's violations, shortest first.
var Windows = []Window{{"1h", time.Hour}, {"3h", 3 * time.Hour}, {"12h", LongestWindow}}

// LongestWindow is the last of Windows: the history a run reads by default
// and every window is cut from.
const LongestWindow = 12 * time.Hour

// ValidWindow reports whether name is the Name of one of Windows.
func ValidWindow(name string) bool {
	for _, w := range Windows {
		if w.Name == name {
			return true
		}
	}
	return false
}

// WindowNames lists the windows' names for messages and help: `"1h", "3h",
// "12h"` when quoted, `1h, 3h, 12h` when not.
func WindowNames(quoted bool) string {
	names := make([]string, len(Windows))
	for i, w := range Windows {
		names[i] = w.Name
		if quoted {
			names[i] = strconv.Quote(w.Name)
		}
	}
	return strings.Join(names, ", ")
}

// ForecastHorizon is how far past a series' range_end its forecast reaches
// and what the SLA manager's predictions cover ("the next 10 minutes").
const ForecastHorizon = 10 * time.Minute

// HorizonSteps is the number of forecast points that cover ForecastHorizon
// at step: 600 at 1 s, 120 at 5 s, 40 at 15 s. A step that does not divide
// the horizon is rounded up (7 s gives 86 points, 602 s), so the forecast
// always reaches the horizon and overshoots it by less than one step; the
// SLA manager ignores points past the horizon. A step longer than the
// horizon gives one point; a step that is not positive gives 0.
func HorizonSteps(step time.Duration) int {
	if step <= 0 {
		return 0
	}
	return int((ForecastHorizon + step - 1) / step)
}

// DefaultTopic is the Kafka topic of SeriesAnalysis messages unless a
// deployment names another. Every other topic is named after it, so one
// setting renames them all.
const DefaultTopic = "prometheusdata"

// RunsTopic is the topic of Run records beside the analyses topic base.
func RunsTopic(base string) string { return base + ".runs" }

// DeadLetterTopic is where consumers of base put the messages the store
// refuses or cannot decode.
func DeadLetterTopic(base string) string { return base + ".dlq" }

// TasksTopic is where a distributed ETL hands out the work of a run beside
// the analyses topic base.
func TasksTopic(base string) string { return base + ".tasks" }

// ProgressTopic is where distributed ETL workers report the tasks they
// finished (ETLTaskDone) to the run's coordinator, beside the analyses
// topic base. It has one partition: the coordinator reads it in order.
func ProgressTopic(base string) string { return base + ".progress" }

// maxTopicLen is Kafka's limit on a topic name.
const maxTopicLen = 249

// CheckTopic validates base as the analyses topic: a name Kafka accepts
// (ASCII letters, digits, '.', '_', '-', not "." or "..") short enough
// that every topic derived from it is one too.
func CheckTopic(base string) error {
	longest := ProgressTopic(base)
	switch {
	case base == "" || base == "." || base == "..":
		return fmt.Errorf("kafka topic %q: %w: not a topic name", base, ErrInvalidArgument)
	case len(longest) > maxTopicLen:
		return fmt.Errorf("kafka topic: %w: %d bytes, at most %d so that %q fits too",
			ErrInvalidArgument, len(base), maxTopicLen-(len(longest)-len(base)), longest[len(base):])
	}
	for _, r := range base {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("kafka topic %.80q: %w: only ASCII letters, digits, '.', '_' and '-'", base, ErrInvalidArgument)
		}
	}
	return nil
}

// Field limits: the column sizes of schema.sql, in bytes, so both of the
// store's dialects accept the same values (SQLite would keep anything), and
// a producer can refuse what the store would dead-letter.
const (
	MaxIDLen      = 64    // run_id, series_id
	MaxMetricLen  = 255   // metric, objective
	MaxTypeLen    = 32    // metric_type
	MaxShortLen   = 16    // window, transform
	MaxModelLen   = 64    // forecast.model
	MaxReasonLen  = 128   // season_check.reason
	MaxActorLen   = 255   // who saved an SLA set
	MaxErrorLen   = 65535 // Run.error
	MaxStatusLen  = 32    // Run.status
	MaxTriggerLen = 32    // Run.trigger
)

// MaxQueryPageSize bounds a page of a retrieval query (statistics,
// metadata or forecasts of a metric's series), whose series weigh up to
// 7 KB each: the server refuses larger pages and clients ask for this
// many, so 4 concurrent calls hold a few tens of MB.
const MaxQueryPageSize = 500

// Times the store can hold: MySQL DATETIME's range, applied to both
// dialects.
var (
	MinTime = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)
)

// ErrInvalidArgument is wrapped by every error of this contract's checks
// (and by the store's own refusals: store.ErrInvalidArgument is this value).
var ErrInvalidArgument = errors.New("invalid argument")

// CheckKey validates a string that is part of a key: non-empty, valid
// UTF-8 within maxLen bytes, printable, without leading or trailing spaces
// (MySQL's PAD SPACE collations would make "a" and "a " the same key).
func CheckKey(field, v string, maxLen int) error {
	if v == "" {
		return fmt.Errorf("%s: %w: empty", field, ErrInvalidArgument)
	}
	if err := CheckText(field, v, maxLen); err != nil {
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

// CheckWindow validates a window name as a key part: like CheckKey, but ""
// is accepted (rows that are not per window store it). The name is not
// required to be one of Windows: a store keeps what older runs wrote.
func CheckWindow(w string) error {
	if err := CheckText("window", w, MaxShortLen); err != nil {
		return err
	}
	if strings.TrimSpace(w) != w {
		return fmt.Errorf("window %q: %w: leading or trailing space", w, ErrInvalidArgument)
	}
	return nil
}

// CheckText validates a free string: valid UTF-8 within maxLen bytes.
func CheckText(field, v string, maxLen int) error {
	if len(v) > maxLen {
		return fmt.Errorf("%s: %w: %d bytes, at most %d", field, ErrInvalidArgument, len(v), maxLen)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s: %w: not valid UTF-8", field, ErrInvalidArgument)
	}
	return nil
}

// CheckTimestamp validates an optional timestamp: nil, or valid and within
// MinTime..MaxTime.
func CheckTimestamp(field string, ts *timestamppb.Timestamp) error {
	if ts == nil {
		return nil
	}
	if err := ts.CheckValid(); err != nil {
		return fmt.Errorf("%s: %w: %w", field, ErrInvalidArgument, err)
	}
	if t := ts.AsTime(); t.Before(MinTime) || t.After(MaxTime) {
		return fmt.Errorf("%s: %w: %s outside years 1000..9999", field, ErrInvalidArgument, t.Format(time.RFC3339))
	}
	return nil
}

// Validate reports, wrapping ErrInvalidArgument, why m breaks the contract:
// missing keys, oversized or non-UTF-8 strings, times outside MinTime..
// MaxTime, nil list elements, repeated window names. The ETL refuses such a
// message before publishing it; datastorage dead-letters it.
func (m *SeriesAnalysis) Validate() error {
	if m == nil {
		return fmt.Errorf("analysis: %w: nil message", ErrInvalidArgument)
	}
	if err := CheckKey("run_id", m.RunId, MaxIDLen); err != nil {
		return err
	}
	if err := CheckKey("series_id", m.SeriesId, MaxIDLen); err != nil {
		return err
	}
	if err := CheckKey("metric", m.Metric, MaxMetricLen); err != nil {
		return err
	}
	if err := CheckText("metric_type", m.MetricType, MaxTypeLen); err != nil {
		return err
	}
	if err := CheckText("transform", m.Transform, MaxShortLen); err != nil {
		return err
	}
	for k, v := range m.Labels {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("label %q: %w: not valid UTF-8", k, ErrInvalidArgument)
		}
	}
	for _, t := range []struct {
		field string
		ts    *timestamppb.Timestamp
	}{{"computed_at", m.ComputedAt}, {"range_start", m.RangeStart}, {"range_end", m.RangeEnd}} {
		if err := CheckTimestamp(t.field, t.ts); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, w := range m.Windows {
		if w == nil {
			return fmt.Errorf("windows[%d]: %w: nil", i, ErrInvalidArgument)
		}
		if err := CheckWindow(w.Window); err != nil {
			return fmt.Errorf("windows[%d]: %w", i, err)
		}
		if seen[w.Window] {
			return fmt.Errorf("windows[%d]: %w: window %q repeated", i, ErrInvalidArgument, w.Window)
		}
		seen[w.Window] = true
	}
	if c := m.SeasonCheck; c != nil {
		if err := CheckText("season_check.reason", c.Reason, MaxReasonLen); err != nil {
			return err
		}
	}
	f := m.Forecast
	if f == nil {
		return nil
	}
	if err := CheckText("forecast.model", f.Model, MaxModelLen); err != nil {
		return err
	}
	if err := CheckText("forecast.interval", f.Interval, MaxShortLen); err != nil {
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
		if err := CheckTimestamp("time", p.Time); err != nil {
			return fmt.Errorf("forecast.points[%d]: %w", i, err)
		}
	}
	return nil
}

// Validate reports, wrapping ErrInvalidArgument, why r breaks the contract.
func (r *Run) Validate() error {
	if r == nil {
		return fmt.Errorf("run: %w: nil message", ErrInvalidArgument)
	}
	if err := CheckKey("run_id", r.RunId, MaxIDLen); err != nil {
		return err
	}
	for _, c := range []struct {
		field, v string
		max      int
	}{{"status", r.Status, MaxStatusLen}, {"trigger", r.Trigger, MaxTriggerLen}, {"error", r.Error, MaxErrorLen}} {
		if err := CheckText(c.field, c.v, c.max); err != nil {
			return err
		}
	}
	if err := CheckTimestamp("started_at", r.StartedAt); err != nil {
		return err
	}
	return CheckTimestamp("finished_at", r.FinishedAt)
}
