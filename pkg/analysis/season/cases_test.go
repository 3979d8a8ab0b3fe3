package season

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
	var cases []refCase
	for _, f := range refcase.Load[refCase](t, filepath.Join("..", "testdata", "cases", "*.json")) {
		c := f.Case
		c.file = f.Name
		c.x = refcase.Values(c.Input.Values)
		c.x = series.FillGaps(c.x, c.x)
		cases = append(cases, c)
	}
	return cases
}
