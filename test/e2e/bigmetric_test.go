package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	"github.com/slapipe/slapipe/pkg/server"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// bigMetricSeries is the series count of the metric TestBigMetricReadAtOnce
// stores.
const bigMetricSeries = 10000

// maxRetrievalRSS is the most memory `slapipe dataretrieval` may hold while
// 8 clients read a 10,000-series metric page by page (issue #15).
const maxRetrievalRSS = 200 << 20

// procKB reads a "Name: N kB" line of /proc/pid/status, in bytes.
func procKB(pid int, name string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", name, pid)
}

// TestBigMetricReadAtOnce stores 10,000 series of one metric in MariaDB and
// has 8 clients read all their forecasts at once from the `slapipe
// dataretrieval` process, a page of 500 at a time, following the
// service's retry hints when it is busy: each client gets every series
// exactly once, and the process's peak memory (VmHWM) stays under 200 MB.
// `slapipe ctl stats -o json` then prints all 10,000 series, following the
// pages itself.
func TestBigMetricReadAtOnce(t *testing.T) {
	baseDSN := testenv.MySQLDSN(t)
	dsn := testenv.NewMySQLDatabase(t, baseDSN, "e2e")
	st := testkit.OpenStore(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	const run = "0193a5b0-0000-7000-8000-0000000b1600"
	as := fixtures.Analyses(run, bigMetricSeries)
	metric := as[0].GetMetric()
	for _, a := range as {
		a.Metric = metric
	}
	t0 := time.Now()
	for i := 0; i < len(as); i += 1000 {
		require.NoError(t, st.WriteAnalyses(ctx, as[i:min(i+1000, len(as))]))
	}
	require.NoError(t, st.UpsertRun(ctx, runRecord(run, bigMetricSeries)))
	t.Logf("stored %d series in %s", bigMetricSeries, time.Since(t0).Round(time.Millisecond))

	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startSlapipe(t, "dataretrieval", "dataretrieval", "--listen", addr, "--mysql-dsn", dsn, "--metrics-listen", "127.0.0.1:0")
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	require.NoError(t, err)
	defer conn.Close()
	client := slapipev1.NewDataRetrievalClient(conn)
	waitFor(t, "dataretrieval serving", func() (bool, error) {
		_, err := client.ListRuns(ctx, &slapipev1.ListRunsRequest{})
		return err == nil, nil
	})

	var busy sync.Map
	readAll := func(c int) (int, error) {
		seen := map[string]bool{}
		q := &slapipev1.SeriesQuery{Metric: metric, PageSize: 500}
		for pages := 0; pages < 200; pages++ {
			resp, err := client.GetForecast(ctx, q)
			if status.Code(err) == codes.ResourceExhausted {
				busy.Store(c, true)
				time.Sleep(server.RetryDelay(err))
				continue
			}
			if err != nil {
				return 0, err
			}
			for _, s := range resp.GetSeries() {
				if seen[s.GetSeries().GetSeriesId()] || len(s.GetForecast().GetPoints()) == 0 {
					return 0, fmt.Errorf("client %d: series %s twice or without points", c, s.GetSeries().GetSeriesId())
				}
				seen[s.GetSeries().GetSeriesId()] = true
			}
			if resp.GetNextPageToken() == "" {
				return len(seen), nil
			}
			q.PageToken = resp.GetNextPageToken()
		}
		return 0, fmt.Errorf("client %d: more than 200 pages", c)
	}
	pid := p.cmd.Process.Pid
	rssBefore, err := procKB(pid, "VmRSS")
	require.NoError(t, err)
	t0 = time.Now()
	var g errgroup.Group
	counts := make([]int, 8)
	for c := range counts {
		g.Go(func() (err error) {
			counts[c], err = readAll(c)
			return err
		})
	}
	require.NoError(t, g.Wait())
	elapsed := time.Since(t0)
	peak, err := procKB(pid, "VmHWM")
	require.NoError(t, err)
	for c, n := range counts {
		require.Equal(t, bigMetricSeries, n, "client %d", c)
	}
	nBusy := 0
	busy.Range(func(any, any) bool { nBusy++; return true })
	t.Logf("8 clients read %d forecasts each in %s; dataretrieval RSS %d MB before, peak %d MB; %d clients were told to retry",
		bigMetricSeries, elapsed.Round(time.Millisecond), rssBefore>>20, peak>>20, nBusy)
	require.Less(t, peak, int64(maxRetrievalRSS), "dataretrieval peak memory")

	cmd := exec.CommandContext(ctx, slapipeBinary(t), "ctl", "stats", metric, "-o", "json", "--retrieval-addr", addr)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "ctl stats: %s", stderr.String())
	var doc struct {
		RunID  string `json:"run_id"`
		Series []struct {
			SeriesID string `json:"series_id"`
		} `json:"series"`
	}
	require.NoError(t, json.Unmarshal(out, &doc))
	require.Equal(t, run, doc.RunID)
	require.Len(t, doc.Series, bigMetricSeries, "ctl -o json is the whole answer")
	ids := map[string]bool{}
	for _, s := range doc.Series {
		ids[s.SeriesID] = true
	}
	require.Len(t, ids, bigMetricSeries)
}
