// Package ctl is the client side of `slapipe ctl`: it calls the SLA manager
// and the retrieval service over gRPC and renders their answers as tables for
// people, as JSON for scripts (the shapes of docs/cli.md), as charts for
// forecasts and as a progress bar for ETL runs, and it runs the interactive
// menu. Every operation fetches everything before it writes, so a failed
// command leaves stdout empty; its error is one line that says what to do.
package ctl

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Output formats accepted by Options.Output.
const (
	OutputTable = "table"
	OutputJSON  = "json"
)

// DefaultTimeout bounds each unary call when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// ErrUsage marks errors caused by how the command was invoked (a bad flag
// value, a malformed selector); callers exit with status 2 on it.
var ErrUsage = errors.New("usage")

// usageErrorf returns an error matching ErrUsage whose message is only the
// formatted text.
func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

type usageError struct{ err error }

func (u usageError) Error() string        { return u.err.Error() }
func (u usageError) Unwrap() error        { return u.err }
func (u usageError) Is(target error) bool { return target == ErrUsage }

// Options configures a Client.
type Options struct {
	// SLAAddr and RetrievalAddr are the host:port of the two services.
	SLAAddr, RetrievalAddr string
	// Output is OutputTable (the default when empty) or OutputJSON.
	Output string
	// Timeout bounds each unary call; 0 means DefaultTimeout. ETL runs are
	// streamed without a deadline (Ctrl-C stops waiting).
	Timeout time.Duration
	// Stdout receives results, Stderr progress; nil means os.Stdout/os.Stderr.
	Stdout, Stderr io.Writer
	// StdoutTerminal enables colours in charts; StderrTerminal turns ETL
	// progress into a progress bar instead of plain lines.
	StdoutTerminal, StderrTerminal bool
	// Credentials are the TLS settings and bearer token presented to both
	// services.
	Credentials Credentials
	// ValidateSelector checks a PromQL selector before it is sent (the command
	// wires promsource.ParseSelector); nil accepts any non-empty selector.
	ValidateSelector func(string) error
}

// Client runs ctl operations against the two services. Connections are made
// lazily, on the first call to each service.
type Client struct {
	opts Options
	sla  slapipev1.SLAManagerClient
	ret  slapipev1.DataRetrievalClient

	slaConn, retConn *grpc.ClientConn
}

// New validates opts and prepares the connections; it does not dial.
func New(opts Options) (*Client, error) {
	if opts.Output == "" {
		opts.Output = OutputTable
	}
	if opts.Output != OutputTable && opts.Output != OutputJSON {
		return nil, usageErrorf("invalid --output %q: use table or json", opts.Output)
	}
	if opts.Timeout < 0 {
		return nil, usageErrorf("invalid --timeout %s: must be positive", opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	c := &Client{opts: opts}
	var err error
	if c.slaConn, err = dial(opts.SLAAddr, "--sla-addr", opts.Credentials, c.printableInterceptors()...); err != nil {
		return nil, err
	}
	if c.retConn, err = dial(opts.RetrievalAddr, "--retrieval-addr", opts.Credentials, c.printableInterceptors()...); err != nil {
		_ = c.slaConn.Close()
		return nil, err
	}
	c.sla = slapipev1.NewSLAManagerClient(c.slaConn)
	c.ret = slapipev1.NewDataRetrievalClient(c.retConn)
	return c, nil
}

func dial(addr, flag string, creds Credentials, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	if addr == "" {
		return nil, usageErrorf("%s is empty: give the service's host:port", flag)
	}
	// Plain host:port is the usual form; gRPC target URIs (dns:///..., unix:...)
	// pass through to grpc.
	if !strings.Contains(addr, ":/") && !strings.HasPrefix(addr, "unix:") {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			return nil, usageErrorf("invalid %s %q: want host:port, e.g. 127.0.0.1:50051", flag, addr)
		}
	}
	opts, err := creds.DialOptions(addr)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(addr, append(opts, extra...)...)
	if err != nil {
		return nil, usageErrorf("invalid %s %q: %v", flag, addr, err)
	}
	return conn, nil
}

// Close releases both connections.
func (c *Client) Close() error {
	return errors.Join(c.slaConn.Close(), c.retConn.Close())
}

// json reports whether results are rendered as JSON.
func (c *Client) json() bool { return c.opts.Output == OutputJSON }

// validateSelector applies Options.ValidateSelector.
func (c *Client) validateSelector(s string) error {
	if s == "" {
		return errors.New("selector is empty")
	}
	if c.opts.ValidateSelector == nil {
		return nil
	}
	return c.opts.ValidateSelector(s)
}
