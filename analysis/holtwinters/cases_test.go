package holtwinters

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/slapipe/slapipe/analysis/internal/series"
)

// refCase is one statsmodels 0.13.5 reference case of the analysis package
// (../testdata/cases), reduced to the fields this package checks.
type refCase struct {
	Name   string `json:"name"`
	Family string `json:"family"`
	Input  struct {
		Values  []*float64 `json:"values"`
		Period  *int       `json:"period"`
		Horizon int        `json:"horizon"`
	} `json:"input"`
	Future    []float64 `json:"future"`
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
	var files []string
	for _, pattern := range []string{
		filepath.Join("..", "testdata", "cases", "*.json"),
		filepath.Join("testdata", "hw_*.json"),
	} {
		f, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f...)
	}
	var cases []refCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c refCase
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(c.Future) == 0 || c.Reference.Forecasts == nil || len(c.Reference.Forecasts.HoltWinters) == 0 {
			continue
		}
		c.file = filepath.Base(f)
		c.own = filepath.Dir(f) == "testdata"
		c.raw = make([]float64, len(c.Input.Values))
		for i, v := range c.Input.Values {
			c.raw[i] = math.NaN()
			if v != nil {
				c.raw[i] = *v
			}
		}
		c.x = series.FillGaps(nil, c.raw)
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatal("no reference case with a future in ../testdata/cases")
	}
	return cases
}
