package ctl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
)

// service names a remote service in error messages: what it is, where it
// was looked for, how to start it and which flag points elsewhere.
type service struct {
	name, addr, command, flag string
	conn                      *grpc.ClientConn
	timeout                   string
}

func (c *Client) slaService() service {
	return service{name: "SLA manager", addr: c.opts.SLAAddr, command: "slapipe slamanager",
		flag: "--sla-addr", conn: c.slaConn, timeout: c.opts.Timeout.String()}
}

func (c *Client) retrievalService() service {
	return service{name: "retrieval service", addr: c.opts.RetrievalAddr, command: "slapipe dataretrieval",
		flag: "--retrieval-addr", conn: c.retConn, timeout: c.opts.Timeout.String()}
}

// explain turns a gRPC error into one line that says what happened and what
// to do. Errors the server meant for the user (invalid argument, not found,
// failed precondition) are passed through as the server worded them.
func (s service) explain(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s at %s: %w", s.name, s.addr, err)
	}
	msg := oneLine(st.Message())
	switch st.Code() {
	case codes.Unauthenticated:
		return fmt.Errorf("the %s at %s refused the call: %s; give a token with --token-file or SLAPIPE_TOKEN", s.name, s.addr, msg)
	case codes.PermissionDenied:
		return fmt.Errorf("the %s at %s refused the call: %s", s.name, s.addr, msg)
	case codes.Unavailable:
		if tlsFailure(msg) {
			return fmt.Errorf("no secure connection to the %s at %s: %s; check --tls-ca-file, --tls-cert-file and --tls-key-file against the server's TLS flags", s.name, s.addr, msg)
		}
		if strings.Contains(msg, "server preface") {
			// A TLS server drops a plaintext client without a word.
			return fmt.Errorf("the %s at %s closed the connection before answering: if it serves TLS, give --tls-ca-file", s.name, s.addr)
		}
		if s.unreachable() {
			return fmt.Errorf("cannot reach the %s at %s: start it with `%s` or set %s", s.name, s.addr, s.command, s.flag)
		}
		// The server is up and says what it depends on is not.
		return errors.New(msg)
	case codes.DeadlineExceeded:
		return fmt.Errorf("the %s at %s did not answer within %s: check that it is healthy or raise --timeout", s.name, s.addr, s.timeout)
	case codes.Canceled:
		return errors.New("interrupted")
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.AlreadyExists, codes.OutOfRange:
		return errors.New(msg)
	case codes.Unimplemented:
		return fmt.Errorf("the server at %s does not implement this call: check that %s points at the %s (%s)", s.addr, s.flag, s.name, msg)
	default:
		return fmt.Errorf("the %s failed: %s (%s)", s.name, msg, st.Code())
	}
}

// unreachable tells a transport failure (nothing listening, wrong host) from
// a server that answered Unavailable itself (e.g. Prometheus is down): the
// connection is only Ready when the server was reached.
func (s service) unreachable() bool {
	return s.conn == nil || s.conn.GetState() != connectivity.Ready
}

// tlsFailure reports whether a transport error is a TLS handshake failure
// (wrong CA, missing client certificate, plaintext against TLS), which
// deserves a different hint from a server that is down.
func tlsFailure(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"tls:", "x509:", "certificate", "handshake"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// oneLine keeps error text on one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return Printable(strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " "))
}
