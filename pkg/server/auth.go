package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"gopkg.in/yaml.v3"

	"github.com/slapipe/slapipe/internal/promreg"
)

// Role is what a bearer token may do.
type Role string

// Roles of --auth-file. A read token may make every Get/List call and use
// reflection; an admin token may also change the SLA set and start runs.
const (
	RoleRead  Role = "read"
	RoleAdmin Role = "admin"
)

// Token is one entry of --auth-file: who the token belongs to, its role and
// the hex SHA-256 of the token (the token itself is never stored).
type Token struct {
	Name   string `yaml:"name"`
	Role   Role   `yaml:"role"`
	SHA256 string `yaml:"sha256"`
}

// AuthFile is the YAML document of --auth-file.
type AuthFile struct {
	Tokens []Token `yaml:"tokens"`
}

// authorizer-side view of an AuthFile: each token's decoded SHA-256.
type tokenSums struct {
	tokens []Token
	sums   [][]byte
}

// sums decodes the validated hashes once, for lookup.
func (f *AuthFile) sums() tokenSums {
	ts := tokenSums{tokens: f.Tokens, sums: make([][]byte, len(f.Tokens))}
	for i, t := range f.Tokens {
		ts.sums[i], _ = hex.DecodeString(t.SHA256) // validated
	}
	return ts
}

// LoadAuthFile reads and validates an --auth-file. Errors name the entry
// and field at fault and never contain a hash.
func LoadAuthFile(path string) (*AuthFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--auth-file: %w", err)
	}
	var f AuthFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("--auth-file %s: %w", path, err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("--auth-file %s: %w", path, err)
	}
	return &f, nil
}

// Validate checks every entry: a unique name, a known role and a SHA-256
// given as 64 hex digits, each hash listed once.
func (f *AuthFile) Validate() error {
	if len(f.Tokens) == 0 {
		return errors.New("tokens: none listed; every call would be refused")
	}
	names := map[string]bool{}
	hashes := map[string]string{}
	for i, t := range f.Tokens {
		switch {
		case t.Name == "":
			return fmt.Errorf("tokens[%d].name: empty", i)
		case !tokenName.MatchString(t.Name):
			return fmt.Errorf("tokens[%d].name: %q: use up to 64 letters, digits, '.', '_' or '-'", i, t.Name)
		case names[t.Name]:
			return fmt.Errorf("tokens[%d].name: %q listed twice", i, t.Name)
		case t.Role != RoleRead && t.Role != RoleAdmin:
			return fmt.Errorf("tokens[%d].role: %q: use read or admin", i, t.Role)
		}
		h := strings.ToLower(t.SHA256)
		if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("tokens[%d].sha256: want the 64 hex digits of the token's SHA-256 (printf %%s TOKEN | sha256sum)", i)
		}
		if prev, ok := hashes[h]; ok {
			return fmt.Errorf("tokens[%d].sha256: same token as %q", i, prev)
		}
		names[t.Name], hashes[h] = true, t.Name
	}
	return nil
}

// tokenName is what a token's name may be: it appears in logs, errors and
// the SLA set's history.
var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// lookup returns the entry whose hash is the token's SHA-256, or nil. Every
// entry is compared, each in constant time.
func (ts tokenSums) lookup(token string) *Token {
	sum := sha256.Sum256([]byte(token))
	var found *Token
	for i, want := range ts.sums {
		if subtle.ConstantTimeCompare(sum[:], want) == 1 {
			found = &ts.tokens[i]
		}
	}
	return found
}

type tokenKey struct{}

// TokenName returns the --auth-file name of the token that authenticated
// the call of ctx ("" when the server has no --auth-file or the method is
// open), e.g. to record who changed the SLA set.
func TokenName(ctx context.Context) string {
	name, _ := ctx.Value(tokenKey{}).(string)
	return name
}

// authorizer checks the bearer token of every call against the auth file
// and the role the method needs; refusals are counted and logged with the
// caller's address and never with the token.
type authorizer struct {
	file    tokenSums
	refused *prometheus.CounterVec
	logger  *slog.Logger
}

func newRefusedCounter(set *promreg.Set) *prometheus.CounterVec {
	return promreg.Add(set, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "slapipe_grpc_auth_refused_total",
		Help: "gRPC calls refused by authentication (Unauthenticated) or authorization (PermissionDenied).",
	}, []string{"grpc_service", "grpc_method", "grpc_code"}))
}

// authorize is the auth.AuthFunc of the server's interceptors.
func (a *authorizer) authorize(ctx context.Context) (context.Context, error) {
	method, _ := grpc.Method(ctx)
	need := requiredRole(method)
	if need == "" {
		return ctx, nil
	}
	tok, err := auth.AuthFromMD(ctx, "bearer")
	if err != nil || tok == "" {
		return nil, a.refuse(ctx, method, codes.Unauthenticated, "no bearer token",
			"missing bearer token: send `authorization: Bearer TOKEN` with a token listed in the server's --auth-file")
	}
	t := a.file.lookup(tok)
	if t == nil {
		return nil, a.refuse(ctx, method, codes.Unauthenticated, "unknown token",
			"unknown bearer token: it is not listed in the server's --auth-file")
	}
	if need == RoleAdmin && t.Role != RoleAdmin {
		return nil, a.refuse(ctx, method, codes.PermissionDenied, "token "+t.Name+" has role "+string(t.Role),
			fmt.Sprintf("token %q has role %s: %s needs an admin token", t.Name, t.Role, method))
	}
	return context.WithValue(ctx, tokenKey{}, t.Name), nil
}

func (a *authorizer) refuse(ctx context.Context, method string, code codes.Code, reason, msg string) error {
	svc, m := splitMethod(method)
	a.refused.WithLabelValues(svc, m, code.String()).Inc()
	addr := "unknown"
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr = p.Addr.String()
	}
	a.logger.WarnContext(ctx, "grpc call refused", "method", method, "peer", addr, "code", code.String(), "reason", reason)
	return status.Error(code, msg)
}

// splitMethod splits "/pkg.Service/Method" into service and method.
func splitMethod(full string) (string, string) {
	svc, m, ok := strings.Cut(strings.TrimPrefix(full, "/"), "/")
	if !ok {
		return "unknown", full
	}
	return svc, m
}
