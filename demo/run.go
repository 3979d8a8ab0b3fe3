package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"

	"github.com/slapipe/slapipe/pkg/ctl"
	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// report is everything the demo prints.
type report struct {
	promURL, storeDesc, metricsURL string
	embeddedProm                   bool
	historySeries, ingested        int
	ingestTook                     time.Duration
	brokers                        []string
	embeddedKafka                  bool
	slaAddr, retrievalAddr         string
	defaultAddrs                   bool
	etlInterval                    time.Duration

	run       *slapipev1.Run
	storeTook time.Duration
	status    *slapipev1.GetStatusResponse
	analyses  []*slapipev1.SeriesAnalysis
	wall      time.Duration
}

// runOnce runs one ETL through the SLA manager's RunETL (the path `slapipe
// ctl etl run` takes), waits until datastorage has stored all of its series,
// and gathers the report through the SLA manager's API and the store.
func (p *pipeline) runOnce(ctx context.Context, cfg Config, e *env) (*report, error) {
	select {
	case <-p.manager.Ready():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r := &report{
		promURL: e.promURL, storeDesc: e.storeDesc, brokers: e.brokers,
		embeddedProm: e.prom != nil, embeddedKafka: e.broker != nil,
		historySeries: e.histLen,
		slaAddr:       p.manager.Addr().String(),
		etlInterval:   cfg.ETLInterval,
	}
	select {
	case a := <-p.retrievalAddr:
		r.retrievalAddr = a.String()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r.defaultAddrs = r.slaAddr == DefaultSLAListen && r.retrievalAddr == DefaultRetrievalListen
	if e.prom != nil {
		r.ingested, r.ingestTook = e.prom.Ingested()
	}

	opts, err := p.creds.DialOptions(r.slaAddr)
	if err != nil {
		return nil, fmt.Errorf("demo: connecting to the slamanager at %s: %w", r.slaAddr, err)
	}
	conn, err := grpc.NewClient(r.slaAddr, opts...)
	if err != nil {
		return nil, fmt.Errorf("demo: connecting to the slamanager at %s: %w", r.slaAddr, err)
	}
	defer conn.Close()
	sla := slapipev1.NewSLAManagerClient(conn)

	if r.run, err = runETL(ctx, sla); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if r.analyses, err = waitStored(ctx, e.st, r.run, cfg.StoreTimeout); err != nil {
		return nil, err
	}
	r.storeTook = time.Since(t0)

	if r.status, err = sla.GetStatus(ctx, &slapipev1.GetStatusRequest{}); err != nil {
		return nil, fmt.Errorf("demo: reading the SLA status: %w", err)
	}
	return r, nil
}

// runETL asks the SLA manager for a run and follows its progress to the end.
func runETL(ctx context.Context, c slapipev1.SLAManagerClient) (*slapipev1.Run, error) {
	stream, err := c.RunETL(ctx, &slapipev1.RunETLRequest{})
	if err != nil {
		return nil, fmt.Errorf("demo: starting the etl run: %w", err)
	}
	run, err := ctl.FollowRun(stream, nil)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return run, nil
}

// storeReader is what waitStored needs from the store.
type storeReader interface {
	ListRuns(ctx context.Context, limit int) ([]*slapipev1.Run, error)
	Analyses(ctx context.Context, q store.Query) (string, []*slapipev1.SeriesAnalysis, error)
}

// waitStored polls the store until the run is recorded and all of its
// series are stored, and returns the stored analyses.
func waitStored(ctx context.Context, st storeReader, run *slapipev1.Run, timeout time.Duration) ([]*slapipev1.SeriesAnalysis, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	want := int(run.GetSeries())
	var have int
	for {
		recorded, msgs, err := storedRun(ctx, st, run.GetRunId())
		if err != nil {
			return nil, err
		}
		have = len(msgs)
		if recorded && have >= want {
			return msgs, nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("demo: datastorage stored %d of the %d series of run %s within %s (run recorded: %t)",
					have, want, run.GetRunId(), timeout, recorded)
			}
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// reportParts are the parts of an analysis the report reads (renderSeries):
// window means and extremes, stationarity, season and forecast model.
const reportParts = store.PartWindows | store.PartADF | store.PartSeasonality | store.PartForecast

func storedRun(ctx context.Context, st storeReader, runID string) (recorded bool, msgs []*slapipev1.SeriesAnalysis, err error) {
	runs, err := st.ListRuns(ctx, 20)
	if err != nil {
		return false, nil, fmt.Errorf("demo: reading runs: %w", err)
	}
	for _, r := range runs {
		recorded = recorded || r.GetRunId() == runID
	}
	_, msgs, err = st.Analyses(ctx, store.Query{RunID: runID, Parts: reportParts})
	if errors.Is(err, store.ErrNotFound) {
		return recorded, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("demo: reading run %s: %w", runID, err)
	}
	return recorded, msgs, nil
}
