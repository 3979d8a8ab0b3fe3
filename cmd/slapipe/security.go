package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"
	promapi "github.com/prometheus/client_golang/api"
	promconfig "github.com/prometheus/common/config"
	"github.com/spf13/pflag"

	"github.com/slapipe/slapipe/internal/kafkaconn"
	"github.com/slapipe/slapipe/pkg/server"
)

// grpcFlags are the security flags of a gRPC server (docs/cli.md,
// "Security").
type grpcFlags struct {
	sec        server.Security
	reflection bool
}

// grpcSecurityFlags declares the gRPC server security flags.
func (s *sources) grpcSecurityFlags(fs *pflag.FlagSet) {
	g := &s.grpc
	fs.StringVar(&g.sec.TLS.CertFile, "tls-cert-file", "", "serve gRPC over TLS with this certificate (PEM; re-read when it changes)")
	fs.StringVar(&g.sec.TLS.KeyFile, "tls-key-file", "", "private key of --tls-cert-file (PEM)")
	fs.StringVar(&g.sec.TLS.ClientCAFile, "tls-client-ca-file", "", "require client certificates signed by this CA (mutual TLS)")
	fs.StringVar(&g.sec.AuthFile, "auth-file", "", "YAML list of bearer tokens (name, role read|admin, sha256); calls without a listed token are refused")
	fs.BoolVar(&g.reflection, "grpc-reflection", true, "serve gRPC reflection (with --auth-file, to authenticated callers only)")
	fs.BoolVar(&g.sec.Insecure, "insecure", false, "allow listening on a non-loopback address without --auth-file")
}

// security returns the gRPC server security the flags describe.
func (s *sources) security() server.Security {
	sec := s.grpc.sec
	sec.NoReflection = !s.grpc.reflection
	return sec
}

// outbound are the credentials flags of the systems a component calls.
type outbound struct {
	prometheusConfigFile string
	kafka                kafkaconn.Files
	mysqlDSNFile         string
	mysqlTLSCAFile       string
}

func (s *sources) prometheusSecurityFlags(fs *pflag.FlagSet) {
	fs.StringVar(&s.out.prometheusConfigFile, "prometheus-config-file", "",
		"Prometheus HTTP client configuration (YAML as in Prometheus: basic_auth, authorization, tls_config, oauth2, proxy_url)")
}

func (s *sources) kafkaSecurityFlags(fs *pflag.FlagSet) {
	k := &s.out.kafka
	fs.StringVar(&k.CAFile, "kafka-tls-ca-file", "", "connect to Kafka over TLS, verifying the brokers with this CA (PEM)")
	fs.StringVar(&k.CertFile, "kafka-tls-cert-file", "", "client certificate for Kafka (PEM; turns TLS on)")
	fs.StringVar(&k.KeyFile, "kafka-tls-key-file", "", "private key of --kafka-tls-cert-file (PEM)")
	fs.StringVar(&k.Mechanism, "kafka-sasl-mechanism", "", "SASL mechanism: plain, scram-sha-256 or scram-sha-512 (default: no SASL)")
	fs.StringVar(&k.Username, "kafka-sasl-username", "", "SASL user name")
	fs.StringVar(&k.PasswordFile, "kafka-sasl-password-file", "", "file holding the SASL password")
}

func (s *sources) mysqlSecurityFlags(fs *pflag.FlagSet) {
	fs.StringVar(&s.out.mysqlDSNFile, "mysql-dsn-file", "", "file holding the MySQL DSN, instead of --mysql-dsn (keeps the password out of argv)")
	fs.StringVar(&s.out.mysqlTLSCAFile, "mysql-tls-ca-file", "", "connect to MySQL over TLS, verifying the server with this CA (PEM)")
}

// prometheusTransport returns the round tripper of --prometheus-config-file
// (nil without it), built by prometheus/common, which re-reads the files
// the configuration names (passwords, CAs) as they change.
func (s *sources) prometheusTransport() (http.RoundTripper, error) {
	if s.out.prometheusConfigFile == "" {
		return credentialsHint{next: promapi.DefaultRoundTripper}, nil
	}
	cfg, _, err := promconfig.LoadHTTPConfigFile(s.out.prometheusConfigFile)
	if err != nil {
		// YAML type errors quote the offending value, which may be a secret.
		msg := quotedValue.ReplaceAllString(err.Error(), "`...`")
		return nil, usagef("--prometheus-config-file %s: %s", s.out.prometheusConfigFile, msg)
	}
	rt, err := promconfig.NewRoundTripperFromConfig(*cfg, "slapipe")
	if err != nil {
		return nil, usagef("--prometheus-config-file %s: %v", s.out.prometheusConfigFile, err)
	}
	return credentialsHint{next: rt, file: s.out.prometheusConfigFile}, nil
}

// credentialsHint turns Prometheus' 401 and 403 answers into an error that
// says which setting to fix, instead of client_golang's bare status code.
type credentialsHint struct {
	next http.RoundTripper
	file string
}

// RoundTrip implements http.RoundTripper.
func (c credentialsHint) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil || (resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden) {
		return resp, err
	}
	_ = resp.Body.Close()
	if c.file == "" {
		return nil, fmt.Errorf("prometheus at %s answered %s: it wants credentials: give them in --prometheus-config-file", r.URL.Host, resp.Status)
	}
	return nil, fmt.Errorf("prometheus at %s answered %s: check the credentials in --prometheus-config-file %s", r.URL.Host, resp.Status, c.file)
}

// quotedValue is a value quoted in a YAML error.
var quotedValue = regexp.MustCompile("`[^`]*`")

// kafkaSecurity returns the TLS and SASL of the --kafka-* flags.
func (s *sources) kafkaSecurity() (kafkaconn.Security, error) {
	sec, err := s.out.kafka.Build()
	if err != nil {
		return sec, usageError{err}
	}
	return sec, nil
}

// mysqlTLSName is the name the --mysql-tls-ca-file configuration is
// registered under with the driver (the DSN's tls= parameter).
const mysqlTLSName = "slapipe"

// dsn returns the DSN of --mysql-dsn-file (trimmed) or --mysql-dsn, with
// TLS verified by --mysql-tls-ca-file when given. Errors never quote the
// DSN, which may hold a password.
func (s *sources) dsn() (string, error) {
	dsn := s.mysqlDSN
	if s.out.mysqlDSNFile != "" {
		b, err := os.ReadFile(s.out.mysqlDSNFile)
		if err != nil {
			return "", usagef("--mysql-dsn-file: %v", err)
		}
		if dsn = strings.TrimSpace(string(b)); dsn == "" {
			return "", usagef("--mysql-dsn-file %s is empty", s.out.mysqlDSNFile)
		}
	}
	if s.out.mysqlTLSCAFile == "" {
		return dsn, nil
	}
	if strings.HasPrefix(dsn, "sqlite:") {
		return "", usagef("--mysql-tls-ca-file is for MySQL; the DSN names an SQLite database")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The driver's parse errors say what is wrong without quoting the DSN.
		return "", usagef("--mysql-dsn: not a MySQL DSN (user:pass@tcp(host:3306)/db): %v", err)
	}
	pem, err := os.ReadFile(s.out.mysqlTLSCAFile)
	if err != nil {
		return "", usagef("--mysql-tls-ca-file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return "", usagef("--mysql-tls-ca-file %s: no PEM certificate in it", s.out.mysqlTLSCAFile)
	}
	// The driver checks the server's name against the DSN's host.
	if err := mysql.RegisterTLSConfig(mysqlTLSName, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}); err != nil {
		return "", fmt.Errorf("--mysql-tls-ca-file: %w", err)
	}
	cfg.TLSConfig = mysqlTLSName
	return cfg.FormatDSN(), nil
}

// resolved are the outbound credentials built from the flags, once per
// command (resolve).
type resolved struct {
	promTransport http.RoundTripper
	kafkaSec      kafkaconn.Security
}

// resolve builds the outbound credentials and replaces s.mysqlDSN by the
// DSN to open (from --mysql-dsn-file, with --mysql-tls-ca-file). Commands
// call it first, so a bad file fails before anything starts.
func (s *sources) resolve() error {
	var err error
	if s.res.promTransport, err = s.prometheusTransport(); err != nil {
		return err
	}
	if s.res.kafkaSec, err = s.kafkaSecurity(); err != nil {
		return err
	}
	if s.mysqlDSN != "" || s.out.mysqlDSNFile != "" {
		s.mysqlDSN, err = s.dsn()
	}
	return err
}
