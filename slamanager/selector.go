package slamanager

import (
	"fmt"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/slapipe/slapipe/etl"
	"github.com/slapipe/slapipe/pkg/promsource"
)

// promSeries is one series pulled from Prometheus, counters as rates.
type promSeries = promsource.Series

type (
	etlRunOptions = etl.RunOptions
	etlProgress   = etl.Progress
)

// defaultWatchList is what a run covers besides the SLA set by default.
var defaultWatchList = etl.DefaultWatchList

// parseSelector validates an objective's selector with the ETL's parser and
// returns its metric name and matchers. Name patterns are refused: an
// objective's forecasts are looked up by metric name.
func parseSelector(s string) (string, []*labels.Matcher, error) {
	metric, ms, err := promsource.ParseSelector(s)
	if err != nil {
		return "", nil, err
	}
	if metric == "" {
		return "", nil, fmt.Errorf("%w: %q must name exactly one metric (e.g. node_load1 or node_filesystem_avail_bytes{mountpoint=\"/\"}), not a pattern", promsource.ErrInvalidSelector, s)
	}
	return metric, ms, nil
}
