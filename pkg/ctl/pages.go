package ctl

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/slapipe/slapipe/pkg/server"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Bounds of reading a metric's series page by page.
const (
	// queryPageSize is the page size ctl asks for: the service's largest.
	queryPageSize = slapipev1.MaxQueryPageSize
	// maxQueryPages bounds the pages of one command (500k series).
	maxQueryPages = 1000
	// busyRetries is how often a page refused as ResourceExhausted is asked
	// again, after the service's retry hint.
	busyRetries = 5
)

// paged is an answer of a paged series query.
type paged interface {
	GetRunId() string
	GetNextPageToken() string
}

// allPages reads every page of sq through call, each under its own
// --timeout, and appends each later page to the first with merge: -o json
// and the tables always show the whole answer. A page refused because the
// service is busy is asked again after its retry hint.
func allPages[R paged](ctx context.Context, c *Client, sq *slapipev1.SeriesQuery,
	call func(context.Context, *slapipev1.SeriesQuery) (R, error), merge func(into, page R)) (R, error) {
	var first R
	q := &slapipev1.SeriesQuery{Metric: sq.GetMetric(), SeriesId: sq.GetSeriesId(), RunId: sq.GetRunId(), PageSize: queryPageSize}
	for page := 0; ; page++ {
		if page == maxQueryPages {
			return first, fmt.Errorf("more than %d pages of %d series: read one series with --series", maxQueryPages, queryPageSize)
		}
		resp, err := onePage(ctx, c, q, call)
		if err != nil {
			return first, err
		}
		if page == 0 {
			first = resp
			// Later pages stay on the first page's run.
			q.RunId = resp.GetRunId()
		} else {
			merge(first, resp)
		}
		if resp.GetNextPageToken() == "" {
			return first, nil
		}
		q.PageToken = resp.GetNextPageToken()
	}
}

func onePage[R paged](ctx context.Context, c *Client, q *slapipev1.SeriesQuery,
	call func(context.Context, *slapipev1.SeriesQuery) (R, error)) (R, error) {
	for try := 0; ; try++ {
		pctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		resp, err := call(pctx, q)
		cancel()
		if status.Code(err) != codes.ResourceExhausted || try == busyRetries {
			return resp, err
		}
		wait := server.RetryDelay(err)
		if wait <= 0 {
			return resp, err // too large, not busy: asking again cannot help
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return resp, err
		case <-t.C:
		}
	}
}
