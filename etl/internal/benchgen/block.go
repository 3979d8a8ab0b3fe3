package main

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// blockSink appends the samples to a TSDB block writer, committing every
// series, and flushes one block (24 h long at most) into the data
// directory at close.
type blockSink struct {
	w   *tsdb.BlockWriter
	app storage.Appender
	cur labels.Labels
	err error
}

func newBlockSink(dir string) (*blockSink, error) {
	w, err := tsdb.NewBlockWriter(slog.New(slog.DiscardHandler), dir, (24 * time.Hour).Milliseconds())
	if err != nil {
		return nil, err
	}
	return &blockSink{w: w}, nil
}

func (*blockSink) family(family) {}

// labelPair reads one name="value" of the rendered label sets.
var labelPair = regexp.MustCompile(`(\w+)="([^"]*)"`)

func (s *blockSink) series(name, lbls, instance string) {
	s.commit()
	b := labels.NewBuilder(labels.EmptyLabels())
	b.Set(labels.MetricName, name)
	for _, m := range labelPair.FindAllStringSubmatch(lbls, -1) {
		b.Set(m[1], m[2])
	}
	b.Set("instance", instance)
	b.Set("job", "node")
	s.cur = b.Labels()
	s.app = s.w.Appender(context.Background())
}

func (s *blockSink) sample(ts int64, v float64) {
	if s.err == nil {
		_, s.err = s.app.Append(0, s.cur, ts*1000, v)
	}
}

func (s *blockSink) commit() {
	if s.app != nil && s.err == nil {
		s.err = s.app.Commit()
	}
	s.app = nil
}

func (s *blockSink) close() error {
	s.commit()
	if s.err != nil {
		return fmt.Errorf("appending: %w", s.err)
	}
	if _, err := s.w.Flush(context.Background()); err != nil {
		return fmt.Errorf("writing the block: %w", err)
	}
	return s.w.Close()
}
