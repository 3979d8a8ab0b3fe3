package ctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Objective is one SLA objective as users write it: a selector and at least
// one bound. Its JSON and YAML forms are those of `sla get -o json`.
type Objective struct {
	Name     string   `json:"name" yaml:"name"`
	Selector string   `json:"selector" yaml:"selector"`
	Min      *float64 `json:"min" yaml:"min"`
	Max      *float64 `json:"max" yaml:"max"`
	// Target is the share of time within the bounds (0.999), nil for no
	// error budget; BudgetWindowSeconds its window, 0 for the default (7d).
	Target              *float64 `json:"target" yaml:"target"`
	BudgetWindowSeconds *int64   `json:"budget_window_seconds" yaml:"budget_window_seconds"`
}

// slaDocument is the `sla get -o json` document (and the "sla" field of
// `status -o json`). ReadSLAFile accepts the same shape, informative fields
// included, but decodes it with its own struct.
type slaDocument struct {
	Objectives []objectiveJSON `json:"objectives"`
	Version    int64           `json:"version"`
	UpdatedAt  *string         `json:"updated_at"`
	Warnings   []string        `json:"warnings,omitempty"`
}

type objectiveJSON struct {
	Name                string `json:"name"`
	Selector            string `json:"selector"`
	Min                 *num   `json:"min"`
	Max                 *num   `json:"max"`
	Target              *num   `json:"target"`
	BudgetWindowSeconds *int64 `json:"budget_window_seconds"`
}

func toSLADocument(set *slapipev1.SLASet, warnings []string) slaDocument {
	doc := slaDocument{Objectives: []objectiveJSON{}, Version: set.GetVersion(),
		UpdatedAt: timeJSON(set.GetUpdatedAt()), Warnings: warnings}
	for _, o := range set.GetObjectives() {
		oj := objectiveJSON{Name: o.GetName(), Selector: o.GetSelector(), Min: numPtr(o.Min), Max: numPtr(o.Max),
			Target: numPtr(o.Target)}
		if o.Target != nil {
			w := int64(o.BudgetWindow() / time.Second)
			oj.BudgetWindowSeconds = &w
		}
		doc.Objectives = append(doc.Objectives, oj)
	}
	return doc
}

// validateName checks an objective name the way the SLA manager will; the
// error starts with the field.
func validateName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("name: must not be empty")
	case name != strings.TrimSpace(name) || strings.ContainsAny(name, " \t\n"):
		return fmt.Errorf("name: must not contain spaces (got %q)", name)
	}
	if err := slapipev1.CheckVisible(name); err != nil {
		return fmt.Errorf("name %+q: %w", name, err)
	}
	return nil
}

// ValidateObjective checks one objective the way the SLA manager will, so
// mistakes are caught before the call; the error names the field.
func (c *Client) ValidateObjective(o Objective) error {
	if err := validateName(o.Name); err != nil {
		return err
	}
	if err := slapipev1.CheckVisible(o.Selector); err != nil {
		return fmt.Errorf("selector %+.80q: %w", o.Selector, err)
	}
	if err := c.validateSelector(o.Selector); err != nil {
		return fmt.Errorf("selector: %w", err)
	}
	if o.Min == nil && o.Max == nil {
		return errors.New("min, max: give at least one bound")
	}
	for _, b := range []struct {
		name string
		v    *float64
	}{{"min", o.Min}, {"max", o.Max}} {
		if b.v == nil {
			continue
		}
		if err := slapipev1.CheckBound(*b.v); err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
	}
	if o.Min != nil && o.Max != nil && *o.Min >= *o.Max {
		return fmt.Errorf("max: must be greater than min (got %v <= %v)", *o.Max, *o.Min)
	}
	return validateBudget(o)
}

// ValidateSet checks every objective and that names are unique.
func (c *Client) ValidateSet(objs []Objective) error {
	seen := make(map[string]int, len(objs))
	for i, o := range objs {
		if err := c.ValidateObjective(o); err != nil {
			return fmt.Errorf("objectives[%d] %q: %w", i, o.Name, err)
		}
		if j, dup := seen[o.Name]; dup {
			return fmt.Errorf("objectives[%d].name: %q is already used by objectives[%d]", i, o.Name, j)
		}
		seen[o.Name] = i
	}
	return nil
}

func toProto(o Objective) *slapipev1.Objective {
	p := &slapipev1.Objective{Name: o.Name, Selector: o.Selector, Min: o.Min, Max: o.Max, Target: o.Target}
	if o.BudgetWindowSeconds != nil {
		p.BudgetWindowSeconds = *o.BudgetWindowSeconds
	}
	return p
}

func fromProto(o *slapipev1.Objective) Objective {
	out := Objective{Name: o.GetName(), Selector: o.GetSelector(), Min: o.Min, Max: o.Max, Target: o.Target}
	if w := o.GetBudgetWindowSeconds(); w != 0 {
		out.BudgetWindowSeconds = &w
	}
	return out
}

// MaxSLAFileBytes bounds what `sla set --file` reads.
const MaxSLAFileBytes = 1 << 20

// ReadSLAFile parses an SLA document (YAML or JSON, the `sla get -o json`
// shape); path "-" reads standard input.
func ReadSLAFile(path string, stdin io.Reader) ([]Objective, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("reading the SLA file: %w", err)
		}
		defer f.Close()
		r = f
	}
	// One byte more than allowed tells a file at the limit from a larger one
	// without reading the rest.
	data, err := io.ReadAll(io.LimitReader(r, MaxSLAFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the SLA file: %w", err)
	}
	if len(data) > MaxSLAFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes, the most an SLA file may hold (a whole SLA set fits in a few KB)",
			path, MaxSLAFileBytes)
	}
	var doc struct {
		Objectives *[]Objective `yaml:"objectives"`
		Version    any          `yaml:"version"`
		UpdatedAt  any          `yaml:"updated_at"`
		Warnings   any          `yaml:"warnings"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is empty: write {\"objectives\": [...]} as `slapipe ctl sla get -o json` prints it", path)
		}
		return nil, fmt.Errorf("%s: %s", path, oneLine(err.Error()))
	}
	if doc.Objectives == nil {
		return nil, fmt.Errorf("%s: no \"objectives\" list: write the document `slapipe ctl sla get -o json` prints", path)
	}
	return *doc.Objectives, nil
}

// SLAGet prints the SLA set.
func (c *Client) SLAGet(ctx context.Context) error {
	set, err := c.GetSLA(ctx)
	if err != nil {
		return err
	}
	return c.renderSLA(set, nil)
}

// GetSLA fetches the SLA set.
func (c *Client) GetSLA(ctx context.Context) (*slapipev1.SLASet, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	set, err := c.sla.GetSLA(ctx, &slapipev1.GetSLARequest{})
	return set, c.slaService().explain(err)
}

// SLASet validates objs and replaces the whole set with them.
func (c *Client) SLASet(ctx context.Context, objs []Objective) error {
	if err := c.ValidateSet(objs); err != nil {
		return usageError{err}
	}
	req := &slapipev1.SetSLARequest{}
	for _, o := range objs {
		req.Objectives = append(req.Objectives, toProto(o))
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	resp, err := c.sla.SetSLA(ctx, req)
	if err != nil {
		return c.slaService().explain(err)
	}
	return c.renderSLA(resp.GetSet(), resp.GetWarnings())
}

// SLAAdd validates o and adds it to the set.
func (c *Client) SLAAdd(ctx context.Context, o Objective) error {
	if err := c.ValidateObjective(o); err != nil {
		return usageError{err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	resp, err := c.sla.AddObjective(ctx, &slapipev1.AddObjectiveRequest{Objective: toProto(o)})
	if err != nil {
		return c.slaService().explain(err)
	}
	return c.renderSLA(resp.GetSet(), resp.GetWarnings())
}

// SLARemove removes the objective called name.
func (c *Client) SLARemove(ctx context.Context, name string) error {
	if strings.TrimSpace(name) == "" {
		return usageErrorf("give the name of the objective to remove (see `slapipe ctl sla get`)")
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	resp, err := c.sla.RemoveObjective(ctx, &slapipev1.RemoveObjectiveRequest{Name: name})
	if err != nil {
		return c.slaService().explain(err)
	}
	return c.renderSLA(resp.GetSet(), resp.GetWarnings())
}

func (c *Client) renderSLA(set *slapipev1.SLASet, warnings []string) error {
	if c.json() {
		return writeJSON(c.opts.Stdout, toSLADocument(set, warnings))
	}
	for _, w := range warnings {
		fmt.Fprintf(c.opts.Stderr, "warning: %s\n", oneLine(w))
	}
	_, err := io.WriteString(c.opts.Stdout, slaTable(set))
	return err
}

func slaTable(set *slapipev1.SLASet) string {
	if len(set.GetObjectives()) == 0 {
		return "The SLA set is empty: add an objective with `slapipe ctl sla add`.\n"
	}
	t := newTable("NAME", "SELECTOR", "MIN", "MAX", "TARGET")
	for _, o := range set.GetObjectives() {
		u := selectorUnit(o.GetSelector())
		target := "-"
		if o.Target != nil {
			target = fmtTarget(o.GetTarget()) + " over " + fmtWindow(int64(o.BudgetWindow()/time.Second))
		}
		t.row(o.GetName(), o.GetSelector(), u.bound(o.Min), u.bound(o.Max), target)
	}
	s := t.String()
	if set.GetVersion() > 0 {
		s += fmt.Sprintf("version %d, updated %s\n", set.GetVersion(), fmtTime(set.GetUpdatedAt()))
	}
	return s
}
