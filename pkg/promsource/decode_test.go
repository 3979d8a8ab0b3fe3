package promsource

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// refDecode is the reference reading of a query_range answer: encoding/json
// into generic values (exact key match, last duplicate wins), then the same
// shape rules as decodeMatrix. ok is false when the body is not valid JSON
// of that shape.
func refDecode(body []byte) (r *matrixResponse, ok bool) {
	var top any
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, false
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, false
	}
	str := func(v any, dst *string) bool {
		switch s := v.(type) {
		case nil:
			return true
		case string:
			*dst = s
			return true
		}
		return false
	}
	r = &matrixResponse{}
	for k, v := range obj {
		switch k {
		case "status":
			ok = str(v, &r.status)
		case "errorType":
			ok = str(v, &r.errorType)
		case "error":
			ok = str(v, &r.errMsg)
		case "warnings":
			ws, isArr := v.([]any)
			ok = isArr
			for _, w := range ws {
				var s string
				ok = ok && str(w, &s)
				r.warnings = append(r.warnings, s)
			}
		case "data":
			ok = refData(v, r, str)
		}
		if !ok {
			return nil, false
		}
	}
	return r, true
}

func refData(v any, r *matrixResponse, str func(any, *string) bool) bool {
	data, ok := v.(map[string]any)
	if !ok {
		return false
	}
	if rt, has := data["resultType"]; has && !str(rt, &r.resultType) {
		return false
	}
	res, has := data["result"]
	if !has {
		return true
	}
	arr, ok := res.([]any)
	if !ok {
		return false
	}
	for _, e := range arr {
		so, ok := e.(map[string]any)
		if !ok {
			return false
		}
		s := rawSeries{metric: map[string]string{}}
		if m, has := so["metric"]; has {
			mo, ok := m.(map[string]any)
			if !ok {
				return false
			}
			for k, lv := range mo {
				var val string
				if !str(lv, &val) {
					return false
				}
				s.metric[k] = val
			}
		}
		if vs, has := so["values"]; has {
			va, ok := vs.([]any)
			if !ok {
				return false
			}
			for _, p := range va {
				pair, ok := p.([]any)
				if !ok || len(pair) != 2 {
					return false
				}
				t, ok1 := pair[0].(float64)
				sv, ok2 := pair[1].(string)
				if !ok1 || !ok2 {
					return false
				}
				f, err := strconv.ParseFloat(sv, 64)
				if err != nil {
					return false
				}
				s.ts = append(s.ts, int64(math.Round(t*1000)))
				s.vals = append(s.vals, f)
			}
		}
		r.result = append(r.result, s)
	}
	return true
}

// hasDuplicateKeys reports whether an object of the (valid) JSON body
// repeats a key.
func hasDuplicateKeys(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		keys  map[string]bool
		isObj bool
		key   bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.isObj && top.key {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, isObj: true, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].isObj {
			stack[len(stack)-1].key = true // a value ended: a key comes next
		}
	}
}

func requireSameResponse(t *testing.T, want, got *matrixResponse) {
	t.Helper()
	require.Equal(t, want.status, got.status)
	require.Equal(t, want.errorType, got.errorType)
	require.Equal(t, want.errMsg, got.errMsg)
	require.Equal(t, want.resultType, got.resultType)
	require.Equal(t, len(want.warnings), len(got.warnings))
	for i := range want.warnings {
		require.Equal(t, want.warnings[i], got.warnings[i])
	}
	require.Len(t, got.result, len(want.result))
	for i, w := range want.result {
		g := got.result[i]
		require.Equal(t, w.metric, g.metric, "series %d", i)
		require.Equal(t, len(w.ts), len(g.ts), "series %d", i)
		for j := range w.ts {
			require.Equal(t, w.ts[j], g.ts[j], "series %d sample %d", i, j)
			require.True(t, w.vals[j] == g.vals[j] || (math.IsNaN(w.vals[j]) && math.IsNaN(g.vals[j])),
				"series %d sample %d: want %v got %v", i, j, w.vals[j], g.vals[j])
		}
	}
}

const trickyBody = `{
  "status" : "success",
  "data":{"resultType":"matrix","result":[
    {"metric":{"__name__":"node_cpu_seconds_total","cpu":"0","q":"a\"b\\c\/d\u00e9\ud83d\ude00\n","emoji":"µs ✓"},
     "values":[[1700000000,"1"],[1700000005.5,"2.5e3"],[1700000010.123,"NaN"],[1700000015,"+Inf"],[1700000020,"-Inf"],[1700000025,"-0.000001"]]},
    {"metric":{},"values":[]},
    {"metric":{"__name__":"h"},"histograms":[[1700000000,{"count":"1","sum":"2","buckets":[[0,"0","1","1"]]}]]},
    {"values":[[1.7e9,"3"]],"metric":{"lone":"\ud800x"}}
  ]},
  "warnings":["slow", null],
  "infos":["x"],
  "stats":{"timings":{"evalTotalTime":0.1}}
}`

func TestDecodeMatrix(t *testing.T) {
	got, err := decodeMatrix([]byte(trickyBody), 4)
	require.NoError(t, err)
	want, ok := refDecode([]byte(trickyBody))
	require.True(t, ok)
	requireSameResponse(t, want, got)
	// And the values known by construction.
	require.Equal(t, "a\"b\\c/dé😀\n", got.result[0].metric["q"])
	require.Equal(t, []int64{1700000000000, 1700000005500, 1700000010123, 1700000015000, 1700000020000, 1700000025000}, got.result[0].ts)
	require.Equal(t, 2500.0, got.result[0].vals[1])
	require.True(t, math.IsInf(got.result[0].vals[3], 1))
	require.Equal(t, "\ufffdx", got.result[3].metric["lone"])
	require.Equal(t, []string{"slow", ""}, got.warnings)

	bad := []string{
		``, `[]`, `{`, `{"status":"success"`, `{"data":{"result":[{"values":[[1,2]]}]}}`,
		`{"data":{"result":[{"values":[[1,"x"]]}]}}`, `{"data":{"result":[{"values":[[1,"1","2"]]}]}}`,
		`{"data":{"result":[{"values":[["1","1"]]}]}}`, `{"status":"success"} x`, `{"status":tru}`,
		`{"data":{"result":[{"values":[[1,"1\u0030"]]}]}}`, `{"a":"` + "\x01" + `"}`, `{"data":{"result":[{"metric":{"a":1}}]}}`,
	}
	for _, b := range bad {
		_, err := decodeMatrix([]byte(b), 0)
		require.True(t, errors.Is(err, errSyntax), "body %q: err %v", b, err)
	}

	// An unknown field nested as deep as encoding/json accepts (the
	// enclosing object is its first level) is skipped; deeper is an error,
	// not a stack overflow.
	nested := func(depth int) []byte {
		return []byte(`{"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `,"status":"success"}`)
	}
	_, err = decodeMatrix(nested(maxDepth-1), 0)
	require.NoError(t, err)
	_, ok = refDecode(nested(maxDepth - 1))
	require.True(t, ok, "encoding/json accepts the same depth")
	_, err = decodeMatrix(nested(maxDepth+1), 0)
	require.ErrorIs(t, err, errSyntax)
	require.ErrorContains(t, err, "nested deeper than 10000")
}

func FuzzDecodeMatrix(f *testing.F) {
	f.Add([]byte(trickyBody))
	f.Add([]byte(`{"status":"error","errorType":"bad_data","error":"parse error"}`))
	f.Add([]byte(`{"data":{"result":[{"metric":{"a":"b"},"values":[[1,"2"]]}],"result":[]}}`))
	f.Add([]byte(`{"data":{"result":[{"values":[[1,"2"]],"values":[[3,"4"]]}]}}`))
	f.Add([]byte(`{"x":[1,{"y":[true,false,null,-1.5e-3]}],"data":{"result":null}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeMatrix(body, 0)
		want, ok := refDecode(body)
		if !ok || hasDuplicateKeys(body) || hasEscapedSampleValue(body) {
			// The decoder may be more lenient than encoding/json, never
			// stricter, with one deliberate exception: it refuses escapes
			// in sample-value strings (Prometheus writes plain numbers,
			// NaN and ±Inf there), so those bodies are skipped. With
			// duplicate keys the generic reference keeps only the last
			// value, whatever the type of the first.
			return
		}
		require.NoError(t, err, "valid body refused")
		requireSameResponse(t, want, got)
	})
}

func TestTimestampMs(t *testing.T) {
	cases := []struct {
		in   string
		want int64
	}{
		{"1700000000", 1700000000000}, {"1700000005.5", 1700000005500}, {"1700000010.123", 1700000010123},
		{"1700000010.05", 1700000010050}, {"0", 0}, {"1.", 1000}, {"-1.5", -1500}, {"1.0005", 1001},
		{"1e3", 1000000}, {"999999999999.999", 999999999999999}, {"1700000000.1234", 1700000000123},
	}
	for _, c := range cases {
		got, ok := timestampMs([]byte(c.in))
		require.True(t, ok, c.in)
		require.Equal(t, c.want, got, c.in)
		f, err := strconv.ParseFloat(c.in, 64)
		require.NoError(t, err)
		require.Equal(t, int64(math.Round(f*1000)), got, "%s differs from the float reading", c.in)
	}
	for _, bad := range []string{"", "x", "1.2.3", "--1"} {
		_, ok := timestampMs([]byte(bad))
		require.False(t, ok, bad)
	}
}

func TestHasDuplicateKeys(t *testing.T) {
	require.True(t, hasDuplicateKeys([]byte(`{"x":{"a":1,"b":[{"a":1}],"a":2}}`)))
	require.True(t, hasDuplicateKeys([]byte(`[{"a":{},"a":[]}]`)))
	require.False(t, hasDuplicateKeys([]byte(trickyBody)))
	require.False(t, hasDuplicateKeys([]byte(`{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}`)))
}

// hasEscapedSampleValue reports whether a sample-value string of a valid
// query_range body (data.result[].values[][1]) contains a backslash: the
// one case where decodeMatrix is stricter than encoding/json. Keys match
// exactly and the last duplicate wins, as in refDecode.
func hasEscapedSampleValue(body []byte) bool {
	var top, data map[string]json.RawMessage
	var result []json.RawMessage
	if json.Unmarshal(body, &top) != nil || json.Unmarshal(top["data"], &data) != nil ||
		json.Unmarshal(data["result"], &result) != nil {
		return false
	}
	for _, r := range result {
		var series map[string]json.RawMessage
		var values [][]json.RawMessage
		if json.Unmarshal(r, &series) != nil || json.Unmarshal(series["values"], &values) != nil {
			continue
		}
		for _, pair := range values {
			if len(pair) == 2 && bytes.IndexByte(pair[1], '\\') >= 0 {
				return true
			}
		}
	}
	return false
}

func TestHasEscapedSampleValue(t *testing.T) {
	cases := []struct {
		body string
		want bool
	}{
		{`{"data":{"result":[{"values":[[1,"1\u0030"]]}]}}`, true},
		{`{"data":{"result":[{"metric":{},"values":[[1,"2"]]},{"values":[[1,"\/"],[2,"3"]]}]}}`, true},
		{trickyBody, false}, // escapes in label values only
		{`{"data":{"result":[{"metric":{"a":"\n"},"values":[[1,"2"]]}]}}`, false},
		{`{"data":{"result":null}}`, false},
		{`{"status":"error","error":"x\"y"}`, false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, hasEscapedSampleValue([]byte(c.body)), c.body)
	}
}

// matrixBody is a query_range answer of n series x points samples at 5 s,
// shaped as Prometheus writes it.
func matrixBody(n, points int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"metric":{"__name__":"node_cpu_seconds_total","cpu":"` + strconv.Itoa(i) + `","instance":"bench:9100","job":"node","mode":"idle"},"values":[`)
		for j := range points {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`[` + strconv.Itoa(1700000000+5*j) + `,"` + strconv.FormatFloat(1e6+float64(j)*4.37, 'f', -1, 64) + `"]`)
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}

// BenchmarkDecodeMatrix reads 20 series x 12 h at 5 s; compare with
// BenchmarkDecodeMatrixEncodingJSON, client_golang's way (model.Matrix).
func BenchmarkDecodeMatrix(b *testing.B) {
	body := matrixBody(20, 8641)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeMatrix(body, 8641); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeMatrixEncodingJSON(b *testing.B) {
	body := matrixBody(20, 8641)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var r struct {
			Data struct {
				Result model.Matrix `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			b.Fatal(err)
		}
	}
}
