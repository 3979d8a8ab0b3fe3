package promsource

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// decoder is a minimal JSON reader over a byte slice: just what
// decodeMatrix needs, with callbacks for objects and arrays so nothing is
// built that the caller does not keep.
type decoder struct {
	b []byte
	i int
	// hint is the expected number of samples per series.
	hint int
	// depth is the nesting of the value skip is in.
	depth int
}

// maxDepth is encoding/json's nesting limit: a reply nested deeper is an
// error, not a recursion that exhausts the stack.
const maxDepth = 10000

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, d.i, fmt.Sprintf(format, args...))
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *decoder) expect(c byte) error {
	if d.peek() != c {
		return d.errorf("want %q", c)
	}
	d.i++
	return nil
}

// object calls field for each key, with the decoder on the value, which
// field must consume.
func (d *decoder) object(field func(key string) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.errorf("want , or }")
		}
	}
}

// array calls elem for each element, which elem must consume.
func (d *decoder) array(elem func() error) error {
	if err := d.expect('['); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return d.errorf("want , or ]")
		}
	}
}

// str reads a JSON string. Strings without escapes (nearly all) are sliced
// out; escaped ones are rare enough that encoding/json unquotes them, so
// escapes, surrogate pairs and invalid UTF-8 decode exactly as it does.
func (d *decoder) str() (string, error) {
	if err := d.expect('"'); err != nil {
		return "", err
	}
	start, escaped := d.i, false
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if !escaped {
				s := d.b[start : d.i-1]
				if !utf8.Valid(s) {
					return string([]rune(string(s))), nil // as encoding/json: invalid bytes become U+FFFD
				}
				return string(s), nil
			}
			var s string
			if err := json.Unmarshal(d.b[start-1:d.i], &s); err != nil {
				return "", fmt.Errorf("%w at offset %d: %w", errSyntax, start-1, err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			d.i += 2
		case c < 0x20:
			return "", d.errorf("control character in string")
		default:
			d.i++
		}
	}
	return "", d.errorf("unterminated string")
}

// plainString returns the bytes of a string without escapes (a sample
// value: digits, sign, dot, exponent, NaN, Inf), without allocating.
func (d *decoder) plainString() ([]byte, error) {
	if err := d.expect('"'); err != nil {
		return nil, err
	}
	start := d.i
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], nil
		case c == '\\' || c < 0x20:
			return nil, d.errorf("unexpected character in sample value")
		}
		d.i++
	}
	return nil, d.errorf("unterminated string")
}

func (d *decoder) stringInto(dst *string) error {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	s, err := d.str()
	*dst = s
	return err
}

func (d *decoder) literal(lit string) error {
	d.ws()
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return d.errorf("want %s", lit)
	}
	d.i += len(lit)
	return nil
}

// number returns the bytes of a JSON number.
func (d *decoder) number() ([]byte, error) {
	d.ws()
	start := d.i
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			d.i++
			continue
		}
		break
	}
	if d.i == start {
		return nil, d.errorf("want a number")
	}
	return d.b[start:d.i], nil
}

// skip consumes any JSON value.
func (d *decoder) skip() error {
	switch d.peek() {
	case '{', '[':
		if d.depth >= maxDepth {
			return d.errorf("nested deeper than %d", maxDepth)
		}
		d.depth++
		defer func() { d.depth-- }()
	}
	switch d.peek() {
	case '{':
		return d.object(func(string) error { return d.skip() })
	case '[':
		return d.array(d.skip)
	case '"':
		_, err := d.str()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	b, err := d.number()
	if err == nil {
		_, err = strconv.ParseFloat(string(b), 64)
		if err != nil {
			err = d.errorf("bad number %q", b)
		}
	}
	return err
}
