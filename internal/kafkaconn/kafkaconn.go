// Package kafkaconn is how slapipe's producers, consumers and admin calls
// reach Kafka brokers that require TLS and SASL (PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512): one Security value, built once from the command's flags
// by kafka-go's own mechanisms, handed to every writer, reader and client.
package kafkaconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// SASL mechanisms accepted by Files.Mechanism (--kafka-sasl-mechanism).
const (
	MechanismPlain       = "plain"
	MechanismSCRAMSHA256 = "scram-sha-256"
	MechanismSCRAMSHA512 = "scram-sha-512"
)

// Files are the Kafka security flags: PEM files for TLS and the SASL
// mechanism, user and password file. All empty means plaintext without
// SASL.
type Files struct {
	CAFile, CertFile, KeyFile string
	Mechanism, Username       string
	PasswordFile              string
}

// Security is a built Files: the TLS configuration (nil: plaintext) and
// the SASL mechanism (nil: none). The zero value is plaintext.
type Security struct {
	TLS  *tls.Config
	SASL sasl.Mechanism
}

// Build reads the files and returns the Security they describe. Errors
// name the flag at fault and never contain the password.
func (f Files) Build() (Security, error) {
	var s Security
	switch {
	case f.CertFile != "" && f.KeyFile == "":
		return s, errors.New("--kafka-tls-cert-file is set but --kafka-tls-key-file is not: give both for client certificates")
	case f.KeyFile != "" && f.CertFile == "":
		return s, errors.New("--kafka-tls-key-file is set but --kafka-tls-cert-file is not: give both for client certificates")
	}
	if f.CAFile != "" || f.CertFile != "" {
		s.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		if f.CAFile != "" {
			pem, err := os.ReadFile(f.CAFile)
			if err != nil {
				return s, fmt.Errorf("--kafka-tls-ca-file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return s, fmt.Errorf("--kafka-tls-ca-file %s: no PEM certificate in it", f.CAFile)
			}
			s.TLS.RootCAs = pool
		}
		if f.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
			if err != nil {
				return s, fmt.Errorf("--kafka-tls-cert-file/--kafka-tls-key-file: %w", err)
			}
			s.TLS.Certificates = []tls.Certificate{cert}
		}
	}
	if f.Mechanism == "" {
		if f.Username != "" || f.PasswordFile != "" {
			return s, errors.New("--kafka-sasl-username and --kafka-sasl-password-file need --kafka-sasl-mechanism (plain, scram-sha-256 or scram-sha-512)")
		}
		return s, nil
	}
	if f.Username == "" || f.PasswordFile == "" {
		return s, fmt.Errorf("--kafka-sasl-mechanism %s needs --kafka-sasl-username and --kafka-sasl-password-file", f.Mechanism)
	}
	b, err := os.ReadFile(f.PasswordFile)
	if err != nil {
		return s, fmt.Errorf("--kafka-sasl-password-file: %w", err)
	}
	pass := strings.TrimRight(string(b), "\r\n")
	switch strings.ToLower(f.Mechanism) {
	case MechanismPlain:
		s.SASL = plain.Mechanism{Username: f.Username, Password: pass}
	case MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		algo := scram.SHA256
		if strings.EqualFold(f.Mechanism, MechanismSCRAMSHA512) {
			algo = scram.SHA512
		}
		if s.SASL, err = scram.Mechanism(algo, f.Username, pass); err != nil {
			return s, fmt.Errorf("--kafka-sasl-mechanism %s: %w", f.Mechanism, err)
		}
	default:
		return s, fmt.Errorf("invalid --kafka-sasl-mechanism %q: use plain, scram-sha-256 or scram-sha-512", f.Mechanism)
	}
	return s, nil
}

// Enabled reports whether s uses TLS or SASL.
func (s Security) Enabled() bool { return s.TLS != nil || s.SASL != nil }

// Transport returns the transport of kafka.Writer and kafka.Client, or nil
// (kafka-go's default) when s is plaintext without SASL.
func (s Security) Transport() kafka.RoundTripper {
	if !s.Enabled() {
		return nil
	}
	return &kafka.Transport{TLS: s.TLS, SASL: s.SASL, DialTimeout: 5 * time.Second}
}

// Check authenticates on a connection to the first broker that accepts
// one, when s has SASL, and returns the broker's refusal (e.g. "SASL
// Authentication Failed") with the user name, never the password.
func (s Security) Check(ctx context.Context, brokers []string) error {
	if s.SASL == nil || len(brokers) == 0 {
		return nil
	}
	var errs []error
	for _, b := range brokers {
		conn, err := s.Dialer().DialContext(ctx, "tcp", b)
		if err == nil {
			return conn.Close()
		}
		errs = append(errs, fmt.Errorf("kafka at %s: %w", b, err))
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// Dialer returns the dialer of kafka.Reader, or nil (kafka-go's default)
// when s is plaintext without SASL.
func (s Security) Dialer() *kafka.Dialer {
	if !s.Enabled() {
		return nil
	}
	return &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: s.TLS, SASLMechanism: s.SASL}
}
