package slamanager

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/internal/testing/testkit"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

func TestSLASurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "slapipe.db")
	set := []*slapipev1.Objective{
		obj("load", `node_load1{instance="a"}`, nil, f64(4)),
		obj("mem", "node_memory_MemFree_bytes", f64(1<<28), f64(1<<40)),
	}

	st := testkit.OpenStore(t, "sqlite:"+path)
	m, err := New(Config{}, Deps{Store: st, Source: &fakeSource{}})
	require.NoError(t, err)
	got, err := m.GetSLA(ctx, &slapipev1.GetSLARequest{})
	require.NoError(t, err)
	require.Equal(t, "disk-write", got.Objectives[0].Name, "a fresh store serves the defaults")
	saved, err := m.SetSLA(ctx, &slapipev1.SetSLARequest{Objectives: set})
	require.NoError(t, err)
	_, err = m.RemoveObjective(ctx, &slapipev1.RemoveObjectiveRequest{Name: "load"})
	require.NoError(t, err)
	_, err = m.AddObjective(ctx, &slapipev1.AddObjectiveRequest{Objective: set[0]})
	require.NoError(t, err)
	require.NoError(t, st.Close())

	st = testkit.OpenStore(t, "sqlite:"+path)
	defer st.Close()
	m, err = New(Config{}, Deps{Store: st, Source: &fakeSource{}})
	require.NoError(t, err)
	got, err = m.GetSLA(ctx, &slapipev1.GetSLARequest{})
	require.NoError(t, err)
	require.Equal(t, saved.Set.Version+2, got.Version, "three versions kept")
	want := []*slapipev1.Objective{set[1], set[0]}
	require.Len(t, got.Objectives, 2)
	for i := range want {
		require.True(t, proto.Equal(want[i], got.Objectives[i]), "objective %d: want %v, got %v", i, want[i], got.Objectives[i])
	}
	require.Nil(t, got.Objectives[1].Min, "absent bound stays absent")
	hist, err := st.SLAHistory(ctx, 10)
	require.NoError(t, err)
	require.Len(t, hist, 3)
}
