package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// envPrefix starts the environment variable of every flag.
const envPrefix = "SLAPIPE_"

// notSettable are flags that only make sense on the command line.
var notSettable = map[string]bool{"help": true, "version": true, "config": true}

// envName is the environment variable of a flag: --prometheus-url is
// SLAPIPE_PROMETHEUS_URL.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applySettings gives every flag of cmd that was not set on the command line
// its value from the environment or, failing that, from the config file
// (--config or SLAPIPE_CONFIG): flags > environment > file > defaults. An
// empty environment variable counts as unset. A key of the file that is no
// flag of any command is an error naming it; keys of other commands' flags
// are ignored, so one file can serve every component.
func applySettings(cmd *cobra.Command, lookupEnv func(string) (string, bool)) error {
	fs := cmd.Flags()
	cfgFlag := fs.Lookup("config")
	if cfgFlag != nil && !cfgFlag.Changed {
		if v, ok := lookupEnv(envName("config")); ok && v != "" {
			if err := fs.Set("config", v); err != nil {
				return err
			}
		}
	}
	var file map[string]any
	if cfgFlag != nil && cfgFlag.Value.String() != "" {
		var err error
		if file, err = loadConfigFile(cfgFlag.Value.String(), knownFlags(cmd.Root())); err != nil {
			return err
		}
	}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || notSettable[f.Name] {
			return
		}
		if v, ok := lookupEnv(envName(f.Name)); ok && v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("invalid %s=%q: %v", envName(f.Name), v, err))
			}
			return
		}
		if v, ok := file[f.Name]; ok && v != nil {
			if err := setFromFile(fs, f, v); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: key %q: %v", cfgFlag.Value.String(), f.Name, err))
			}
		}
	})
	return errors.Join(errs...)
}

// setFromFile sets a flag from a YAML value: a scalar, or a list for flags
// that take several values.
func setFromFile(fs *pflag.FlagSet, f *pflag.Flag, v any) error {
	if list, ok := v.([]any); ok {
		sv, ok := f.Value.(pflag.SliceValue)
		if !ok {
			return errors.New("want a single value, got a list")
		}
		items := make([]string, len(list))
		for i, x := range list {
			s, err := scalar(x)
			if err != nil {
				return err
			}
			items[i] = s
		}
		if err := sv.Replace(items); err != nil {
			return err
		}
		f.Changed = true
		return nil
	}
	s, err := scalar(v)
	if err != nil {
		return err
	}
	return fs.Set(f.Name, s)
}

func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("want a string, number or boolean, got %T", v)
}

// loadConfigFile reads a YAML mapping of flag names to values; a key not in
// known is an error that names it.
func loadConfigFile(path string, known map[string]bool) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	var m map[string]any
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config file %s: want a YAML mapping of flag names to values: %s", path, strings.Join(strings.Fields(err.Error()), " "))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !known[k] || notSettable[k] {
			return nil, fmt.Errorf("config file %s: unknown key %q (keys are flag names, e.g. prometheus-url)", path, k)
		}
	}
	return m, nil
}

// knownFlags collects the flag names of every command under root.
func knownFlags(root *cobra.Command) map[string]bool {
	known := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		add := func(f *pflag.Flag) { known[f.Name] = true }
		c.LocalFlags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return known
}
