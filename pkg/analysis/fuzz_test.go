package analysis

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// oracleDoc parses data with encoding/json into the struct DecodeInput's
// scanner stands for. comparable is false when a top-level key matches a
// field only case-insensitively: encoding/json accepts that, the scanner
// (like the contract) wants the exact name.
func oracleDoc(data []byte) (doc inputJSON, ok, comparable bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) == nil {
		for k := range top {
			for _, name := range []string{"step_seconds", "values", "period", "horizon"} {
				if k != name && strings.EqualFold(k, name) {
					return doc, false, false
				}
			}
		}
	}
	var ref struct {
		StepSeconds *float64   `json:"step_seconds"`
		Values      []*float64 `json:"values"`
		Period      *int       `json:"period"`
		Horizon     *int       `json:"horizon"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		return doc, false, true
	}
	doc = inputJSON{StepSeconds: ref.StepSeconds, Period: ref.Period, Horizon: ref.Horizon}
	if ref.Values != nil {
		doc.Values = make([]float64, len(ref.Values))
		for i, v := range ref.Values {
			doc.Values[i] = math.NaN()
			if v != nil {
				doc.Values[i] = *v
			}
		}
	}
	return doc, true, true
}

func sameDoc(a, b inputJSON) bool {
	eqF := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	eqI := func(x, y *int) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	if !eqF(a.StepSeconds, b.StepSeconds) || !eqI(a.Period, b.Period) || !eqI(a.Horizon, b.Horizon) ||
		(a.Values == nil) != (b.Values == nil) || len(a.Values) != len(b.Values) {
		return false
	}
	for i := range a.Values {
		x, y := a.Values[i], b.Values[i]
		if x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
			return false
		}
	}
	return true
}

// checkResult asserts what Analyze guarantees for a valid input: sizes as the
// contract says and a result that encodes as JSON (only finite numbers).
func checkResult(t *testing.T, in Input, res *Result) {
	t.Helper()
	if res.N != len(in.Values) {
		t.Fatalf("n = %d, want %d", res.N, len(in.Values))
	}
	if res.ACF != nil && len(res.ACF) != DefaultACFLags(res.N)+1 {
		t.Fatalf("acf has %d lags, want %d", len(res.ACF), DefaultACFLags(res.N)+1)
	}
	if s := res.Seasonality; s != nil && (len(s.Seasonal) != s.Period || s.Strength < 0 || s.Strength > 1 ||
		(in.Period != 0 && (s.Period != in.Period || s.Detected))) {
		t.Fatalf("seasonality %+v for period %d", s, in.Period)
	}
	if f := res.Forecast; f != nil {
		want := in.Horizon
		if want == 0 {
			want = DefaultHorizon
		}
		if f.Horizon != want || len(f.Mean) != want || len(f.Lower) != want || len(f.Upper) != want {
			t.Fatalf("forecast horizon %d with %d/%d/%d values, want %d", f.Horizon, len(f.Mean), len(f.Lower), len(f.Upper), want)
		}
	}
	if _, err := json.Marshal(res); err != nil {
		t.Fatalf("result does not encode: %v", err)
	}
}

func FuzzDecodeInput(f *testing.F) {
	for _, s := range []string{
		`{"step_seconds": 5, "values": [1.5, null, 2.0], "period": 2, "horizon": 120}`,
		`{"step_seconds": 5, "values": [1, 2, 3, 4, 5, 6, 7, 8], "period": 4, "horizon": 3}`,
		`{"step_seconds": 1e-3, "values": [null, -0, 1e-300, 5e99], "period": null}`,
		`{"step_seconds": 5, "values": [1, 2], "x": {"y": [true, false, null, "\u00e9\"\\"]}}`,
		`[1, 2]`, `null`, `{"values": [NaN]}`, `{"step_seconds": 5, "values": [1,]}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := jsonScanner{b: data}
		doc, err := sc.document()
		if err == nil {
			err = sc.typeErr
		}
		want, ok, comparable := oracleDoc(data)
		if comparable && (err == nil) != ok {
			t.Fatalf("scanner error %v, encoding/json ok %v", err, ok)
		}
		if comparable && ok && !sameDoc(doc, want) {
			t.Fatalf("scanner read %+v, encoding/json %+v", doc, want)
		}
		in, err := DecodeInput(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		res, err := Analyze(in)
		if err != nil {
			t.Fatalf("DecodeInput accepted what Analyze rejects: %v", err)
		}
		checkResult(t, in, res)
	})
}

// FuzzAnalyze feeds Analyze arbitrary float64 bit patterns (NaN, ±Inf,
// subnormals, huge values), steps, periods and horizons: it must either
// reject the input with ErrInvalidInput or return an encodable result.
func FuzzAnalyze(f *testing.F) {
	enc := func(xs ...float64) []byte {
		b := make([]byte, 8*len(xs))
		for i, x := range xs {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b
	}
	f.Add(5.0, 0, 0, enc(1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
	f.Add(5.0, 2, 3, enc(1, 5, 1, 5, 1, 5, 1, 6))
	f.Add(1.0, 0, 1, enc(nan, 3, nan, 3, 3, nan))
	f.Add(5.0, 0, 10, enc(1e12, 1e12+1, 1e12-1, 1e12+0.5, 1e12, 1e12+2))
	f.Add(5.0, 0, 5, enc(0, 1e-310, -1e-310, 2e-310, 0, 5e-324))
	f.Add(-1.0, 0, 0, enc(1))
	f.Add(5.0, 0, 0, enc(math.Inf(1), 1))
	f.Fuzz(func(t *testing.T, step float64, period, horizon int, raw []byte) {
		if len(raw) > 8*4096 {
			raw = raw[:8*4096] // keep each run fast
		}
		values := make([]float64, len(raw)/8)
		for i := range values {
			values[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		in := Input{StepSeconds: step, Values: values, Period: period, Horizon: horizon % (MaxHorizon + 2)}
		res, err := Analyze(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error %v does not wrap ErrInvalidInput", err)
			}
			if in.Validate() == nil {
				t.Fatalf("Analyze rejected a valid input: %v", err)
			}
			return
		}
		checkResult(t, in, res)
	})
}
