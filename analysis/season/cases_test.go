package season

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
		StepSeconds float64    `json:"step_seconds"`
		Values      []*float64 `json:"values"`
		Period      *int       `json:"period"`
		Horizon     int        `json:"horizon"`
	} `json:"input"`
	Reference struct {
		Seasonality *struct {
			Period int `json:"period"`
		} `json:"seasonality"`
	} `json:"reference"`

	file string
	x    []float64 // gaps filled
}

// loadCases reads every reference case and fills its gaps as the contract
// says: linear interpolation, nearest value at the edges.
func loadCases(t testing.TB) []refCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "cases", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no reference cases in ../testdata/cases")
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
		c.file = filepath.Base(f)
		c.x = make([]float64, len(c.Input.Values))
		for i, v := range c.Input.Values {
			c.x[i] = math.NaN()
			if v != nil {
				c.x[i] = *v
			}
		}
		c.x = series.FillGaps(c.x, c.x)
		cases = append(cases, c)
	}
	return cases
}
