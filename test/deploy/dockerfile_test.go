package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
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
	require.Contains(t, df, "go build -tags nodemo", "the image leaves the demo out (TestProductionBuildLeavesDemoOut)")

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

// demoOnly are the import paths (prefixes) only `slapipe demo` needs: its
// stand-ins and what the embedded Prometheus links (its TSDB and the
// service-discovery SDKs of every cloud).
var demoOnly = []string{
	"github.com/slapipe/slapipe/demo",
	"github.com/slapipe/slapipe/demo/embedded/",
	"github.com/twmb/franz-go/pkg/kfake",
	"github.com/prometheus/prometheus/tsdb/wlog",
	"github.com/prometheus/prometheus/discovery",
	"github.com/aws/",
	"k8s.io/",
}

// TestProductionBuildLeavesDemoOut: the binary the Dockerfile builds
// (-tags nodemo) links none of the demo's packages, while the default
// build, the one `go run ./cmd/slapipe demo` makes, still has them all.
func TestProductionBuildLeavesDemoOut(t *testing.T) {
	deps := func(tags ...string) []string {
		args := append([]string{"list", "-deps"}, tags...)
		cmd := exec.Command("go", append(args, "./cmd/slapipe")...)
		cmd.Dir = repoRoot
		out, err := cmd.Output()
		require.NoError(t, err, "go %v", args)
		return strings.Fields(string(out))
	}
	demoPaths := func(pkgs []string) map[string]bool {
		found := map[string]bool{}
		for _, p := range pkgs {
			for _, prefix := range demoOnly {
				if strings.HasPrefix(p, prefix) {
					found[prefix] = true
				}
			}
		}
		return found
	}
	require.Empty(t, demoPaths(deps("-tags", "nodemo")), "packages of the demo in the production build")
	require.Len(t, demoPaths(deps()), len(demoOnly), "the default build keeps the whole demo")
}
