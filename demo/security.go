package demo

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/slapipe/slapipe/pkg/ctl"
	"github.com/slapipe/slapipe/pkg/server"
)

// reportAccess returns the security of both gRPC servers and the
// credentials of the report's own client: with an auth file, an admin token
// generated now (held in memory only); with TLS, trust in exactly the
// certificate the servers serve.
func reportAccess(sec server.Security) (server.Security, ctl.Credentials, error) {
	var creds ctl.Credentials
	if sec.TLS.ClientCAFile != "" {
		return sec, creds, errors.New("demo: --tls-client-ca-file is not supported: the demo's report client has no client certificate; " +
			"run slamanager and dataretrieval for mutual TLS")
	}
	if sec.AuthFile != "" {
		creds.Token = rand.Text()
		sum := sha256.Sum256([]byte(creds.Token))
		sec.ExtraTokens = append(append([]server.Token(nil), sec.ExtraTokens...),
			server.Token{Name: "demo-report", Role: server.RoleAdmin, SHA256: hex.EncodeToString(sum[:])})
	}
	if sec.TLS.CertFile != "" && sec.TLS.KeyFile != "" {
		pair, err := tls.LoadX509KeyPair(sec.TLS.CertFile, sec.TLS.KeyFile)
		if err != nil {
			return sec, creds, fmt.Errorf("demo: tls certificate: %w", err)
		}
		// The served certificate is the root the report trusts (Go accepts
		// a pooled certificate as its own chain), checked against a name it
		// holds rather than the listen address.
		creds.CAFile = sec.TLS.CertFile
		switch leaf := pair.Leaf; {
		case len(leaf.DNSNames) > 0:
			creds.ServerName = leaf.DNSNames[0]
		case len(leaf.IPAddresses) > 0:
			creds.ServerName = leaf.IPAddresses[0].String()
		default:
			return sec, creds, errors.New("demo: the tls certificate names no DNS name or IP address (subjectAltName)")
		}
	}
	return sec, creds, nil
}
