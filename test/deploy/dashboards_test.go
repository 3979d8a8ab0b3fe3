package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The parts of Grafana's dashboard JSON model the tests read.
type (
	dsRef struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	}
	target struct {
		RefID      string `json:"refId"`
		Datasource *dsRef `json:"datasource"`
		RawSQL     string `json:"rawSql"`
		Format     string `json:"format"`
		Expr       string `json:"expr"`
	}
	override struct {
		Matcher struct {
			ID      string `json:"id"`
			Options string `json:"options"`
		} `json:"matcher"`
		Properties []struct {
			ID    string `json:"id"`
			Value any    `json:"value"`
		} `json:"properties"`
	}
	panel struct {
		ID          int            `json:"id"`
		Type        string         `json:"type"`
		Title       string         `json:"title"`
		Datasource  *dsRef         `json:"datasource"`
		Targets     []target       `json:"targets"`
		Options     map[string]any `json:"options"`
		FieldConfig struct {
			Overrides []override `json:"overrides"`
		} `json:"fieldConfig"`
		Panels []panel `json:"panels"` // a collapsed row's panels
	}
	variable struct {
		Type       string `json:"type"`
		Name       string `json:"name"`
		Query      string `json:"query"`
		Datasource *dsRef `json:"datasource"`
		Options    []struct {
			Value string `json:"value"`
		} `json:"options"`
	}
	dashboard struct {
		UID   string `json:"uid"`
		Title string `json:"title"`
		Time  struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"time"`
		Templating struct {
			List []variable `json:"list"`
		} `json:"templating"`
		Panels      []panel `json:"panels"`
		Annotations struct {
			List []struct {
				Datasource *dsRef `json:"datasource"`
			} `json:"list"`
		} `json:"annotations"`
	}
)

// allPanels flattens rows.
func (d *dashboard) allPanels() []panel {
	var out []panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// loadDashboards reads every provisioned dashboard, by file name.
func loadDashboards(t testing.TB) map[string]*dashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "grafana", "dashboards", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]*dashboard{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var d dashboard
		require.NoError(t, json.Unmarshal(b, &d), "%s is not a dashboard JSON", f)
		out[filepath.Base(f)] = &d
	}
	return out
}

// provisionedDatasources reads grafana/provisioning/datasources: uid -> type.
func provisionedDatasources(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "grafana", "provisioning", "datasources", "*.yml"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc struct {
			APIVersion  int `yaml:"apiVersion"`
			Datasources []struct {
				Name, UID, Type, URL string
				JSONData             map[string]any `yaml:"jsonData"`
			} `yaml:"datasources"`
		}
		require.NoError(t, yaml.Unmarshal(b, &doc), f)
		require.Equal(t, 1, doc.APIVersion, f)
		for _, ds := range doc.Datasources {
			require.NotEmpty(t, ds.UID, "%s: datasource %s needs a fixed uid for the dashboards", f, ds.Name)
			out[ds.UID] = ds.Type
			if ds.Type == "mysql" {
				// UNIX_TIMESTAMP and FROM_UNIXTIME in Grafana's macros read
				// the store's UTC DATETIMEs right only in a UTC session.
				require.Equal(t, "+00:00", ds.JSONData["timezone"], "%s: the MySQL session time zone must be UTC", f)
			}
		}
	}
	return out
}

func TestDashboardsReferenceProvisionedDatasources(t *testing.T) {
	ds := provisionedDatasources(t)
	require.Equal(t, map[string]string{"slapipe-mysql": "mysql", "prometheus": "prometheus"}, ds)
	dashes := loadDashboards(t)
	titles := map[string]string{}
	for file, d := range dashes {
		titles[d.Title] = d.UID
		check := func(where string, r *dsRef) {
			require.NotNil(t, r, "%s: %s names its datasource", file, where)
			typ, ok := ds[r.UID]
			require.True(t, ok, "%s: %s uses datasource uid %q, which is not provisioned", file, where, r.UID)
			require.Equal(t, typ, r.Type, "%s: %s datasource type", file, where)
		}
		ids := map[int]bool{}
		for _, p := range d.allPanels() {
			require.False(t, ids[p.ID], "%s: panel id %d twice", file, p.ID)
			ids[p.ID] = true
			if p.Type == "row" {
				continue
			}
			check("panel "+p.Title, p.Datasource)
			require.NotEmpty(t, p.Targets, "%s: panel %s has queries", file, p.Title)
			for _, tg := range p.Targets {
				check("panel "+p.Title+" query "+tg.RefID, tg.Datasource)
				require.Equal(t, p.Datasource.UID, tg.Datasource.UID, "%s: %s mixes datasources", file, p.Title)
				switch tg.Datasource.Type {
				case "mysql":
					require.NotEmpty(t, tg.RawSQL, "%s: %s", file, p.Title)
					require.Contains(t, []string{"table", "time_series"}, tg.Format, "%s: %s", file, p.Title)
				case "prometheus":
					_, err := promParser.ParseExpr(promExpr(tg.Expr))
					require.NoError(t, err, "%s: %s: %s", file, p.Title, tg.Expr)
				}
			}
		}
		for _, v := range d.Templating.List {
			if v.Type == "query" {
				check("variable "+v.Name, v.Datasource)
			}
		}
		for _, a := range d.Annotations.List {
			if a.Datasource != nil && a.Datasource.Type != "grafana" {
				check("annotation", a.Datasource)
			}
		}
	}
	names := make([]string, 0, len(titles))
	for n := range titles {
		names = append(names, n)
	}
	sort.Strings(names)
	require.Equal(t, []string{"Pipeline health", "SLA overview", "Series detail"}, names)
	require.Len(t, titles, len(dashes), "titles are unique")
}

// TestDashboardProvisioningPaths checks that Grafana in docker-compose reads
// the dashboards where the provider looks for them.
func TestDashboardProvisioningPaths(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "grafana", "provisioning", "dashboards", "slapipe.yml"))
	require.NoError(t, err)
	var doc struct {
		Providers []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	require.Len(t, doc.Providers, 1)
	require.Equal(t, "file", doc.Providers[0].Type)
	mounts := map[string]string{}
	for _, v := range loadCompose(t).Services["grafana"].Volumes {
		rel, err := filepath.Rel(mustAbs(t, repoRoot), v.Source)
		require.NoError(t, err)
		mounts[v.Target] = rel
	}
	require.Equal(t, filepath.Join("grafana", "dashboards"), mounts[doc.Providers[0].Options.Path])
	require.Equal(t, filepath.Join("grafana", "provisioning"), mounts["/etc/grafana/provisioning"])
}

func mustAbs(t testing.TB, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	require.NoError(t, err)
	return a
}

// promParser parses the dashboards' PromQL as Prometheus does.
var promParser = parser.NewParser(parser.Options{})

var grafanaPromVar = regexp.MustCompile(`\$__(rate_interval|interval|range)\b`)

// promExpr replaces Grafana's range variables by a duration so the
// expression parses as Prometheus receives it.
func promExpr(expr string) string {
	return grafanaPromVar.ReplaceAllString(expr, "1m")
}

// promMetricNames lists the metric names an expression selects.
func promMetricNames(t testing.TB, expr string) []string {
	t.Helper()
	e, err := promParser.ParseExpr(promExpr(expr))
	require.NoError(t, err, expr)
	var out []string
	for _, vs := range parser.ExtractSelectors(e) {
		for _, m := range vs {
			if m.Name == "__name__" {
				out = append(out, m.Value)
			}
		}
	}
	return out
}

// familyOf maps a series name to its metric family (histogram and summary
// series carry suffixes).
func familyOf(name string) string {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, s); ok {
			return base
		}
	}
	return name
}
