package slamanager

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

func obj(name, sel string, lo, hi *float64) *slapipev1.Objective {
	return &slapipev1.Objective{Name: name, Selector: sel, Min: lo, Max: hi}
}

var f64 = proto.Float64

func TestValidateObjectives(t *testing.T) {
	many := make([]*slapipev1.Objective, 51)
	for i := range many {
		many[i] = obj(fmt.Sprintf("o%d", i), "node_load1", nil, f64(1))
	}
	ok := obj("ok", "node_load1", nil, f64(1))
	cases := []struct {
		name string
		in   []*slapipev1.Objective
		want string // the whole message; "" means valid
	}{
		{"defaults are valid", DefaultObjectives(), ""},
		{"max not above min", []*slapipev1.Objective{ok, ok2("b"), obj("c", "node_load1", f64(10), f64(5))},
			"objectives[2].max: must be greater than min (got 5 <= 10)"},
		{"equal bounds", []*slapipev1.Objective{obj("a", "node_load1", f64(3), f64(3))},
			"objectives[0].max: must be greater than min (got 3 <= 3)"},
		{"no bound", []*slapipev1.Objective{obj("a", "node_load1", nil, nil)},
			"objectives[0]: at least one bound (min or max) is required"},
		{"empty name", []*slapipev1.Objective{obj(" ", "node_load1", nil, f64(1))},
			"objectives[0].name: must not be empty"},
		{"duplicate names", []*slapipev1.Objective{ok, ok2("x"), obj("ok", "node_load5", nil, f64(1))},
			`objectives[2].name: duplicate name "ok" (also objectives[0])`},
		{"empty selector", []*slapipev1.Objective{obj("a", "", nil, f64(1))},
			"objectives[0].selector: must not be empty"},
		{"bad selector syntax", []*slapipev1.Objective{obj("a", `node_load1{job="x"`, nil, f64(1))},
			"objectives[0].selector: invalid selector: "},
		{"name pattern", []*slapipev1.Objective{obj("a", `node_.*`, nil, f64(1))},
			`objectives[0].selector: invalid selector: "node_.*" must name exactly one metric`},
		{"not a selector", []*slapipev1.Objective{obj("a", `rate(node_load1[5m])`, nil, f64(1))},
			"objectives[0].selector: invalid selector: "},
		{"NaN bound", []*slapipev1.Objective{obj("a", "node_load1", f64(math.NaN()), nil)},
			"objectives[0].min: must be a finite number within ±1e300 (got NaN)"},
		{"infinite bound", []*slapipev1.Objective{obj("a", "node_load1", nil, f64(math.Inf(1)))},
			"objectives[0].max: must be a finite number within ±1e300 (got +Inf)"},
		{"huge bound", []*slapipev1.Objective{obj("a", "node_load1", nil, f64(1.7e308))},
			"objectives[0].max: must be a finite number within ±1e300 (got 1.7e+308)"},
		{"zero-width space in name", []*slapipev1.Objective{obj("disk-write\u200b", "node_load1", nil, f64(1))},
			`objectives[0].name "disk-write\u200b": contains the invisible or control character U+200B`},
		{"escape sequence in selector", []*slapipev1.Objective{obj("a", "node_load1{job=\"\x1b[31m\"}", nil, f64(1))},
			`objectives[0].selector "node_load1{job=\"\x1b[31m\"}": contains the invisible or control character U+001B`},
		{"bell in name", []*slapipev1.Objective{obj("a\a", "node_load1", nil, f64(1))},
			`objectives[0].name "a\a": contains the invisible or control character U+0007`},
		{"empty set", nil, "objectives: at least 1 objective is required (got 0)"},
		{"51 objectives", many, "objectives: at most 50 objectives are allowed (got 51)"},
		{"nil objective", []*slapipev1.Objective{nil}, "objectives[0]: missing objective"},
		{"several problems at once", []*slapipev1.Objective{obj("", "node_load1", f64(2), f64(1))},
			"objectives[0].name: must not be empty; objectives[0].max: must be greater than min (got 1 <= 2)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ValidateObjectives(c.in)
			if c.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			// Parser messages vary with Prometheus versions: for selector
			// syntax only our part of the message is pinned.
			if strings.HasSuffix(c.want, ": ") || strings.HasSuffix(c.want, "metric") {
				require.True(t, strings.HasPrefix(err.Error(), c.want), "got %q", err)
				return
			}
			require.Equal(t, c.want, err.Error())
		})
	}
}

func ok2(name string) *slapipev1.Objective { return obj(name, "node_load5", f64(0), nil) }

func codeOf(err error) codes.Code { return status.Code(err) }

func TestSetAddRemove(t *testing.T) {
	ctx := context.Background()
	st := &memStore{}
	m := newTestManager(t, Config{}, st, &fakeSource{}, testEnd)
	m.catalog = &fakeCatalog{metrics: []*slapipev1.PromMetric{{Name: "node_load1"}, {Name: "node_load5"}}}

	got, err := m.GetSLA(ctx, &slapipev1.GetSLARequest{})
	require.NoError(t, err)
	require.Equal(t, int64(0), got.Version, "defaults are unsaved")
	require.Len(t, got.Objectives, 5)
	require.Equal(t, "node_disk_written_bytes_total", got.Objectives[0].Selector)

	resp, err := m.SetSLA(ctx, &slapipev1.SetSLARequest{Objectives: []*slapipev1.Objective{
		obj("load", "node_load1", nil, f64(4)), obj("ghost", "node_nothing_here", f64(1), nil),
	}})
	require.NoError(t, err)
	require.Equal(t, int64(1), resp.Set.Version)
	require.Equal(t, []string{`objectives[1].selector: prometheus has no metric "node_nothing_here" (saved anyway)`}, resp.Warnings)

	_, err = m.SetSLA(ctx, &slapipev1.SetSLARequest{Objectives: []*slapipev1.Objective{obj("x", "node_load1", f64(5), f64(1))}})
	require.Equal(t, codes.InvalidArgument, codeOf(err))
	require.Contains(t, err.Error(), "objectives[0].max: must be greater than min (got 1 <= 5)")

	resp, err = m.AddObjective(ctx, &slapipev1.AddObjectiveRequest{Objective: obj("load5", "node_load5", nil, f64(8))})
	require.NoError(t, err)
	require.Equal(t, []string{`objectives[1].selector: prometheus has no metric "node_nothing_here" (saved anyway)`},
		resp.Warnings, "the whole set is checked again: only the ghost warns")
	require.Equal(t, []string{"load", "ghost", "load5"}, names(resp.Set))
	require.Equal(t, int64(2), resp.Set.Version)

	_, err = m.AddObjective(ctx, &slapipev1.AddObjectiveRequest{Objective: obj("load", "node_load5", nil, f64(8))})
	require.Equal(t, codes.InvalidArgument, codeOf(err))
	require.Contains(t, err.Error(), `objective.name: an objective named "load" already exists`)

	_, err = m.AddObjective(ctx, &slapipev1.AddObjectiveRequest{Objective: obj("z", "node_load5", nil, nil)})
	require.Equal(t, codes.InvalidArgument, codeOf(err))
	require.Contains(t, err.Error(), "objective: at least one bound (min or max) is required")

	resp, err = m.RemoveObjective(ctx, &slapipev1.RemoveObjectiveRequest{Name: "ghost"})
	require.NoError(t, err)
	require.Equal(t, []string{"load", "load5"}, names(resp.Set))

	_, err = m.RemoveObjective(ctx, &slapipev1.RemoveObjectiveRequest{Name: "ghost"})
	require.Equal(t, codes.NotFound, codeOf(err))

	_, err = m.RemoveObjective(ctx, &slapipev1.RemoveObjectiveRequest{Name: "load"})
	require.NoError(t, err)
	_, err = m.RemoveObjective(ctx, &slapipev1.RemoveObjectiveRequest{Name: "load5"})
	require.Equal(t, codes.InvalidArgument, codeOf(err), "the last objective stays")

	got, err = m.GetSLA(ctx, &slapipev1.GetSLARequest{})
	require.NoError(t, err)
	require.Equal(t, []string{"load5"}, names(got))
	require.Len(t, st.sets, 4, "every change is a new version")

	t.Run("prometheus down is a warning, not a refusal", func(t *testing.T) {
		m.catalog = &fakeCatalog{err: errBoom}
		resp, err := m.AddObjective(ctx, &slapipev1.AddObjectiveRequest{Objective: obj("n", "node_load15", nil, f64(8))})
		require.NoError(t, err)
		require.Equal(t, []string{"metric names not checked: prometheus: boom"}, resp.Warnings)
	})
	t.Run("store down: reads serve the last set, writes fail", func(t *testing.T) {
		st.fail = errBoom
		defer func() { st.fail = nil }()
		got, err := m.GetSLA(ctx, &slapipev1.GetSLARequest{})
		require.NoError(t, err)
		require.Equal(t, []string{"load5", "n"}, names(got))
		_, err = m.SetSLA(ctx, &slapipev1.SetSLARequest{Objectives: DefaultObjectives()})
		require.Equal(t, codes.Unavailable, codeOf(err))
	})
}

func names(set *slapipev1.SLASet) []string {
	var out []string
	for _, o := range set.GetObjectives() {
		out = append(out, o.GetName())
	}
	return out
}
