package deploy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/slapipe/slapipe/internal/testing/testkit"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
	"github.com/slapipe/slapipe/slamanager"
)

// drive uses the services as a user would: saves the default SLA set, runs
// the ETL, waits for datastorage to store it, then asks for violations,
// predictions, the status, and the retrieval service's metrics and stats.
func drive(ctx context.Context, slaAddr, retrievalAddr string, db *sql.DB) (*slapipev1.Run, error) {
	dial := func(addr string) (*grpc.ClientConn, error) {
		return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	sc, err := dial(slaAddr)
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	rc, err := dial(retrievalAddr)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	sla := slapipev1.NewSLAManagerClient(sc)
	ret := slapipev1.NewDataRetrievalClient(rc)

	if _, err := sla.SetSLA(ctx, &slapipev1.SetSLARequest{Objectives: slamanager.DefaultObjectives()}); err != nil {
		return nil, fmt.Errorf("saving the SLA set: %w", err)
	}
	stream, err := sla.RunETL(ctx, &slapipev1.RunETLRequest{})
	if err != nil {
		return nil, fmt.Errorf("starting the ETL: %w", err)
	}
	var run *slapipev1.Run
	for {
		pr, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("following the ETL: %w", err)
		}
		if pr.GetRun() != nil {
			run = pr.GetRun()
		}
	}
	if run == nil || run.GetStatus() != "succeeded" || run.GetSeries() == 0 {
		return nil, fmt.Errorf("ETL run did not succeed with series: %v", run)
	}
	if err := waitStored(ctx, db, run); err != nil {
		return nil, err
	}
	if _, err := sla.GetViolations(ctx, &slapipev1.GetViolationsRequest{}); err != nil {
		return nil, fmt.Errorf("violations: %w", err)
	}
	pred, err := sla.GetPredictions(ctx, &slapipev1.GetPredictionsRequest{})
	if err != nil {
		return nil, fmt.Errorf("predictions: %w", err)
	}
	if pred.GetRunId() != run.GetRunId() || len(pred.GetPredictions()) == 0 {
		return nil, fmt.Errorf("predictions of run %q (%d), want run %q", pred.GetRunId(), len(pred.GetPredictions()), run.GetRunId())
	}
	if _, err := sla.GetStatus(ctx, &slapipev1.GetStatusRequest{}); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	ms, err := ret.ListMetrics(ctx, &slapipev1.ListMetricsRequest{})
	if err != nil || len(ms.GetMetrics()) == 0 {
		return nil, fmt.Errorf("retrieval metrics: %v (%d metrics)", err, len(ms.GetMetrics()))
	}
	if _, err := ret.GetStats(ctx, &slapipev1.SeriesQuery{Metric: ms.GetMetrics()[0].GetName()}); err != nil {
		return nil, fmt.Errorf("retrieval stats: %w", err)
	}
	return run, nil
}

// waitStored polls until datastorage has stored the run summary and every
// analysis of run.
func waitStored(ctx context.Context, db *sql.DB, run *slapipev1.Run) error {
	var reported bool
	var n int64
	for {
		err := db.QueryRowContext(ctx, `SELECT r.reported, (SELECT COUNT(*) FROM analyses a WHERE a.run_id = r.run_id)
			FROM runs r WHERE r.run_id = ?`, run.GetRunId()).Scan(&reported, &n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading the stored run: %w", err)
		}
		if reported && n == run.GetSeries() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("run %s: %d of %d analyses stored, summary stored %v: %w", run.GetRunId(), n, run.GetSeries(), reported, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// deadLetterOne produces a message datastorage cannot decode and waits for
// it to be counted as dead-lettered.
func deadLetterOne(ctx context.Context, brokers []string, g prometheus.Gatherer) error {
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: slapipev1.DefaultTopic, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("garbage"), Value: []byte("not a protobuf \xff\xfe")}); err != nil {
		return fmt.Errorf("producing the garbage message: %w", err)
	}
	for {
		if v, _ := testkit.Sum(g, "slapipe_datastorage_dlq_messages_total"); v >= 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("garbage message never dead-lettered: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
