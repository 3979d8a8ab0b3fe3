package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// sqliteTime is how SQLite keeps times: UTC text that sorts as it should.
const sqliteTime = "2006-01-02 15:04:05.000"

// timeArg is the SQL argument for t: UTC, truncated to the millisecond.
func timeArg(dialect string, t time.Time) any {
	t = t.UTC().Truncate(time.Millisecond)
	if dialect == DialectSQLite {
		return t.Format(sqliteTime)
	}
	return t
}

// tsArg is timeArg for an optional protobuf timestamp (nil -> NULL).
func tsArg(dialect string, ts *timestamppb.Timestamp) any {
	if ts == nil {
		return nil
	}
	return timeArg(dialect, ts.AsTime())
}

// nullTime scans a time column of either dialect (time.Time from MySQL, text
// from SQLite, NULL from both).
type nullTime struct {
	T     time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (n *nullTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		n.Valid = false
		return nil
	case time.Time:
		n.T, n.Valid = x.UTC(), true
		return nil
	case string:
		return n.parse(x)
	case []byte:
		return n.parse(string(x))
	}
	return fmt.Errorf("scanning time: unexpected %T", v)
}

func (n *nullTime) parse(s string) error {
	for _, layout := range []string{sqliteTime, "2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			n.T, n.Valid = t.UTC(), true
			return nil
		}
	}
	return fmt.Errorf("scanning time: cannot parse %q", s)
}

// TS converts to an optional protobuf timestamp.
func (n nullTime) TS() *timestamppb.Timestamp {
	if !n.Valid {
		return nil
	}
	return timestamppb.New(n.T)
}

// Non-finite doubles fit neither MySQL's DOUBLE nor JSON. NaN becomes NULL
// and the infinities the largest finite doubles, which read back as the
// infinities; a true ±MaxFloat64 therefore reads back as ±Inf. Negative
// zero is stored as zero (neither database keeps its sign).
func floatArg(v float64) any {
	switch {
	case v == 0:
		return 0.0
	case math.IsNaN(v):
		return nil
	case math.IsInf(v, 1):
		return math.MaxFloat64
	case math.IsInf(v, -1):
		return -math.MaxFloat64
	}
	return v
}

// nullFloat scans a DOUBLE written by floatArg.
type nullFloat float64

// Scan implements sql.Scanner.
func (f *nullFloat) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*f = nullFloat(math.NaN())
		return nil
	case float64:
		*f = nullFloat(fromStored(x))
		return nil
	case int64:
		*f = nullFloat(x)
		return nil
	case []byte:
		return f.parse(string(x))
	case string:
		return f.parse(x)
	}
	return fmt.Errorf("scanning double: unexpected %T", v)
}

func (f *nullFloat) parse(s string) error {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("scanning double: %w", err)
	}
	*f = nullFloat(fromStored(x))
	return nil
}

func fromStored(x float64) float64 {
	switch x {
	case math.MaxFloat64:
		return math.Inf(1)
	case -math.MaxFloat64:
		return math.Inf(-1)
	}
	return x
}

// appendJSONFloat appends v as a JSON number, NaN as null (see floatArg).
func appendJSONFloat(b []byte, v float64) []byte {
	switch {
	case v == 0:
		return append(b, '0')
	case math.IsNaN(v):
		return append(b, "null"...)
	case math.IsInf(v, 1):
		v = math.MaxFloat64
	case math.IsInf(v, -1):
		v = -math.MaxFloat64
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// floatsJSON encodes vs as a JSON array; it round-trips exactly through
// parseFloatsJSON (shortest representation).
func floatsJSON(vs []float64) string {
	b := make([]byte, 0, 2+len(vs)*20)
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONFloat(b, v)
	}
	return string(append(b, ']'))
}

// parseFloatsJSON decodes floatsJSON's arrays (and any JSON array of numbers
// and nulls) without reflection.
func parseFloatsJSON(s []byte) ([]float64, error) {
	s = bytes.TrimSpace(s)
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, fmt.Errorf("decoding number array: not a JSON array: %.40q", s)
	}
	if bytes.IndexByte(s[1:len(s)-1], '[') >= 0 {
		return nil, fmt.Errorf("decoding number array: nested array: %.40q", s)
	}
	return appendNumbers(nil, s[1:len(s)-1])
}

// appendNumbers parses the numbers and nulls of s, separated by commas,
// brackets or spaces, appending them to out (null as NaN).
func appendNumbers(out []float64, s []byte) ([]float64, error) {
	isSep := func(c byte) bool {
		return c == ',' || c == '[' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r'
	}
	for i := 0; i < len(s); {
		if isSep(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && !isSep(s[j]) {
			j++
		}
		tok := s[i:j]
		i = j
		if string(tok) == "null" {
			out = append(out, math.NaN())
			continue
		}
		v, err := strconv.ParseFloat(string(tok), 64)
		if err != nil {
			return nil, fmt.Errorf("decoding number array: %w", err)
		}
		out = append(out, fromStored(v))
	}
	return out, nil
}

// pointsJSON encodes forecast points as [[time_ms, mean, lower, upper], ...]
// with time_ms the Unix time in milliseconds (null when absent).
func pointsJSON(pts []*slapipev1.ForecastPoint) string {
	b := make([]byte, 0, 2+len(pts)*96)
	b = append(b, '[')
	for i, p := range pts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		if p.Time == nil {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendInt(b, p.Time.AsTime().UnixMilli(), 10)
		}
		b = append(b, ',')
		b = appendJSONFloat(b, p.Mean)
		b = append(b, ',')
		b = appendJSONFloat(b, p.Lower)
		b = append(b, ',')
		b = appendJSONFloat(b, p.Upper)
		b = append(b, ']')
	}
	return string(append(b, ']'))
}

// parsePointsJSON decodes pointsJSON's arrays.
func parsePointsJSON(s []byte) ([]*slapipev1.ForecastPoint, error) {
	s = bytes.TrimSpace(s)
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, fmt.Errorf("decoding points: not a JSON array: %.40q", s)
	}
	n := bytes.Count(s, []byte{'['}) - 1
	nums, err := appendNumbers(make([]float64, 0, 4*n), s[1:len(s)-1])
	if err != nil {
		return nil, fmt.Errorf("decoding points: %w", err)
	}
	if len(nums) != 4*n {
		return nil, fmt.Errorf("decoding points: %d numbers for %d points, want 4 each", len(nums), n)
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]*slapipev1.ForecastPoint, n)
	for i := range out {
		v := nums[4*i : 4*i+4]
		p := &slapipev1.ForecastPoint{Mean: v[1], Lower: v[2], Upper: v[3]}
		if !math.IsNaN(v[0]) {
			p.Time = timestamppb.New(time.UnixMilli(int64(v[0])).UTC())
		}
		out[i] = p
	}
	return out, nil
}

// floatsBin encodes vs as little-endian IEEE-754 doubles: exact, NaN and
// infinities included.
func floatsBin(vs []float64) []byte {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return b
}

// parseFloatsBin decodes floatsBin's bytes; empty is nil.
func parseFloatsBin(b []byte) ([]float64, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("decoding doubles: %d bytes is not a multiple of 8", len(b))
	}
	if len(b) == 0 {
		return nil, nil
	}
	out := make([]float64, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out, nil
}

// paramsJSON encodes a map of doubles as a JSON object with sorted keys.
func paramsJSON(m map[string]float64) (string, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return "", fmt.Errorf("encoding param name: %w", err)
		}
		b = append(b, kb...)
		b = append(b, ':')
		b = appendJSONFloat(b, m[k])
	}
	return string(append(b, '}')), nil
}

// parseParamsJSON decodes paramsJSON's objects; an empty object is nil.
func parseParamsJSON(s []byte) (map[string]float64, error) {
	var raw map[string]*float64
	if err := json.Unmarshal(s, &raw); err != nil {
		return nil, fmt.Errorf("decoding params: %w", err)
	}
	if len(raw) == 0 {
		return nil, nil
	}
	out := make(map[string]float64, len(raw))
	for k, v := range raw {
		if v == nil {
			out[k] = math.NaN()
		} else {
			out[k] = fromStored(*v)
		}
	}
	return out, nil
}

// labelsJSON encodes labels as a JSON object with sorted keys, without HTML
// escaping so Grafana shows them as written.
func labelsJSON(m map[string]string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return "", fmt.Errorf("encoding labels: %w", err)
	}
	return string(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

// parseLabelsJSON decodes labelsJSON's objects; an empty object is nil.
func parseLabelsJSON(s []byte) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal(s, &m); err != nil {
		return nil, fmt.Errorf("decoding labels: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}
