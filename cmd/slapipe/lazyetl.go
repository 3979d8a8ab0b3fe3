package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/slapipe/slapipe/etl"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// lazyETL builds the ETL when a run needs it and builds it again after a
// failure. etl.New needs Kafka (it creates the topics), and the SLA manager
// must start and answer violations while Kafka is down; runs then fail with
// the reason until the broker is back.
type lazyETL struct {
	cfg    etl.Config
	deps   etl.Deps
	logger *slog.Logger

	mu sync.Mutex
	e  *etl.ETL
}

// get returns the ETL, building it if needed.
func (l *lazyETL) get() (*etl.ETL, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.e != nil {
		return l.e, nil
	}
	e, err := etl.New(l.cfg, l.deps)
	if err != nil {
		return nil, err
	}
	l.e = e
	return e, nil
}

// Run implements slamanager.ETLRunner.
func (l *lazyETL) Run(ctx context.Context, opts etl.RunOptions) (*slapipev1.Run, error) {
	e, err := l.get()
	if err != nil {
		return nil, err
	}
	return e.Run(ctx, opts)
}

// Close releases the ETL if it was built.
func (l *lazyETL) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.e == nil {
		return nil
	}
	err := l.e.Close()
	l.e = nil
	if errors.Is(err, etl.ErrClosed) {
		return nil
	}
	return err
}
