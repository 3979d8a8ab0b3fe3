package ctl

import (
	"context"
	"fmt"
	"os"

	"github.com/slapipe/slapipe/pkg/rules"
)

// RulesOptions tunes `ctl rules`.
type RulesOptions struct {
	rules.Config
	// TestsPath, when set, is where the promtool unit tests of the rules
	// are written; RuleFile is the rules file's path as they name it.
	TestsPath, RuleFile string
}

// Rules prints Prometheus alerting rules for the current SLA set on
// stdout (a rules file, whatever the output format), and writes their
// promtool unit tests when asked.
func (c *Client) Rules(ctx context.Context, o RulesOptions) error {
	set, err := c.GetSLA(ctx)
	if err != nil {
		return err
	}
	g, err := rules.Groups(set, o.Config)
	if err != nil {
		return usageError{err}
	}
	b, err := rules.Marshal(g)
	if err != nil {
		return err
	}
	if o.TestsPath != "" {
		tb, err := rules.Tests(set, o.Config, o.RuleFile)
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.TestsPath, tb, 0o644); err != nil {
			return fmt.Errorf("writing the rule tests: %w", err)
		}
	}
	_, err = c.opts.Stdout.Write(b)
	return err
}
