package analysis

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDecodeInput(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Input
	}{
		{"full", `{"step_seconds": 5, "values": [1.5, null, 2.0], "horizon": 120}`,
			Input{StepSeconds: 5, Values: []float64{1.5, nan, 2}, Horizon: 120}},
		{"period and horizon null", `{"step_seconds":0.5,"values":[1,2,3,4],"period":null,"horizon":null}`,
			Input{StepSeconds: 0.5, Values: []float64{1, 2, 3, 4}}},
		{"period given", `{"step_seconds":5,"values":[1,2,3,4],"period":2}`,
			Input{StepSeconds: 5, Values: []float64{1, 2, 3, 4}, Period: 2}},
		{"unknown fields and whitespace", " \n{\"name\": {\"a\": [true, false, \"x\\\"y\"]},\t\"step_seconds\" : 1e0 ,\r\n \"values\":[ -0 , 1E2 ,null ] }\n",
			Input{StepSeconds: 1, Values: []float64{0, 100, nan}}},
		{"escaped key", `{"step_seconds":5,"val\u0075es":[3]}`, Input{StepSeconds: 5, Values: []float64{3}}},
		{"duplicate key: last wins", `{"step_seconds":1,"values":[9],"step_seconds":2,"values":[1,2]}`,
			Input{StepSeconds: 2, Values: []float64{1, 2}}},
		{"case input object", `{"step_seconds": 5, "values": [1, 2, 3, 4, 5, 6], "period": 3, "horizon": 7, "extra": null}`,
			Input{StepSeconds: 5, Values: []float64{1, 2, 3, 4, 5, 6}, Period: 3, Horizon: 7}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeInput(strings.NewReader(c.in))
			if err != nil {
				t.Fatalf("DecodeInput: %v", err)
			}
			if got.StepSeconds != c.want.StepSeconds || got.Period != c.want.Period || got.Horizon != c.want.Horizon {
				t.Errorf("got step %v period %d horizon %d, want %v %d %d", got.StepSeconds, got.Period, got.Horizon,
					c.want.StepSeconds, c.want.Period, c.want.Horizon)
			}
			if len(got.Values) != len(c.want.Values) {
				t.Fatalf("values %v, want %v", got.Values, c.want.Values)
			}
			for i, w := range c.want.Values {
				if g := got.Values[i]; g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
					t.Errorf("values[%d] = %v, want %v", i, g, w)
				}
			}
		})
	}
}

func TestDecodeInputRejects(t *testing.T) {
	cases := []struct {
		name, in, msg string
	}{
		{"empty", "", "empty input"},
		{"blank", " \n\t", "empty input"},
		{"not json", "step_seconds=5", "not valid JSON"},
		{"truncated", `{"step_seconds": 5, "values": [1, 2`, "not valid JSON"},
		{"trailing garbage", `{"step_seconds": 5, "values": [1]} x`, "after the JSON object"},
		{"trailing NUL", "{\"step_seconds\": 5, \"values\": [1]}\x00", "after the JSON object"},
		{"two objects", `{"step_seconds": 5, "values": [1]}{}`, "after the JSON object"},
		{"array", `[1, 2, 3]`, "want a JSON object"},
		{"number", `42`, "want a JSON object"},
		{"null document", `null`, "step_seconds is missing"},
		{"no step", `{"values": [1, 2]}`, "step_seconds is missing"},
		{"zero step", `{"step_seconds": 0, "values": [1]}`, "step_seconds must be a positive"},
		{"negative step", `{"step_seconds": -5, "values": [1]}`, "step_seconds must be a positive"},
		{"string step", `{"step_seconds": "5", "values": [1]}`, `field "step_seconds": want a number`},
		{"no values", `{"step_seconds": 5}`, "values is missing or empty"},
		{"null values", `{"step_seconds": 5, "values": null}`, "values is missing or empty"},
		{"empty values", `{"step_seconds": 5, "values": []}`, "values is missing or empty"},
		{"values not an array", `{"step_seconds": 5, "values": {"a": 1}}`, `field "values": want an array`},
		{"all gaps", `{"step_seconds": 5, "values": [null, null]}`, "every value is a gap"},
		{"NaN token", `{"step_seconds": 5, "values": [1, NaN]}`, "not valid JSON"},
		{"Infinity token", `{"step_seconds": 5, "values": [Infinity]}`, "not valid JSON"},
		{"negative Infinity token", `{"step_seconds": 5, "values": [-Infinity]}`, "not valid JSON"},
		{"overflowing number", `{"step_seconds": 5, "values": [1, 1e400]}`, "element 1: number 1e400 is out of range"},
		{"huge value", `{"step_seconds": 5, "values": [1, 1e200]}`, "values[1] must be finite and within"},
		{"string value", `{"step_seconds": 5, "values": [1, "2"]}`, "element 1: want a number or null"},
		{"leading zero", `{"step_seconds": 5, "values": [01]}`, "not valid JSON"},
		{"syntax error after type error", `{"step_seconds": "5", "values": [1,]}`, "not valid JSON"},
		{"horizon zero", `{"step_seconds": 5, "values": [1], "horizon": 0}`, "horizon must be between 1 and 100000 (got 0)"},
		{"horizon negative", `{"step_seconds": 5, "values": [1], "horizon": -3}`, "horizon must be between 1 and 100000"},
		{"horizon huge", `{"step_seconds": 5, "values": [1], "horizon": 100001}`, "horizon must be between 1 and 100000 (got 100001)"},
		{"horizon overflow", `{"step_seconds": 5, "values": [1], "horizon": 1e30}`, `field "horizon": want an integer`},
		{"horizon fractional", `{"step_seconds": 5, "values": [1], "horizon": 1.5}`, `field "horizon": want an integer, got 1.5`},
		{"period zero", `{"step_seconds": 5, "values": [1, 2, 3, 4], "period": 0}`, "period must be at least 2"},
		{"period one", `{"step_seconds": 5, "values": [1, 2, 3, 4], "period": 1}`, "period must be at least 2"},
		{"period above n/2", `{"step_seconds": 5, "values": [1, 2, 3, 4, 5], "period": 3}`, "period must be between 2 and n/2 = 2 (got 3)"},
		{"period on a short series", `{"step_seconds": 5, "values": [1, 2, 3], "period": 2}`, "needs at least 4 values"},
		{"period string", `{"step_seconds": 5, "values": [1, 2, 3, 4], "period": "2"}`, `field "period": want an integer`},
		{"bad escape", `{"step_seconds": 5, "val\ues": [1]}`, "not valid JSON"},
		{"control character in string", "{\"a\tb\": 1}", "not valid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeInput(strings.NewReader(c.in))
			if err == nil {
				t.Fatalf("DecodeInput(%q) succeeded", c.in)
			}
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("error %q does not wrap ErrInvalidInput", err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, c.msg) {
				t.Errorf("error %q, want one line containing %q", msg, c.msg)
			}
		})
	}
}

func TestDecodeInputSentinels(t *testing.T) {
	_, err := DecodeInput(strings.NewReader(`{"step_seconds": 5, "values": [null]}`))
	if !errors.Is(err, ErrAllGaps) {
		t.Errorf("all gaps: %v does not wrap ErrAllGaps", err)
	}
	_, err = DecodeInput(strings.NewReader(`{"step_seconds": 5, "values": []}`))
	if !errors.Is(err, ErrNoValues) {
		t.Errorf("no values: %v does not wrap ErrNoValues", err)
	}
}

func TestDecodeInputDepth(t *testing.T) {
	// encoding/json's limit is 10000 nested levels, the top object included.
	doc := func(depth int) string {
		return `{"step_seconds":5,"values":[1],"x":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
	}
	if _, err := DecodeInput(strings.NewReader(doc(maxJSONDepth))); err != nil {
		t.Errorf("depth %d: %v", maxJSONDepth, err)
	}
	if _, err := DecodeInput(strings.NewReader(doc(maxJSONDepth + 1))); err == nil {
		t.Errorf("depth %d accepted", maxJSONDepth+1)
	}
}
