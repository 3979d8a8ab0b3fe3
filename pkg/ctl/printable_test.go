package ctl_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/pkg/ctl"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

func TestPrintable(t *testing.T) {
	cases := map[string]string{
		"plain":            "plain",
		"é ü 日本":           "é ü 日本",
		"a\x1b[31mred":     `a\x1b[31mred`,
		"bell\a":           `bell\x07`,
		"zero\u200bwidth":  `zero\u200bwidth`,
		"bidi\u202eevil":   `bidi\u202eevil`,
		"c1\u009bcsi":      `c1\u009bcsi`,
		"bad\xffutf8":      `bad\xffutf8`,
		"two\nlines":       `two\x0alines`,
		"del\x7f":          `del\x7f`,
		"real \uFFFD kept": "real \uFFFD kept",
	}
	for in, want := range cases {
		require.Equal(t, want, ctl.Printable(in), "%+q", in)
	}
}

// hostileSet is an SLA set as a compromised or buggy store could hold it.
func hostileSet() *slapipev1.SLASet {
	return &slapipev1.SLASet{Version: 3, Objectives: []*slapipev1.Objective{
		{Name: "disk-write\u200b", Selector: "node_load1{job=\"\x1b]0;pwned\a\x1b[2J\u009b31m\"}", Max: proto.Float64(1)},
	}}
}

// TestHostileStringsNeverReachTheTerminal serves an SLA set holding escape
// sequences, a C1 control and a zero-width space: the table shows them
// escaped, and the JSON document carries them as \u escapes that decode
// back to the exact values.
func TestHostileStringsNeverReachTheTerminal(t *testing.T) {
	raw := func(out string) {
		t.Helper()
		for _, r := range out {
			if r == '\n' {
				continue
			}
			require.False(t, r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u200b',
				"raw %U in output:\n%s", r, out)
		}
	}
	h := newHarness(t, ctl.OutputTable)
	h.sla.Set = hostileSet()
	require.NoError(t, h.c.SLAGet(t.Context()))
	out := h.stdout.String()
	raw(out)
	require.Contains(t, out, `disk-write\u200b`)
	require.Contains(t, out, `\x1b]0;pwned\x07`)

	h = newHarness(t, ctl.OutputJSON)
	h.sla.Set = hostileSet()
	require.NoError(t, h.c.SLAGet(t.Context()))
	out = h.stdout.String()
	raw(out)
	var doc struct {
		Objectives []struct{ Name, Selector string } `json:"objectives"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.Equal(t, hostileSet().Objectives[0].Name, doc.Objectives[0].Name, "JSON keeps the exact value")
	require.Equal(t, hostileSet().Objectives[0].Selector, doc.Objectives[0].Selector)
}

func TestBoundsAndFileLimits(t *testing.T) {
	for _, s := range []string{"1.8e308", "1e301", "-2e300", "1e298Ti"} {
		_, err := ctl.ParseBound(s)
		require.ErrorContains(t, err, "within ±1e300", s)
	}
	v, err := ctl.ParseBound("1e300")
	require.NoError(t, err)
	require.Equal(t, 1e300, *v)

	big := filepath.Join(t.TempDir(), "sla.json")
	body := `{"objectives":[{"name":"a","selector":"node_load1","max":1}]}`
	require.NoError(t, os.WriteFile(big, []byte(body+strings.Repeat(" ", ctl.MaxSLAFileBytes)), 0o600))
	_, err = ctl.ReadSLAFile(big, nil)
	require.ErrorContains(t, err, "larger than 1048576 bytes")
	objs, err := ctl.ReadSLAFile("-", strings.NewReader(body))
	require.NoError(t, err)
	require.Len(t, objs, 1)
}
