package slamanager

import (
	"math"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// bounds are an objective's limits; a nil pointer is an absent bound.
type bounds struct {
	min, max *float64
}

func boundsOf(o *slapipev1.Objective) bounds { return bounds{min: o.Min, max: o.Max} }

// excess is how far v lies outside the bounds: positive when out of range,
// zero on a bound (which is inside), and minus the distance to the nearest
// bound when inside. Ranking samples by excess gives the worst value both
// when the series left the range and when it never did.
func (b bounds) excess(v float64) float64 {
	e := math.Inf(-1)
	if b.min != nil {
		e = max(e, *b.min-v)
	}
	if b.max != nil {
		e = max(e, v-*b.max)
	}
	return e
}

// countWindow is the behaviour of one series over the samples whose time t
// satisfies end-d < t <= end, so a window of d holds d/step samples. Sample
// i is at s.Start + i*s.Step; NaN is a gap, which is neither in nor out and
// ends an episode. An episode is a maximal run of consecutive out-of-range
// samples; one that began before the window counts once, for its part inside.
func countWindow(s *promSeries, b bounds, end time.Time, d time.Duration) *slapipev1.Violation {
	v := &slapipev1.Violation{Compliance: 1}
	step := s.Step
	if step <= 0 || len(s.Values) == 0 {
		return v
	}
	// Index bounds are computed, not searched: the grid is regular.
	i0 := 0
	if off := end.Add(-d).Sub(s.Start); off >= 0 {
		i0 = int(off/step) + 1
	}
	i1 := len(s.Values) - 1
	if end.Before(s.Start) {
		i1 = -1
	} else if last := int(end.Sub(s.Start) / step); last < i1 {
		i1 = last
	}
	var (
		inEpisode bool
		worstEx   = math.Inf(-1)
		worstIdx  = -1
		firstOut  = -1
		lastOut   = -1
	)
	for i := i0; i <= i1; i++ {
		x := s.Values[i]
		if math.IsNaN(x) {
			inEpisode = false
			continue
		}
		v.Samples++
		ex := b.excess(x)
		if ex > worstEx {
			worstEx, worstIdx = ex, i
		}
		if ex <= 0 {
			inEpisode = false
			continue
		}
		v.SamplesOut++
		if !inEpisode {
			v.Episodes++
			inEpisode = true
		}
		if firstOut < 0 {
			firstOut = i
		}
		lastOut = i
	}
	at := func(i int) *timestamppb.Timestamp {
		return timestamppb.New(s.Start.Add(time.Duration(i) * step))
	}
	v.SecondsOut = float64(v.SamplesOut) * step.Seconds()
	if v.Samples > 0 {
		v.Compliance = 1 - float64(v.SamplesOut)/float64(v.Samples)
		v.Worst, v.WorstAt = s.Values[worstIdx], at(worstIdx)
	}
	if firstOut >= 0 {
		v.FirstViolation, v.LastViolation = at(firstOut), at(lastOut)
	}
	return v
}

// objectivePull is what one objective's pull returned.
type objectivePull struct {
	objective *slapipev1.Objective
	metric    string
	series    []promSeries
}

// countViolations turns the pulls into one response holding every window,
// rows ordered by objective (set order) then by labels.
func countViolations(pulls []objectivePull, end, computedAt time.Time) *slapipev1.GetViolationsResponse {
	resp := &slapipev1.GetViolationsResponse{ComputedAt: timestamppb.New(computedAt)}
	sorted := make([][]*promSeries, len(pulls))
	for i, p := range pulls {
		sorted[i] = sortedSeries(p.series)
	}
	for _, w := range slapipev1.Windows {
		wv := &slapipev1.WindowViolations{Window: w.Name}
		for pi, p := range pulls {
			for _, s := range sorted[pi] {
				row := countWindow(s, boundsOf(p.objective), end, w.Duration)
				row.Objective = p.objective.GetName()
				row.Metric = p.metric
				// Rows share the pull's label maps, which no one modifies;
				// Prometheus series labels never hold __name__.
				row.Labels = s.Labels
				row.Window = w.Name
				row.SeriesId = s.ID
				wv.Rows = append(wv.Rows, row)
			}
		}
		resp.Windows = append(resp.Windows, wv)
	}
	return resp
}

// sortedSeries orders series by their labels so answers are stable.
func sortedSeries(in []promSeries) []*promSeries {
	out := make([]*promSeries, len(in))
	keys := make(map[*promSeries]string, len(in))
	for i := range in {
		out[i] = &in[i]
		keys[out[i]] = labelKey(in[i].Labels)
	}
	sort.SliceStable(out, func(a, b int) bool { return keys[out[a]] < keys[out[b]] })
	return out
}

// labelKey is a canonical form of a label set, for ordering.
func labelKey(ls map[string]string) string {
	names := make([]string, 0, len(ls))
	for n := range ls {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(0)
		b.WriteString(ls[n])
		b.WriteByte(0)
	}
	return b.String()
}

// filterWindow keeps only the named window of resp ("" keeps all); resp is
// shared, so a new response is built.
func filterWindow(resp *slapipev1.GetViolationsResponse, name string) *slapipev1.GetViolationsResponse {
	out := &slapipev1.GetViolationsResponse{Stale: resp.Stale, AgeSeconds: resp.AgeSeconds, ComputedAt: resp.ComputedAt}
	for _, w := range resp.Windows {
		if name == "" || w.Window == name {
			out.Windows = append(out.Windows, w)
		}
	}
	return out
}
