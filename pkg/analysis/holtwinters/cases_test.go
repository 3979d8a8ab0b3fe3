package holtwinters

import (
	"path/filepath"
	"testing"

	"github.com/slapipe/slapipe/internal/testing/testkit/refcase"
	"github.com/slapipe/slapipe/pkg/analysis/internal/series"
)

// refCase is one statsmodels 0.13.5 reference case of the analysis package
// (../testdata/cases), reduced to the fields this package checks.
type refCase struct {
	Name      string        `json:"name"`
	Family    string        `json:"family"`
	Input     refcase.Input `json:"input"`
	Future    []float64     `json:"future"`
	Reference struct {
		Forecasts *struct {
			SES         []float64 `json:"ses"`
			HoltWinters []float64 `json:"holt_winters"`
		} `json:"reference_forecasts"`
	} `json:"reference"`

	file string
	x    []float64 // gaps filled
	raw  []float64 // gaps as NaN
	own  bool      // from this package's testdata
}

// loadCases reads the reference cases that have a held-out future and
// statsmodels forecasts: the analysis package's (../testdata/cases) and
// this package's own (testdata/hw_*.json: seasonal series shaped like the
// node_exporter families, counters and noise, made by a seeded numpy
// generator and run through scripts/statsref.py). It fills
// gaps as the contract says: linear interpolation, nearest value at the
// edges.
func loadCases(t testing.TB) []refCase {
	t.Helper()
	var cases []refCase
	for _, f := range refcase.Load[refCase](t, filepath.Join("..", "testdata", "cases", "*.json"), filepath.Join("testdata", "hw_*.json")) {
		c := f.Case
		if len(c.Future) == 0 || c.Reference.Forecasts == nil || len(c.Reference.Forecasts.HoltWinters) == 0 {
			continue
		}
		c.file = f.Name
		c.own = f.Dir == "testdata"
		c.raw = refcase.Values(c.Input.Values)
		c.x = series.FillGaps(nil, c.raw)
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatal("no reference case with a future in ../testdata/cases")
	}
	return cases
}
