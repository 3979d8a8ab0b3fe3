package analysis

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
)

// inputJSON is the wire form of Input read by `slapipe analyze`; nil
// pointers are absent or null fields, and NaN in Values is a null (gap).
type inputJSON struct {
	StepSeconds *float64
	Values      []float64
	Period      *int
	Horizon     *int
}

// MaxInputBytes bounds the document DecodeInput reads (about ten million
// samples), so that a runaway pipe fails cleanly instead of exhausting memory.
const MaxInputBytes = 256 << 20

// DecodeInput reads one JSON object from r,
//
//	{"step_seconds": 5, "values": [1.5, null, 2.0], "period": 720, "horizon": 120}
//
// where null in values is a gap, an absent or null period means "detect the
// season" (Period 0) and an absent or null horizon means DefaultHorizon. It
// rejects, with a one-line error wrapping ErrInvalidInput: anything that is
// not exactly one JSON object (trailing data included), a missing or
// non-positive step_seconds, missing or empty values, values that are all
// null, numbers that are not finite float64s (JSON has no NaN or Infinity),
// and period or horizon values that Input.Validate refuses (a present
// period below 2 or horizon below 1 included). Unknown fields are
// ignored so that richer documents (a case file's "input") can be piped in.
func DecodeInput(r io.Reader) (Input, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return Input{}, fmt.Errorf("reading input: %w", err)
	}
	if len(b) > MaxInputBytes {
		return Input{}, invalid("input is larger than %d MiB", MaxInputBytes>>20)
	}
	sc := jsonScanner{b: b}
	raw, err := sc.document()
	if err == nil {
		err = sc.typeErr
	}
	if err != nil {
		if len(bytes.TrimSpace(b)) == 0 {
			return Input{}, invalid("empty input: want a JSON object")
		}
		return Input{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	if raw.StepSeconds == nil {
		return Input{}, invalid("step_seconds is missing")
	}
	in := Input{StepSeconds: *raw.StepSeconds, Values: raw.Values}
	if raw.Period != nil {
		if *raw.Period < 2 {
			return Input{}, invalid("period must be at least 2 (got %d); omit it or use null to detect the season", *raw.Period)
		}
		in.Period = *raw.Period
	}
	if raw.Horizon != nil {
		if *raw.Horizon < 1 {
			return Input{}, invalid("horizon must be between 1 and %d (got %d)", MaxHorizon, *raw.Horizon)
		}
		in.Horizon = *raw.Horizon
	}
	if err := in.Validate(); err != nil {
		return Input{}, err
	}
	return in, nil
}

// fieldError reports a value of the wrong kind for a known field.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string {
	if e.field == "" {
		return e.msg
	}
	return fmt.Sprintf("field %q: %s", e.field, e.msg)
}

// mistyped records the first wrong-kind value; like encoding/json, the scan
// goes on so that a syntax error anywhere in the document wins.
func (s *jsonScanner) mistyped(field, format string, args ...any) {
	if s.typeErr == nil {
		s.typeErr = &fieldError{field, fmt.Sprintf(format, args...)}
	}
}

// startsNumber reports whether c can begin a JSON number.
func startsNumber(c byte) bool { return c == '-' || c >= '0' && c <= '9' }

// float reads a number field; nil for null or a mistyped value.
func (s *jsonScanner) float(field string) (*float64, error) {
	if null, err := s.isNull(); null || err != nil {
		return nil, err
	}
	if !startsNumber(s.peek()) {
		s.mistyped(field, "want a number")
		return nil, s.skip(2)
	}
	tok, _, err := s.number()
	if err != nil {
		return nil, err
	}
	v, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		s.mistyped(field, "number %.40s is out of range", tok)
		return nil, nil
	}
	return &v, nil
}

// integer reads an integer field; nil for null or a mistyped value.
func (s *jsonScanner) integer(field string) (*int, error) {
	if null, err := s.isNull(); null || err != nil {
		return nil, err
	}
	if !startsNumber(s.peek()) {
		s.mistyped(field, "want an integer")
		return nil, s.skip(2)
	}
	tok, integer, err := s.number()
	if err != nil {
		return nil, err
	}
	v, perr := strconv.Atoi(string(tok))
	if !integer || perr != nil {
		s.mistyped(field, "want an integer, got %.40s", tok)
		return nil, nil
	}
	return &v, nil
}

// samples reads the values array into dst; null elements become NaN, and a
// null array reads as absent (nil).
func (s *jsonScanner) samples(dst []float64) ([]float64, error) {
	if null, err := s.isNull(); null || err != nil {
		return nil, err
	}
	if s.peek() != '[' {
		s.mistyped("values", "want an array of numbers and nulls")
		return nil, s.skip(2)
	}
	s.i++
	dst = dst[:0]
	if dst == nil {
		dst = []float64{} // present but empty, unlike null
	}
	if s.peek() == ']' {
		s.i++
		return dst, nil
	}
	for {
		switch c := s.peek(); {
		case c == 'n':
			if err := s.literal("null"); err != nil {
				return nil, err
			}
			dst = append(dst, math.NaN())
		case startsNumber(c):
			tok, _, err := s.number()
			if err != nil {
				return nil, err
			}
			v, err := strconv.ParseFloat(string(tok), 64)
			if err != nil {
				s.mistyped("values", "element %d: number %.40s is out of range", len(dst), tok)
			}
			dst = append(dst, v)
		default:
			s.mistyped("values", "element %d: want a number or null", len(dst))
			if err := s.skip(3); err != nil {
				return nil, err
			}
			dst = append(dst, math.NaN())
		}
		if done, err := s.next(']'); done || err != nil {
			return dst, err
		}
	}
}

// document reads the whole input object.
func (s *jsonScanner) document() (inputJSON, error) {
	var doc inputJSON
	c := s.peek()
	if c != '{' {
		if c == '[' || c == '"' || c == 't' || c == 'f' || startsNumber(c) {
			if err := s.skip(1); err != nil {
				return doc, err
			}
			s.mistyped("", "want a JSON object")
		} else if c == 'n' {
			// A top-level null decodes to nothing, as in encoding/json.
			if err := s.literal("null"); err != nil {
				return doc, err
			}
		} else {
			return doc, s.fail("%s, want a JSON object", s.describe())
		}
	} else {
		s.i++
		if s.peek() == '}' {
			s.i++
		} else if err := s.members(&doc); err != nil {
			return doc, err
		}
	}
	if s.space(); s.i < len(s.b) {
		return doc, s.fail("unexpected data after the JSON object")
	}
	return doc, nil
}

// members reads the members of the top-level object after its '{'.
func (s *jsonScanner) members(doc *inputJSON) error {
	for {
		s.space()
		k, err := s.key()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		switch k {
		case "step_seconds":
			doc.StepSeconds, err = s.float(k)
		case "values":
			doc.Values, err = s.samples(doc.Values)
		case "period":
			doc.Period, err = s.integer(k)
		case "horizon":
			doc.Horizon, err = s.integer(k)
		default:
			err = s.skip(2)
		}
		if err != nil {
			return err
		}
		if done, err := s.next('}'); done || err != nil {
			return err
		}
	}
}
