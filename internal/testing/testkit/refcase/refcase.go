// Package refcase loads the analysis reference cases (JSON files made by
// scripts/gen-cases.py and scripts/statsref.py) for the tests of the
// analysis packages, each decoding the fields it checks.
package refcase

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// File is one decoded case and the file it came from.
type File[T any] struct {
	// Name is the file's base name, e.g. "ar1_gaps.json".
	Name string
	// Dir is the directory it was found in, as the pattern spelled it.
	Dir  string
	Case T
}

// Load decodes every file matching patterns (filepath.Glob) into a T, in
// pattern then name order. The test fails when a file does not decode or
// nothing matches at all, so that a broken checkout cannot pass vacuously.
func Load[T any](t testing.TB, patterns ...string) []File[T] {
	t.Helper()
	var out []File[T]
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil {
			t.Fatalf("reference cases %q: %v", p, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c T
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, File[T]{Name: filepath.Base(f), Dir: filepath.Dir(f), Case: c})
		}
	}
	if len(out) == 0 {
		t.Fatalf("no reference cases in %q", patterns)
	}
	return out
}

// Values turns a case's values, JSON null for a gap, into floats with NaN
// for the gaps.
func Values(v []*float64) []float64 {
	out := make([]float64, len(v))
	for i, p := range v {
		out[i] = math.NaN()
		if p != nil {
			out[i] = *p
		}
	}
	return out
}

// Input is a case's input as `slapipe analyze` reads it (docs/analyze.md),
// JSON null marking a gap.
type Input struct {
	StepSeconds float64    `json:"step_seconds"`
	Values      []*float64 `json:"values"`
	Period      *int       `json:"period"`
	Horizon     int        `json:"horizon"`
}
