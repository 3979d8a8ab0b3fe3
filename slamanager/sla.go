package slamanager

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/pkg/server"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Limits of an SLA set.
const (
	MinObjectives = 1
	MaxObjectives = 50
	maxNameLen    = 100
)

// DefaultObjectives returns the set used while the store holds none: the
// node_exporter equivalents of the old system's five defaults (the demo
// history is built to these bounds). Counters are judged as per-second rates.
func DefaultObjectives() []*slapipev1.Objective {
	return []*slapipev1.Objective{
		{Name: "disk-write", Selector: "node_disk_written_bytes_total", Max: proto.Float64(100e6)},
		{Name: "memory-free", Selector: "node_memory_MemFree_bytes", Min: proto.Float64(268435456)},
		{Name: "filesystem-avail", Selector: `node_filesystem_avail_bytes{mountpoint="/"}`, Min: proto.Float64(1073741824)},
		{Name: "memory-active", Selector: "node_memory_Active_bytes", Max: proto.Float64(17179869184)},
		{Name: "net-rx-packets", Selector: "node_network_receive_packets_total", Max: proto.Float64(50000)},
	}
}

// ValidateObjectives checks a whole set and returns every problem found, each
// naming the field (objectives[i].max, ...) and the bad value, joined by "; ".
// A nil error means the set can be saved.
func ValidateObjectives(objs []*slapipev1.Objective) error {
	var errs []string
	switch {
	case len(objs) < MinObjectives:
		errs = append(errs, fmt.Sprintf("objectives: at least %d objective is required (got %d)", MinObjectives, len(objs)))
	case len(objs) > MaxObjectives:
		errs = append(errs, fmt.Sprintf("objectives: at most %d objectives are allowed (got %d)", MaxObjectives, len(objs)))
	}
	seen := make(map[string]int, len(objs))
	for i, o := range objs {
		field := fmt.Sprintf("objectives[%d]", i)
		errs = append(errs, validateObjective(field, o)...)
		if o == nil || o.GetName() == "" {
			continue
		}
		if j, dup := seen[o.GetName()]; dup {
			errs = append(errs, fmt.Sprintf("%s.name: duplicate name %q (also objectives[%d])", field, o.GetName(), j))
		} else {
			seen[o.GetName()] = i
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(errs, "; "))
}

// validateObjective checks one objective; field prefixes every message.
func validateObjective(field string, o *slapipev1.Objective) []string {
	if o == nil {
		return []string{field + ": missing objective"}
	}
	var errs []string
	name := o.GetName()
	switch {
	case strings.TrimSpace(name) == "":
		errs = append(errs, field+".name: must not be empty")
	case len(name) > maxNameLen:
		errs = append(errs, fmt.Sprintf("%s.name: must be at most %d bytes (got %d)", field, maxNameLen, len(name)))
	default:
		if err := slapipev1.CheckVisible(name); err != nil {
			errs = append(errs, fmt.Sprintf("%s.name %+q: %v", field, name, err))
		}
	}
	if strings.TrimSpace(o.GetSelector()) == "" {
		errs = append(errs, field+".selector: must not be empty")
	} else if err := slapipev1.CheckVisible(o.GetSelector()); err != nil {
		errs = append(errs, fmt.Sprintf("%s.selector %+.80q: %v", field, o.GetSelector(), err))
	} else if _, _, err := parseSelector(o.GetSelector()); err != nil {
		errs = append(errs, fmt.Sprintf("%s.selector: %v", field, err))
	}
	if o.Min == nil && o.Max == nil {
		errs = append(errs, field+": at least one bound (min or max) is required")
	}
	finite := true
	for _, b := range []struct {
		name string
		v    *float64
	}{{"min", o.Min}, {"max", o.Max}} {
		if b.v == nil {
			continue
		}
		if err := slapipev1.CheckBound(*b.v); err != nil {
			errs = append(errs, fmt.Sprintf("%s.%s: %v", field, b.name, err))
			finite = false
		}
	}
	if finite && o.Min != nil && o.Max != nil && o.GetMax() <= o.GetMin() {
		errs = append(errs, fmt.Sprintf("%s.max: must be greater than min (got %g <= %g)", field, o.GetMax(), o.GetMin()))
	}
	return append(errs, o.BudgetProblems(field)...)
}

// currentSet returns the stored set, or the default set (version 0) when
// none was saved. When the store fails it falls back to the last set seen,
// then to the defaults, so reads keep working through a store outage.
func (m *Manager) currentSet(ctx context.Context) (*slapipev1.SLASet, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	set, err := m.store.LoadSLA(ctx)
	switch {
	case err == nil:
		m.setMu.Lock()
		m.cached = set
		m.setMu.Unlock()
		return set, nil
	case errors.Is(err, store.ErrNotFound):
		return &slapipev1.SLASet{Objectives: DefaultObjectives()}, nil
	}
	m.setMu.RLock()
	cached := m.cached
	m.setMu.RUnlock()
	if cached != nil {
		m.log.Warn("sla set: store unavailable, serving cached set", "err", err)
		return cached, nil
	}
	return nil, fmt.Errorf("loading sla set: %w", err)
}

// DefaultsActor is the actor recorded for the default set saved on first start.
const DefaultsActor = "slamanager (defaults)"

// seedDefaults saves the default set as version 1 when the store has none,
// so the set, its history and Grafana's objectives panel exist from the first
// start. A failure only logs: the defaults are still served from memory.
func (m *Manager) seedDefaults(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if _, err := m.store.LoadSLA(ctx); !errors.Is(err, store.ErrNotFound) {
		return
	}
	if _, err := m.store.SaveSLA(ctx, DefaultObjectives(), DefaultsActor); err != nil {
		m.log.Warn("saving the default sla set", "err", err)
	}
}

// GetSLA returns the current set (the defaults, version 0, if none was saved).
func (m *Manager) GetSLA(ctx context.Context, _ *slapipev1.GetSLARequest) (*slapipev1.SLASet, error) {
	set, err := m.currentSet(ctx)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return set, nil
}

// SetSLA validates and saves the whole set as a new version.
func (m *Manager) SetSLA(ctx context.Context, req *slapipev1.SetSLARequest) (*slapipev1.SetSLAResponse, error) {
	m.slaMu.Lock()
	defer m.slaMu.Unlock()
	return m.save(ctx, req.GetObjectives())
}

// AddObjective appends one objective to the current set and saves it.
func (m *Manager) AddObjective(ctx context.Context, req *slapipev1.AddObjectiveRequest) (*slapipev1.SetSLAResponse, error) {
	o := req.GetObjective()
	if errs := validateObjective("objective", o); len(errs) > 0 {
		return nil, status.Error(codes.InvalidArgument, strings.Join(errs, "; "))
	}
	m.slaMu.Lock()
	defer m.slaMu.Unlock()
	set, err := m.currentSet(ctx)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	for _, have := range set.GetObjectives() {
		if have.GetName() == o.GetName() {
			return nil, status.Errorf(codes.InvalidArgument, "objective.name: an objective named %q already exists", o.GetName())
		}
	}
	return m.save(ctx, append(cloneObjectives(set.GetObjectives()), o))
}

// RemoveObjective removes the objective with the given name and saves the set.
func (m *Manager) RemoveObjective(ctx context.Context, req *slapipev1.RemoveObjectiveRequest) (*slapipev1.SetSLAResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name: must not be empty")
	}
	m.slaMu.Lock()
	defer m.slaMu.Unlock()
	set, err := m.currentSet(ctx)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	var kept []*slapipev1.Objective
	for _, o := range set.GetObjectives() {
		if o.GetName() != req.GetName() {
			kept = append(kept, o)
		}
	}
	switch {
	case len(kept) == len(set.GetObjectives()):
		return nil, status.Errorf(codes.NotFound, "name: no objective named %q", req.GetName())
	case len(kept) < MinObjectives:
		return nil, status.Errorf(codes.InvalidArgument, "name: cannot remove %q, the last objective (a set needs at least %d)", req.GetName(), MinObjectives)
	}
	return m.save(ctx, cloneObjectives(kept))
}

// save validates objs, stores them as a new version and adds warnings for
// metrics Prometheus does not know. The caller holds slaMu.
func (m *Manager) save(ctx context.Context, objs []*slapipev1.Objective) (*slapipev1.SetSLAResponse, error) {
	if err := ValidateObjectives(objs); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	warnings := m.unknownMetricWarnings(ctx, objs)
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	set, err := m.store.SaveSLA(sctx, objs, actor(ctx))
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "saving sla set: %v", err)
	}
	m.setMu.Lock()
	m.cached = set
	m.setMu.Unlock()
	m.met.slaChanges.Inc()
	m.requestEvaluation()
	m.log.Info("sla set saved", "version", set.GetVersion(), "objectives", len(objs), "warnings", len(warnings))
	return &slapipev1.SetSLAResponse{Set: set, Warnings: warnings}, nil
}

// unknownMetricWarnings names the objectives whose metric Prometheus has no
// series of; not being able to ask is a warning too, never a refusal.
func (m *Manager) unknownMetricWarnings(ctx context.Context, objs []*slapipev1.Objective) []string {
	if m.catalog == nil {
		return []string{"metric names not checked: no prometheus url configured"}
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.PromTimeout)
	defer cancel()
	known, err := m.catalog.names(ctx, m.now())
	if err != nil {
		return []string{fmt.Sprintf("metric names not checked: prometheus: %v", err)}
	}
	var warns []string
	for i, o := range objs {
		metric, _, _ := parseSelector(o.GetSelector())
		if _, ok := known[metric]; !ok {
			warns = append(warns, fmt.Sprintf("objectives[%d].selector: prometheus has no metric %q (saved anyway)", i, metric))
		}
	}
	return warns
}

// actor names who changed the set, for the store's history: the caller's
// address, after the name of its token when the server checks tokens.
func actor(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if name := server.TokenName(ctx); name != "" {
			return "grpc:" + name + "@" + p.Addr.String()
		}
		return "grpc:" + p.Addr.String()
	}
	return "slamanager"
}

func cloneObjectives(objs []*slapipev1.Objective) []*slapipev1.Objective {
	out := make([]*slapipev1.Objective, len(objs))
	for i, o := range objs {
		out[i] = proto.Clone(o).(*slapipev1.Objective)
	}
	return out
}
