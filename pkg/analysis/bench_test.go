package analysis

import (
	"bytes"
	"encoding/json"
	"testing"
)

// benchCase returns the input of an 8640-sample (12 h at 5 s) reference
// case, so that the figures compare with statsmodels' timings in the same
// file (reference_seconds).
func benchCase(b *testing.B, name string) Input {
	b.Helper()
	for _, c := range loadCases(b) {
		if c.Name == name {
			in := caseInput(b, c)
			if len(in.Values) != 8640 {
				b.Fatalf("%s has %d samples, want 8640", c.Name, len(in.Values))
			}
			return in
		}
	}
	b.Fatalf("reference case %s not found", name)
	return Input{}
}

// benchSeries is the series the per-stage benchmarks share.
func benchSeries(b *testing.B) Input { return benchCase(b, "cpu_rate_1_001") }

func BenchmarkSummarize(b *testing.B) {
	in := benchSeries(b)
	b.ReportAllocs()
	for b.Loop() {
		Summarize(in.Values)
	}
}

func BenchmarkFillGaps(b *testing.B) {
	in := benchSeries(b)
	// Punch 5 % gaps so that the interpolation runs.
	v := append([]float64(nil), in.Values...)
	for i := 3; i < len(v); i += 20 {
		v[i] = nan
	}
	dst := make([]float64, len(v))
	b.ReportAllocs()
	for b.Loop() {
		dst = FillGaps(dst, v)
	}
}

func BenchmarkADF(b *testing.B) {
	x := benchSeries(b).Values
	b.ReportAllocs()
	for b.Loop() {
		if Adfuller(x) == nil {
			b.Fatal("nil ADF")
		}
	}
}

func BenchmarkACF(b *testing.B) {
	x := benchSeries(b).Values
	k := DefaultACFLags(len(x))
	b.ReportAllocs()
	for b.Loop() {
		ACF(x, k)
	}
}

// BenchmarkAnalyze times the whole analysis: a seasonal series with its
// period given (720, the slowest forecast), the same series with the season
// detected, and a random walk (no season found).
func BenchmarkAnalyze(b *testing.B) {
	cases := []struct {
		name, file string
		detect     bool
	}{
		{"period-720-given", "cpu_rate_1_001", false},
		{"period-detected", "cpu_rate_1_001", true},
		{"random-walk", "random_walk_1_005", true},
	}
	for _, c := range cases {
		in := benchCase(b, c.file)
		if c.detect {
			in.Period = 0
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Analyze(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeInput(b *testing.B) {
	in := benchSeries(b)
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(map[string]any{
		"step_seconds": in.StepSeconds, "values": in.Values, "period": in.Period, "horizon": in.Horizon,
	}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeInput(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
