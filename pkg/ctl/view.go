package ctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// num is a float64 whose JSON form is null when it is not finite, since JSON
// has no NaN (a series without samples has no minimum).
type num float64

// MarshalJSON implements json.Marshaler.
func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// numPtr converts an optional bound; nil stays null.
func numPtr(p *float64) *num {
	if p == nil {
		return nil
	}
	n := num(*p)
	return &n
}

// nums converts a slice; nil stays null.
func nums(xs []float64) []num {
	if xs == nil {
		return nil
	}
	out := make([]num, len(xs))
	for i, x := range xs {
		out[i] = num(x)
	}
	return out
}

// timeJSON renders a timestamp as RFC 3339 (UTC), or null when absent.
func timeJSON(ts *timestamppb.Timestamp) *string {
	if ts == nil {
		return nil
	}
	s := ts.AsTime().UTC().Format(time.RFC3339Nano)
	return &s
}

// labelsJSON copies labels without __name__; never nil, so JSON shows {}.
func labelsJSON(l map[string]string) map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		if k != "__name__" {
			out[k] = v
		}
	}
	return out
}

// labelString renders labels as {a="x", b="y"} in key order; "" when empty.
func labelString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(l[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// fmtNum renders a number compactly for tables: SI prefixes above 10^4,
// up to 4 significant digits, "-" when not finite.
func fmtNum(f float64) string {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "-"
	case f == 0:
		return "0"
	case math.Abs(f) >= 1e4:
		return strings.ReplaceAll(humanize.SIWithDigits(f, 2, ""), " ", "")
	default:
		return strconv.FormatFloat(f, 'g', 4, 64)
	}
}

// fmtPercent renders a fraction as a percentage.
func fmtPercent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	return strconv.FormatFloat(100*f, 'f', 2, 64) + "%"
}

// fmtTime renders a timestamp for tables in local time; "-" when absent.
func fmtTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().Local().Format("2006-01-02 15:04:05")
}

// fmtSeconds renders a duration given in seconds.
func fmtSeconds(s float64) string {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return "-"
	}
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}

// writeJSON encodes v indented, followed by a newline.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encoding the result as JSON: %w", err)
	}
	_, err := w.Write(escapeJSON(buf.Bytes()))
	return err
}

// runJSON is a run as `etl run` and `runs` print it.
type runJSON struct {
	RunID          string  `json:"run_id"`
	Status         string  `json:"status"`
	Series         int64   `json:"series"`
	Seconds        num     `json:"seconds"`
	Trigger        string  `json:"trigger"`
	StartedAt      *string `json:"started_at"`
	FinishedAt     *string `json:"finished_at"`
	PullSeconds    num     `json:"pull_seconds"`
	AnalyseSeconds num     `json:"analyse_seconds"`
	PublishSeconds num     `json:"publish_seconds"`
	Error          string  `json:"error,omitempty"`
}

func toRunJSON(r *slapipev1.Run) *runJSON {
	if r == nil {
		return nil
	}
	return &runJSON{
		RunID: r.GetRunId(), Status: r.GetStatus(), Series: r.GetSeries(), Seconds: num(r.GetTotalSeconds()),
		Trigger: r.GetTrigger(), StartedAt: timeJSON(r.GetStartedAt()), FinishedAt: timeJSON(r.GetFinishedAt()),
		PullSeconds: num(r.GetPullSeconds()), AnalyseSeconds: num(r.GetAnalyseSeconds()),
		PublishSeconds: num(r.GetPublishSeconds()), Error: r.GetError(),
	}
}
