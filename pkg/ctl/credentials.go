package ctl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Credentials are what a client presents to the services: TLS (a CA to
// verify the server, a client certificate for mutual TLS) and a bearer
// token. The zero value is plaintext without a token.
type Credentials struct {
	// CAFile verifies the server's certificate (--tls-ca-file); setting it
	// turns TLS on. Empty with CertFile set uses the system's roots.
	CAFile string
	// CertFile and KeyFile are the client certificate for mutual TLS
	// (--tls-cert-file, --tls-key-file); setting them turns TLS on.
	CertFile, KeyFile string
	// ServerName overrides the name the server's certificate is checked
	// against (default: the host of the address).
	ServerName string
	// Token is sent as `authorization: Bearer TOKEN` on every call
	// (--token-file, SLAPIPE_TOKEN). It is never sent over plaintext to a
	// non-loopback address.
	Token string
}

// tls reports whether c asks for TLS.
func (c Credentials) tls() bool { return c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" }

// DialOptions returns the transport and per-call credentials that present c
// to addr. It refuses a token over plaintext to a non-loopback address.
func (c Credentials) DialOptions(addr string) ([]grpc.DialOption, error) {
	var opts []grpc.DialOption
	if c.tls() {
		cfg, err := c.tlsConfig()
		if err != nil {
			return nil, usageError{err}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if c.Token != "" {
		if !c.tls() && !loopbackTarget(addr) {
			return nil, usageErrorf("refusing to send the token in plaintext to %s: give --tls-ca-file "+
				"(the server needs --tls-cert-file) or reach the service on a loopback address", addr)
		}
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(c.Token)))
	}
	return opts, nil
}

func (c Credentials) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca-file %s: no PEM certificate in it", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case c.CertFile != "" && c.KeyFile == "":
		return nil, fmt.Errorf("--tls-cert-file is set but --tls-key-file is not: give both for mutual TLS")
	case c.KeyFile != "" && c.CertFile == "":
		return nil, fmt.Errorf("--tls-key-file is set but --tls-cert-file is not: give both for mutual TLS")
	case c.CertFile != "":
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert-file/--tls-key-file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// loopbackTarget reports whether a dial target reaches this machine only:
// a loopback IP, localhost, or a unix socket.
func loopbackTarget(addr string) bool {
	if strings.HasPrefix(addr, "unix:") {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bearer is a token sent in the authorization metadata of every call.
type bearer string

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials. It is
// false because a token may go to a loopback address in plaintext;
// DialOptions refuses every other plaintext address before dialing.
func (bearer) RequireTransportSecurity() bool { return false }
