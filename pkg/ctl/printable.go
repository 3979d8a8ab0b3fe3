package ctl

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// hidden is the contract's test of a rune no terminal sees as it is: the
// same one the servers refuse in names, so that escaping what ctl prints
// never changes a name it sends back.
var hidden = slapipev1.Invisible

// Printable returns s with every hidden rune and every invalid UTF-8 byte
// written as an escape (\x1b, \u200b, \xff), so what a server or a file
// holds is shown, never executed by the terminal. Newlines and tabs are
// escaped too: a value is one cell or one line.
func Printable(s string) string {
	if strings.IndexFunc(s, hidden) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case hidden(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// printableMessage applies Printable to every string of m, map keys
// included, in place.
func printableMessage(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			mp := v.Map()
			type entry struct{ k, v protoreflect.Value }
			var entries []entry
			mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				entries = append(entries, entry{k.Value(), v})
				return true
			})
			for _, e := range entries {
				mp.Clear(e.k.MapKey())
			}
			for _, e := range entries {
				k, v := e.k, e.v
				if fd.MapKey().Kind() == protoreflect.StringKind {
					k = protoreflect.ValueOfString(Printable(k.String()))
				}
				switch fd.MapValue().Kind() {
				case protoreflect.StringKind:
					v = protoreflect.ValueOfString(Printable(v.String()))
				case protoreflect.MessageKind:
					printableMessage(v.Message())
				}
				mp.Set(k.MapKey(), v)
			}
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				switch fd.Kind() {
				case protoreflect.StringKind:
					l.Set(i, protoreflect.ValueOfString(Printable(l.Get(i).String())))
				case protoreflect.MessageKind:
					printableMessage(l.Get(i).Message())
				}
			}
		case fd.Kind() == protoreflect.StringKind:
			m.Set(fd, protoreflect.ValueOfString(Printable(v.String())))
		case fd.Kind() == protoreflect.MessageKind:
			printableMessage(v.Message())
		}
		return true
	})
}

// printableInterceptors make every answer of a table-printing client
// printable (printableMessage) as it arrives, so no table, chart or line
// can write a server's raw bytes to the terminal. JSON output keeps the
// exact values: writeJSON escapes them instead.
func (c *Client) printableInterceptors() []grpc.DialOption {
	clean := func(reply any) {
		if m, ok := reply.(proto.Message); ok && !c.json() {
			printableMessage(m.ProtoReflect())
		}
	}
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
			invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			err := invoker(ctx, method, req, reply, cc, opts...)
			clean(reply)
			return err
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
			streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			s, err := streamer(ctx, desc, cc, method, opts...)
			if err != nil {
				return nil, err
			}
			return &printableStream{ClientStream: s, clean: clean}, nil
		}),
	}
}

type printableStream struct {
	grpc.ClientStream
	clean func(any)
}

func (s *printableStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err == nil {
		s.clean(m)
	}
	return err
}

// escapeJSON rewrites the hidden runes encoding/json leaves as they are
// (DEL, the C1 controls, format characters) as \u escapes: the document
// means the same, and printing it cannot drive the terminal. They can only
// occur inside strings, as the rest of the document is ASCII.
func escapeJSON(b []byte) []byte {
	if !strings.ContainsFunc(string(b), hidden) {
		return b
	}
	var out strings.Builder
	for _, r := range string(b) {
		if !hidden(r) || r == '\n' { // encoding/json escapes the others of C0
			out.WriteRune(r)
			continue
		}
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
			continue
		}
		fmt.Fprintf(&out, `\u%04x`, r)
	}
	return []byte(out.String())
}
