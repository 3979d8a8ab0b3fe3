package season

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
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
			Period   int       `json:"period"`
			Seasonal []float64 `json:"seasonal"`
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
		c.x = fillGaps(c.Input.Values)
		cases = append(cases, c)
	}
	return cases
}

func fillGaps(v []*float64) []float64 {
	x := make([]float64, len(v))
	prev := -1
	for i, p := range v {
		if p == nil {
			continue
		}
		x[i] = *p
		if prev < 0 {
			for j := 0; j < i; j++ {
				x[j] = *p
			}
		} else {
			for j := prev + 1; j < i; j++ {
				f := float64(j-prev) / float64(i-prev)
				x[j] = x[prev] + f*(*p-x[prev])
			}
		}
		prev = i
	}
	if prev < 0 {
		for i := range x {
			x[i] = math.NaN()
		}
		return x
	}
	for j := prev + 1; j < len(x); j++ {
		x[j] = x[prev]
	}
	return x
}
