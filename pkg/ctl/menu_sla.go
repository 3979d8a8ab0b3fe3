package ctl

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/charmbracelet/huh"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// slaMenu views and edits the SLA set in place.
func (c *Client) slaMenu(ctx context.Context) error {
	action := "view"
	err := c.runForm(ctx, huh.NewForm(huh.NewGroup(huh.NewSelect[string]().Title("SLA set").
		Options(
			huh.NewOption("View the set", "view"),
			huh.NewOption("Edit an objective", "edit"),
			huh.NewOption("Add an objective", "add"),
			huh.NewOption("Remove an objective", "remove"),
			huh.NewOption("Back", "back"),
		).Value(&action))))
	if err != nil {
		return err
	}
	switch action {
	case "view":
		return c.SLAGet(ctx)
	case "add":
		o, err := c.objectiveForm(ctx, "New objective", Objective{}, nil)
		if err != nil {
			return err
		}
		return c.SLAAdd(ctx, o)
	case "edit", "remove":
		set, err := c.GetSLA(ctx)
		if err != nil {
			return err
		}
		i, err := c.pickObjective(ctx, set, action)
		if err != nil {
			return err
		}
		objs := make([]Objective, len(set.GetObjectives()))
		for j, o := range set.GetObjectives() {
			objs[j] = fromProto(o)
		}
		if action == "remove" {
			ok := false
			if err := c.runForm(ctx, huh.NewForm(huh.NewGroup(huh.NewConfirm().
				Title(fmt.Sprintf("Remove %q (%s)?", objs[i].Name, objs[i].Selector)).Value(&ok)))); err != nil {
				return err
			}
			if !ok {
				return errBack
			}
			return c.SLARemove(ctx, objs[i].Name)
		}
		others := map[string]bool{}
		for j, o := range objs {
			if j != i {
				others[o.Name] = true
			}
		}
		edited, err := c.objectiveForm(ctx, "Edit "+objs[i].Name, objs[i], others)
		if err != nil {
			return err
		}
		objs[i] = edited
		return c.SLASet(ctx, objs)
	}
	return errBack
}

func (c *Client) pickObjective(ctx context.Context, set *slapipev1.SLASet, action string) (int, error) {
	if len(set.GetObjectives()) == 0 {
		return 0, errors.New("the SLA set is empty: add an objective first")
	}
	var opts []huh.Option[int]
	for i, o := range set.GetObjectives() {
		u := selectorUnit(o.GetSelector())
		opts = append(opts, huh.NewOption(fmt.Sprintf("%s  %s  min %s  max %s", o.GetName(), o.GetSelector(),
			u.bound(o.Min), u.bound(o.Max)), i))
	}
	i := 0
	err := c.runForm(ctx, huh.NewForm(huh.NewGroup(huh.NewSelect[int]().
		Title(fmt.Sprintf("Objective to %s", action)).Options(opts...).Value(&i))))
	return i, err
}

// objectiveForm edits o field by field; each field is checked as it is left,
// and the whole objective before the form is accepted. taken holds the names
// of the other objectives.
func (c *Client) objectiveForm(ctx context.Context, title string, o Objective, taken map[string]bool) (Objective, error) {
	name, selector := o.Name, o.Selector
	minS, maxS := boundString(o.Min), boundString(o.Max)
	build := func(minS, maxS string) (Objective, error) {
		lo, err := ParseBound(minS)
		if err != nil {
			return Objective{}, fmt.Errorf("min: %w", err)
		}
		hi, err := ParseBound(maxS)
		if err != nil {
			return Objective{}, fmt.Errorf("max: %w", err)
		}
		return Objective{Name: name, Selector: selector, Min: lo, Max: hi}, nil
	}
	boundCheck := func(field string) func(string) error {
		return func(s string) error {
			if _, err := ParseBound(s); err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
			return nil
		}
	}
	form := huh.NewForm(huh.NewGroup(
		huh.NewInput().Title("Name").Value(&name).Validate(func(s string) error {
			if taken[s] {
				return fmt.Errorf("name: %q is already used", s)
			}
			return validateName(s)
		}),
		huh.NewInput().Title("Selector").Description(`e.g. node_filesystem_avail_bytes{mountpoint="/"}`).
			Value(&selector).Validate(func(s string) error {
			if err := c.validateSelector(s); err != nil {
				return fmt.Errorf("selector: %w", err)
			}
			return nil
		}),
		huh.NewInput().Title("Min").Description("lower bound; empty for none (256Mi, 1e9 ...)").
			Value(&minS).Validate(boundCheck("min")),
		huh.NewInput().Title("Max").Description("upper bound; empty for none").
			Value(&maxS).Validate(func(s string) error {
			if err := boundCheck("max")(s); err != nil {
				return err
			}
			// The whole objective is checked on the last field, so a bad
			// pair of bounds keeps the form open.
			obj, err := build(minS, s)
			if err != nil {
				return err
			}
			return c.ValidateObjective(obj)
		}),
	).Title(title))
	if err := c.runForm(ctx, form); err != nil {
		return Objective{}, err
	}
	return build(minS, maxS)
}

func boundString(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}
