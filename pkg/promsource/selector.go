package promsource

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// ErrInvalidSelector is wrapped by every error that rejects a user selector;
// callers branch on it with errors.Is to answer "invalid argument".
var ErrInvalidSelector = errors.New("invalid selector")

// maxSelectorLen bounds a selector so a pasted blob cannot reach the parser.
const maxSelectorLen = 1024

var (
	// namePatternRE is what a bare name pattern such as node_.* may contain:
	// name characters and regexp operators, but no quote, brace, space or
	// bracket, so the rewrite into a __name__ matcher cannot change the
	// selector's shape and `x[5m]` or `f(x[5m])` cannot pass for a pattern.
	namePatternRE = regexp.MustCompile(`^[a-zA-Z0-9_:.*+?|()^$]+$`)
	// patternOpRE requires a repetition or alternation, so `sum(up)` or `1`
	// are not read as patterns.
	patternOpRE = regexp.MustCompile(`[.*+?|]`)
	selParser   = parser.NewParser(parser.Options{})
)

// ParseSelector validates s as a PromQL metric selector and returns the
// metric name it pins (empty when the name is a pattern or absent) and all
// its label matchers, including any on __name__. Accepted forms are the
// PromQL vector selectors without range, offset or @ (`node_load1`,
// `node_filesystem_avail_bytes{mountpoint="/"}`, `{__name__=~"node_.*"}`)
// and a bare name pattern, optionally with matchers (`node_.*`,
// `node_disk_.*_total{device="sda"}`), which is read as a __name__ regexp
// matcher (anchored, as PromQL anchors every regexp). A bare pattern holds
// only name characters and the operators . * + ? | ( ) ^ $, at least one of
// . * + ? |; character classes need the braces form. Anything else, such as
// `up or vector(1)`, `foo[5m]` or a # comment, is rejected with an error
// wrapping ErrInvalidSelector; so is a selector whose matchers all match the
// empty string, and one that matches every series ({__name__=~".+"}).
func ParseSelector(s string) (metric string, matchers []*labels.Matcher, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil, fmt.Errorf("%w: empty selector", ErrInvalidSelector)
	}
	if len(s) > maxSelectorLen {
		return "", nil, fmt.Errorf("%w: selector longer than %d bytes", ErrInvalidSelector, maxSelectorLen)
	}
	input := s
	namePart, rest, hasBraces := strings.Cut(s, "{")
	namePart = strings.TrimSpace(namePart)
	if hasComment(s) {
		return "", nil, fmt.Errorf("%w: %q: comments are not allowed", ErrInvalidSelector, s)
	}
	if namePart != "" && !model.LegacyValidation.IsValidMetricName(namePart) && namePatternRE.MatchString(namePart) && patternOpRE.MatchString(namePart) {
		if _, err := regexp.Compile(namePart); err != nil {
			return "", nil, fmt.Errorf("%w: %q: bad name pattern: %v", ErrInvalidSelector, s, err)
		}
		input = "{__name__=~" + strconv.Quote(namePart)
		if hasBraces {
			if r := strings.TrimSpace(rest); !strings.HasPrefix(r, "}") {
				input += ","
			}
			input += rest
		} else {
			input += "}"
		}
	}
	ms, err := selParser.ParseMetricSelector(input)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %q: %v", ErrInvalidSelector, s, err)
	}
	nonEmpty := false
	for _, m := range ms {
		if !m.Matches("") {
			nonEmpty = true
		}
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			metric = m.Value
		}
	}
	if !nonEmpty {
		return "", nil, fmt.Errorf("%w: %q: needs at least one matcher that does not match the empty string", ErrInvalidSelector, s)
	}
	if matchesEverything(ms) {
		return "", nil, fmt.Errorf("%w: %q matches every series: name a metric, or narrow it with a matcher such as job=\"node\"", ErrInvalidSelector, s)
	}
	return metric, ms, nil
}

// universalProbes are names and label values of unrelated shapes: a
// matcher matching all of them (.+, .*, a|.*, a negative matcher) does not
// narrow anything.
var universalProbes = []string{"a", "Z", "0", "_", ":", "zz9", "node_load1", "slapipe_probe_x", "up", "x.y-z/w"}

// matchesEverything reports whether no matcher of ms narrows the series:
// each matches every probe, as {__name__=~".+"} or {job=~".*",job!="x"} do.
func matchesEverything(ms []*labels.Matcher) bool {
	for _, m := range ms {
		for _, p := range universalProbes {
			if !m.Matches(p) {
				return false
			}
		}
	}
	return true
}

// hasComment reports whether s holds a PromQL comment (# outside quotes),
// which the parser would silently drop.
func hasComment(s string) bool {
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case quote != 0 && r == '\\' && quote != '`':
			escaped = true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
		case r == '"' || r == '\'' || r == '`':
			quote = r
		case r == '#':
			return true
		}
	}
	return false
}

// querySelector renders the PromQL selector for one metric name and the
// selector's matchers other than those on __name__ (the name pins them).
func querySelector(metric string, matchers []*labels.Matcher) string {
	vs := &parser.VectorSelector{}
	if model.LegacyValidation.IsValidMetricName(metric) {
		vs.Name = metric
	}
	// An equality matcher cannot fail to build.
	vs.LabelMatchers = append(vs.LabelMatchers, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, metric))
	for _, m := range matchers {
		if m.Name != labels.MetricName {
			vs.LabelMatchers = append(vs.LabelMatchers, m)
		}
	}
	return vs.String()
}

// matchersString renders matchers as a selector for the series and label
// values APIs (match[] parameter).
func matchersString(matchers []*labels.Matcher) string {
	vs := &parser.VectorSelector{LabelMatchers: matchers}
	return vs.String()
}
