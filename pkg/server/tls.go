package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// TLSFiles names the PEM files of a server's TLS configuration. All empty
// means plaintext.
type TLSFiles struct {
	// CertFile and KeyFile are the server's certificate (chain) and private
	// key (--tls-cert-file, --tls-key-file). They are re-read when either
	// file changes, so a rotated certificate is served without a restart.
	CertFile, KeyFile string
	// ClientCAFile, when set, makes the server require client certificates
	// signed by one of its CAs (--tls-client-ca-file: mutual TLS).
	ClientCAFile string
}

// Enabled reports whether any TLS file is configured.
func (f TLSFiles) Enabled() bool {
	return f.CertFile != "" || f.KeyFile != "" || f.ClientCAFile != ""
}

// validate refuses half a configuration, naming the missing flag.
func (f TLSFiles) validate() error {
	switch {
	case f.CertFile != "" && f.KeyFile == "":
		return errors.New("--tls-cert-file is set but --tls-key-file is not: give both, or neither for plaintext")
	case f.KeyFile != "" && f.CertFile == "":
		return errors.New("--tls-key-file is set but --tls-cert-file is not: give both, or neither for plaintext")
	case f.ClientCAFile != "" && f.CertFile == "":
		return errors.New("--tls-client-ca-file needs --tls-cert-file and --tls-key-file: mutual TLS is TLS with client certificates")
	}
	return nil
}

// serverConfig returns the TLS configuration of f (nil when TLS is off).
// The certificate is loaded once here, so a bad file fails at start, and
// then again whenever the files change.
func (f TLSFiles) serverConfig(logger *slog.Logger) (*tls.Config, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	if !f.Enabled() {
		return nil, nil
	}
	r := &certReloader{certFile: f.CertFile, keyFile: f.KeyFile, logger: logger}
	if err := r.load(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		// gRPC needs HTTP/2 negotiated through ALPN.
		NextProtos: []string{"h2"},
	}
	if f.ClientCAFile != "" {
		pem, err := os.ReadFile(f.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-client-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-client-ca-file %s: no PEM certificate in it", f.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// certReloader serves a certificate pair and re-reads it when the
// modification time or size of either file changes (checked at most once a
// second, on a handshake). A pair that fails to load (e.g. caught half
// written) keeps the previous certificate in service and is logged.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	stamp     [2]fileStamp
	lastCheck time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}, nil
}

// reloadCheckInterval bounds how often a busy server stats the files; a
// variable so that tests see a rotation at once.
var reloadCheckInterval = time.Second

// load reads the pair unconditionally. Callers hold mu or own r.
func (r *certReloader) load() error {
	cs, err1 := stampOf(r.certFile)
	ks, err2 := stampOf(r.keyFile)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate %s with key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.stamp = &cert, [2]fileStamp{cs, ks}
	return nil
}

// GetCertificate implements tls.Config.GetCertificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.lastCheck) >= reloadCheckInterval {
		r.lastCheck = now
		cs, err1 := stampOf(r.certFile)
		ks, err2 := stampOf(r.keyFile)
		if err1 == nil && err2 == nil && [2]fileStamp{cs, ks} != r.stamp {
			if err := r.load(); err != nil {
				r.logger.Warn("tls certificate changed but does not load; serving the previous one", "err", err)
			} else {
				r.logger.Info("tls certificate reloaded", "cert_file", r.certFile)
			}
		}
	}
	return r.cert, nil
}
