package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	fromLine    = regexp.MustCompile(`(?m)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?`)
	ldflagsX    = regexp.MustCompile(`-X\s+main\.(\w+)=`)
	entrypoint  = regexp.MustCompile(`(?m)^ENTRYPOINT\s+\["([^"]+)"\]`)
	golangImage = regexp.MustCompile(`^golang:(\d+\.\d+)`)
	goDirective = regexp.MustCompile(`(?m)^go\s+(\S+)$`)
)

// TestDockerfile checks the image build against the code it builds: the Go
// version of go.mod, a static binary, a -X flag that names a real string
// variable of package main, and the binary path the compose health checks
// run.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	require.NoError(t, err)
	df := string(b)

	froms := fromLine.FindAllStringSubmatch(df, -1)
	require.Len(t, froms, 2, "a build stage and a runtime stage")
	m := golangImage.FindStringSubmatch(froms[0][1])
	require.NotNil(t, m, "the build stage uses the golang image: %s", froms[0][1])
	mb, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	require.NoError(t, err)
	goVersion := goDirective.FindStringSubmatch(string(mb))
	require.NotNil(t, goVersion, "go.mod has a go directive")
	require.True(t, goVersion[1] == m[1] || strings.HasPrefix(goVersion[1], m[1]+"."), "golang:%s builds go.mod's go %s", m[1], goVersion[1])
	require.Contains(t, froms[1][1], "distroless/static", "the runtime image has no libc: the binary must be static")
	require.Contains(t, df, "CGO_ENABLED=0")

	x := ldflagsX.FindStringSubmatch(df)
	require.NotNil(t, x, "the build stamps the version")
	require.True(t, stringVarInMain(t, x[1]), "-X main.%s must name a string variable of cmd/slapipe (else the linker ignores it)", x[1])

	ep := entrypoint.FindStringSubmatch(df)
	require.NotNil(t, ep)
	for name, s := range loadCompose(t).Services {
		if s.HealthCheck == nil || !strings.HasPrefix(s.Image, "slapipe:") {
			continue
		}
		require.Equal(t, ep[1], s.HealthCheck.Test[1], "%s's health check runs the image's binary", name)
	}
}

// stringVarInMain reports whether cmd/slapipe declares a package-level
// string variable named name.
func stringVarInMain(t testing.TB, name string) bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(repoRoot, "cmd", "slapipe", "*.go"))
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != name {
						continue
					}
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
						return true
					}
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							return true
						}
					}
				}
			}
		}
	}
	return false
}
