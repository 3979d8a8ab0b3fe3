package slamanager

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"golang.org/x/sync/errgroup"
	"gonum.org/v1/gonum/stat/distuv"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// z975 is the standard normal quantile of 0.975: the stored intervals are
// 95 % ones, mean ± z975·sigma_h.
var z975 = distuv.UnitNormal.Quantile(0.975)

// horizonSeconds is the contract's forecast horizon as GetPredictionsResponse
// reports it.
var horizonSeconds = slapipev1.ForecastHorizon.Seconds()

// outsideProb is P(X outside b) for X ~ N(mean, sigma). A degenerate
// distribution (sigma 0 or unknown) is certain: 1 when mean is out, else 0.
func outsideProb(mean, sigma float64, b bounds) float64 {
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		if b.excess(mean) > 0 {
			return 1
		}
		return 0
	}
	p := 0.0
	if b.min != nil {
		p += distuv.UnitNormal.CDF((*b.min - mean) / sigma)
	}
	if b.max != nil {
		p += distuv.UnitNormal.CDF((mean - *b.max) / sigma)
	}
	return min(max(p, 0), 1)
}

// predict turns one stored forecast into a prediction over the horizon.
//
// probability is max over the steps h of P(outside at h), each step's value
// taken as N(mean_h, sigma_h) with sigma_h = (upper_h-lower_h)/(2·z975). The
// alternative 1-∏(1-P_h) assumes the steps' errors independent; forecast
// errors are strongly autocorrelated (a level or trend error shifts every
// step the same way), so that product turns 120 steps of 2 % each into 91 %,
// crying wolf on every series near a bound. max_h is exact when the errors
// are perfectly correlated and a lower bound of the true exit probability
// otherwise, so it never overstates; it is also monotone in the horizon.
//
// It returns false when the message has no usable forecast.
func predict(o *slapipev1.Objective, msg *slapipev1.SeriesAnalysis) (*slapipev1.Prediction, bool) {
	fc := msg.GetForecast()
	if fc == nil || len(fc.GetPoints()) == 0 {
		return nil, false
	}
	b := boundsOf(o)
	rangeEnd := msg.GetRangeEnd().AsTime()
	step := time.Duration(msg.GetStepSeconds() * float64(time.Second))
	limit := rangeEnd.Add(slapipev1.ForecastHorizon)
	p := &slapipev1.Prediction{
		Objective: o.GetName(),
		Metric:    msg.GetMetric(),
		Labels:    msg.GetLabels(),
		SeriesId:  msg.GetSeriesId(),
		Model:     fc.GetModel(),
		Min:       math.Inf(1),
		Max:       math.Inf(-1),
	}
	var sum float64
	var n int
	for k, pt := range fc.GetPoints() {
		t := rangeEnd.Add(time.Duration(k+1) * step)
		if pt.GetTime() != nil {
			t = pt.GetTime().AsTime()
		}
		if t.After(limit) {
			break
		}
		mean := pt.GetMean()
		if math.IsNaN(mean) {
			continue
		}
		sigma := (pt.GetUpper() - pt.GetLower()) / (2 * z975)
		p.Probability = max(p.Probability, outsideProb(mean, sigma, b))
		if p.FirstCrossing == nil && b.excess(mean) > 0 {
			p.FirstCrossing = timestamppb.New(t)
		}
		p.Min, p.Max = min(p.Min, mean), max(p.Max, mean)
		sum += mean
		n++
	}
	if n == 0 {
		return nil, false
	}
	p.Mean = sum / float64(n)
	return p, true
}

// matches reports whether a series' labels satisfy the selector's matchers
// (the metric name matcher is settled by the store query).
func matches(ms []*labels.Matcher, ls map[string]string) bool {
	for _, m := range ms {
		if m.Name == labels.MetricName {
			continue
		}
		if !m.Matches(ls[m.Name]) {
			return false
		}
	}
	return true
}

// GetPredictions estimates, per objective and series, the probability of
// leaving the bounds within the next 10 minutes from the latest stored
// forecasts. Results older than two ETL intervals (15 minutes without a
// schedule) are marked stale; age_seconds always says how old they are.
func (m *Manager) GetPredictions(ctx context.Context, _ *slapipev1.GetPredictionsRequest) (*slapipev1.GetPredictionsResponse, error) {
	set, err := m.currentSet(ctx)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return m.predictions(ctx, set)
}

// predCache is the last predictions answer: forecasts change only when a
// new run is stored, so the answer is rebuilt only for a new run or set.
type predCache struct {
	runID   string
	version int64
	resp    *slapipev1.GetPredictionsResponse
}

func (m *Manager) predictions(ctx context.Context, set *slapipev1.SLASet) (*slapipev1.GetPredictionsResponse, error) {
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	runID, err := m.store.LatestRunID(sctx)
	switch {
	case isNotFound(err):
		// Nothing analysed yet: an empty answer, not an outage.
		resp := &slapipev1.GetPredictionsResponse{HorizonSeconds: horizonSeconds}
		m.exp.setPredictions(resp)
		return resp, nil
	case err != nil:
		return m.stalePredictions(fmt.Errorf("finding the latest run: %w", err))
	}
	m.setMu.RLock()
	c := m.pred
	m.setMu.RUnlock()
	if c == nil || c.runID != runID || c.version != set.GetVersion() {
		resp, err := m.readPredictions(sctx, set, runID)
		if err != nil {
			return m.stalePredictions(err)
		}
		c = &predCache{runID: runID, version: set.GetVersion(), resp: resp}
		m.setMu.Lock()
		m.pred = c
		m.setMu.Unlock()
		m.exp.setPredictions(resp)
		m.recordPredictions(ctx, resp)
	}
	return m.aged(c.resp, false), nil
}

// readPredictions builds the answer from each objective's latest stored
// forecasts; runID, the latest run, names the answer.
func (m *Manager) readPredictions(ctx context.Context, set *slapipev1.SLASet, runID string) (*slapipev1.GetPredictionsResponse, error) {
	objs := set.GetObjectives()
	found := make([][]*slapipev1.SeriesAnalysis, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	for i, o := range objs {
		metric, ms, err := parseSelector(o.GetSelector())
		if err != nil {
			continue
		}
		g.Go(func() error {
			// No RunID: the store reads the latest run that analysed this
			// metric, so a run limited to other selectors hides nothing.
			// predict reads only the header and the forecast.
			_, msgs, err := m.store.Analyses(gctx, store.Query{Metric: metric, Parts: store.PartForecast})
			if err != nil && !isNotFound(err) {
				return fmt.Errorf("reading forecasts of %s: %w", metric, err)
			}
			for _, msg := range msgs {
				if matches(ms, msg.GetLabels()) {
					found[i] = append(found[i], msg)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	resp := &slapipev1.GetPredictionsResponse{HorizonSeconds: horizonSeconds, RunId: runID}
	var newest time.Time
	for i, o := range objs {
		for _, msg := range found[i] {
			p, ok := predict(o, msg)
			if !ok {
				continue
			}
			resp.Predictions = append(resp.Predictions, p)
			if msg.GetComputedAt() != nil && msg.GetComputedAt().AsTime().After(newest) {
				newest = msg.GetComputedAt().AsTime()
			}
		}
	}
	if !newest.IsZero() {
		resp.ComputedAt = timestamppb.New(newest)
	}
	return resp, nil
}

// aged is a copy of resp with its age as of now; it is stale when forced or
// older than staleAfter. resp itself is shared and never modified.
func (m *Manager) aged(resp *slapipev1.GetPredictionsResponse, forceStale bool) *slapipev1.GetPredictionsResponse {
	out := &slapipev1.GetPredictionsResponse{HorizonSeconds: resp.HorizonSeconds, Predictions: resp.Predictions,
		RunId: resp.RunId, ComputedAt: resp.ComputedAt, Stale: forceStale}
	if ts := resp.GetComputedAt(); ts != nil {
		age := m.now().Sub(ts.AsTime())
		out.AgeSeconds = max(0, age.Seconds())
		out.Stale = out.Stale || age > m.staleAfter()
	}
	return out
}

// stalePredictions serves the last answer when the store cannot be read.
func (m *Manager) stalePredictions(cause error) (*slapipev1.GetPredictionsResponse, error) {
	m.met.degraded.WithLabelValues("predictions").Inc()
	m.setMu.RLock()
	c := m.pred
	m.setMu.RUnlock()
	if c == nil {
		return nil, status.Errorf(codes.Unavailable, "predictions: %v, and no earlier answer to fall back on", cause)
	}
	m.log.Warn("serving stale predictions", "cause", cause)
	return m.aged(c.resp, true), nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
