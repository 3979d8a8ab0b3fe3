package analysis

import (
	"encoding/json"
	"fmt"
)

// maxJSONDepth is encoding/json's nesting limit, kept so that both accept the
// same documents.
const maxJSONDepth = 10000

// jsonScanner is a strict single-pass reader of the `slapipe analyze` input
// document (RFC 8259 grammar). encoding/json needs three passes and a
// reflective call per element for a values array with nulls, which made
// decoding an 8640-sample series cost more than analysing it; this reads the
// same documents (the fuzz test FuzzDecodeInput checks it against
// encoding/json) in one pass without per-element allocation.
type jsonScanner struct {
	b       []byte
	i       int
	typeErr error // first value of the wrong kind, reported after the scan
}

// syntaxError is a one-line description of the first violation.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("not valid JSON at offset %d: %s", e.offset, e.msg)
}

func (s *jsonScanner) fail(format string, args ...any) error {
	return &syntaxError{offset: s.i, msg: fmt.Sprintf(format, args...)}
}

// describe names the next input byte for error messages.
func (s *jsonScanner) describe() string {
	if s.i >= len(s.b) {
		return "unexpected end of input"
	}
	return fmt.Sprintf("unexpected %q", s.b[s.i])
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	s.space()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *jsonScanner) expect(c byte) error {
	if s.peek() != c {
		return s.fail("%s, want %q", s.describe(), c)
	}
	s.i++
	return nil
}

// literal consumes the keyword word (true, false, null).
func (s *jsonScanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail("%s, want %s", s.describe(), word)
	}
	s.i += len(word)
	return nil
}

// number consumes a JSON number token and returns it; integer reports
// whether it has neither fraction nor exponent.
func (s *jsonScanner) number() (tok []byte, integer bool, err error) {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
		if s.i < len(s.b) && s.b[s.i] == 'I' {
			return nil, false, s.fail("NaN and Infinity are not JSON numbers (null marks a gap)")
		}
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case digits() == 0:
		return nil, false, s.fail("%s in number", s.describe())
	}
	integer = true
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		integer = false
		if digits() == 0 {
			return nil, false, s.fail("%s in number fraction", s.describe())
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		integer = false
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return nil, false, s.fail("%s in number exponent", s.describe())
		}
	}
	return s.b[start:s.i], integer, nil
}

// str consumes a string and returns its raw bytes between the quotes and
// whether it contains escapes.
func (s *jsonScanner) str() (raw []byte, escaped bool, err error) {
	if err := s.expect('"'); err != nil {
		return nil, false, err
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], escaped, nil
		case c == '\\':
			escaped = true
			s.i++
			if s.i >= len(s.b) {
				return nil, false, s.fail("unexpected end of input in string escape")
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for k := 0; k < 4; k++ {
					if s.i >= len(s.b) || !isHex(s.b[s.i]) {
						return nil, false, s.fail("%s in \\u escape", s.describe())
					}
					s.i++
				}
			default:
				return nil, false, s.fail("invalid escape %q in string", s.b[s.i])
			}
		case c < 0x20:
			return nil, false, s.fail("control character %q in string", c)
		default:
			s.i++
		}
	}
	return nil, false, s.fail("unexpected end of input in string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// key consumes an object key and returns it unescaped.
func (s *jsonScanner) key() (string, error) {
	start := s.i
	raw, escaped, err := s.str()
	if err != nil {
		return "", err
	}
	if !escaped {
		return string(raw), nil
	}
	var k string
	if err := json.Unmarshal(s.b[start:s.i], &k); err != nil {
		return "", &syntaxError{offset: start, msg: err.Error()}
	}
	return k, nil
}

// skip consumes any JSON value; depth is the nesting level the value has
// if it is an object or array (the top-level document is level 1).
func (s *jsonScanner) skip(depth int) error {
	c := s.peek()
	if (c == '{' || c == '[') && depth > maxJSONDepth {
		return s.fail("exceeded max depth")
	}
	switch c {
	case '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return nil
		}
		for {
			s.space()
			if _, _, err := s.str(); err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if done, err := s.next('}'); done || err != nil {
				return err
			}
		}
	case '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if done, err := s.next(']'); done || err != nil {
				return err
			}
		}
	case '"':
		_, _, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case 'N', 'I':
		return s.fail("NaN and Infinity are not JSON numbers (null marks a gap)")
	default:
		if !startsNumber(c) {
			return s.fail("%s, want a JSON value", s.describe())
		}
		_, _, err := s.number()
		return err
	}
}

// next consumes the separator after a member or element: true when it was
// the closing byte.
func (s *jsonScanner) next(closing byte) (bool, error) {
	switch s.peek() {
	case ',':
		s.i++
		return false, nil
	case closing:
		s.i++
		return true, nil
	default:
		return false, s.fail("%s, want ',' or %q", s.describe(), closing)
	}
}

// isNull consumes a null if one comes next.
func (s *jsonScanner) isNull() (bool, error) {
	if s.peek() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}
