package main

import (
	"github.com/spf13/pflag"

	"github.com/slapipe/slapipe/server"
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
