package promsource

import (
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
}

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
// out; others go through strconv.Unquote, whose escapes are a superset of
// JSON's once \/ is taken care of.
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
			return d.unescape(d.b[start : d.i-1])
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

func (d *decoder) unescape(s []byte) (string, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n, ok := hex4(s[i+1:])
			if !ok {
				return "", d.errorf("bad \\u escape")
			}
			i += n
			if utf16IsSurrogate(r) {
				// A surrogate pair is two escapes; a lone half is U+FFFD.
				if r2, n2, ok := hex4After(s[i+1:]); ok && r >= 0xd800 && r < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000 {
					r = (r-0xd800)<<10 + (r2 - 0xdc00) + 0x10000
					i += n2
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", d.errorf("bad escape \\%c", s[i])
		}
	}
	if !utf8.Valid(out) {
		return string([]rune(string(out))), nil
	}
	return string(out), nil
}

func utf16IsSurrogate(r rune) bool { return r >= 0xd800 && r < 0xe000 }

// hex4 reads the 4 hex digits after \u; n is how many bytes it consumed.
func hex4(s []byte) (r rune, n int, ok bool) {
	if len(s) < 4 {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(string(s[:4]), 16, 32)
	if err != nil {
		return 0, 0, false
	}
	return rune(v), 4, true
}

// hex4After reads a following \uXXXX escape.
func hex4After(s []byte) (r rune, n int, ok bool) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return 0, 0, false
	}
	r, _, ok = hex4(s[2:])
	return r, 6, ok
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
