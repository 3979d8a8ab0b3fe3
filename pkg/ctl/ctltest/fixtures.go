package ctltest

import (
	"math"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// RunID is the run every fixture belongs to.
const RunID = "0190c6a2-7d3e-7000-8000-000000000001"

// Now is the fixtures' "now": the end of the analysed range.
var Now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// Fixed values the tests look for in tables and JSON.
const (
	MemFreeMin        = 268435456.0
	ViolatedObjective = "memory-free"
	ViolatedSamples   = 720
	ViolatedOut       = 60
	ViolatedEpisodes  = 2
	ViolatedCompl     = 0.9166666666666666
	PredictedCrossing = "2025-06-01T12:07:30Z"
	DiskSeriesSDA     = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	MemSeries         = "00112233445566778899aabbccddeeff"
	// BudgetSpent is what the worst series of memory-free spent of its
	// budget (3024 s: 0.5 % of 7 days); at a 1 h burn rate of 24 (0.12 s out
	// per second) the 1512 s left last 3.5 h.
	BudgetSpent     = 1512.0
	BudgetExhausted = "2025-06-01T15:30:00Z"
)

func f(v float64) *float64 { return &v }

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// DefaultObjectives is the SLA set of arch.md.
func DefaultObjectives() []*slapipev1.Objective {
	return []*slapipev1.Objective{
		{Name: "disk-write", Selector: "node_disk_written_bytes_total", Max: f(100e6)},
		{Name: "memory-free", Selector: "node_memory_MemFree_bytes", Min: f(MemFreeMin), Target: f(0.995)},
		{Name: "filesystem-avail", Selector: `node_filesystem_avail_bytes{mountpoint="/"}`, Min: f(1073741824)},
		{Name: "memory-active", Selector: "node_memory_Active_bytes", Max: f(17179869184)},
		{Name: "net-rx-packets", Selector: "node_network_receive_packets_total", Max: f(50000)},
	}
}

func violationRows(window string, samples int64) []*slapipev1.Violation {
	memLabels := map[string]string{"instance": "backfill:9100", "job": "node"}
	rows := []*slapipev1.Violation{
		{Objective: "disk-write", Metric: "node_disk_written_bytes_total", Window: window, SeriesId: DiskSeriesSDA,
			Labels:  map[string]string{"device": "sda", "instance": "backfill:9100", "job": "node"},
			Samples: samples, Compliance: 1, Worst: 8.5e7},
		// A series with no samples in the window: no worst value.
		{Objective: "net-rx-packets", Metric: "node_network_receive_packets_total", Window: window,
			Labels: map[string]string{"device": "eth0"}, Samples: 0, Compliance: 1, Worst: math.NaN()},
	}
	mem := &slapipev1.Violation{Objective: ViolatedObjective, Metric: "node_memory_MemFree_bytes", Window: window,
		SeriesId: MemSeries, Labels: memLabels, Samples: samples, Compliance: 1, Worst: 3e8}
	if window == "1h" {
		mem.SamplesOut, mem.Episodes, mem.SecondsOut = ViolatedOut, ViolatedEpisodes, 300
		mem.Compliance, mem.Worst = ViolatedCompl, 2e8
		mem.WorstAt = ts(Now.Add(-10 * time.Minute))
		mem.FirstViolation, mem.LastViolation = ts(Now.Add(-40*time.Minute)), ts(Now.Add(-5*time.Minute))
	}
	return append(rows, mem)
}

// NewSLA returns a fake SLA manager with the default set, violations in all
// three windows (memory-free violated in the last hour), predictions, Prometheus
// metrics, two runs and an ETL run of three series.
func NewSLA() *SLA {
	crossing, _ := time.Parse(time.RFC3339, PredictedCrossing)
	run := &slapipev1.Run{RunId: RunID, StartedAt: ts(Now.Add(-2 * time.Second)), FinishedAt: ts(Now),
		Status: "succeeded", Series: 3, PullSeconds: 0.4, AnalyseSeconds: 1.1, PublishSeconds: 0.3,
		TotalSeconds: 1.8, Trigger: "manual"}
	var etl []*slapipev1.ETLProgress
	for _, st := range []string{"pull", "analyse", "publish"} {
		for d := int64(0); d <= 3; d++ {
			etl = append(etl, &slapipev1.ETLProgress{RunId: RunID, Stage: st, Done: d, Total: 3, ElapsedSeconds: float64(d) * 0.3})
		}
	}
	etl = append(etl, &slapipev1.ETLProgress{RunId: RunID, Stage: "done", Done: 3, Total: 3, ElapsedSeconds: 1.8, Run: run})
	return &SLA{
		Set: &slapipev1.SLASet{Objectives: DefaultObjectives(), Version: 1, UpdatedAt: ts(Now.Add(-time.Hour))},
		Violations: &slapipev1.GetViolationsResponse{ComputedAt: ts(Now), Windows: []*slapipev1.WindowViolations{
			{Window: "1h", Rows: violationRows("1h", ViolatedSamples)},
			{Window: "3h", Rows: violationRows("3h", 3*ViolatedSamples)},
			{Window: "12h", Rows: violationRows("12h", 12*ViolatedSamples)},
		}},
		Predictions: &slapipev1.GetPredictionsResponse{HorizonSeconds: slapipev1.ForecastHorizon.Seconds(), RunId: RunID, ComputedAt: ts(Now),
			Predictions: []*slapipev1.Prediction{
				{Objective: "filesystem-avail", Metric: "node_filesystem_avail_bytes",
					Labels:      map[string]string{"mountpoint": "/", "__name__": "node_filesystem_avail_bytes"},
					Probability: 0.83, Min: 9e8, Max: 1.2e9, Mean: 1.05e9, FirstCrossing: ts(crossing), Model: "damped"},
				{Objective: ViolatedObjective, Metric: "node_memory_MemFree_bytes", SeriesId: MemSeries,
					Labels: map[string]string{"instance": "backfill:9100"}, Probability: 0.02, Min: 3e8, Max: 4e8,
					Mean: 3.5e8, Model: "damped_seasonal"},
			}},
		Budget: &slapipev1.GetBudgetResponse{ComputedAt: ts(Now), Budgets: []*slapipev1.Budget{
			{Objective: ViolatedObjective, Metric: "node_memory_MemFree_bytes", SeriesId: "other",
				Labels: map[string]string{"instance": "other:9100"}, Target: 0.995, WindowSeconds: 604800,
				BudgetSeconds: 3024, SpentSeconds: 300, RemainingRatio: 1 - 300.0/3024},
			{Objective: ViolatedObjective, Metric: "node_memory_MemFree_bytes", SeriesId: MemSeries,
				Labels: map[string]string{"instance": "backfill:9100"}, Target: 0.995, WindowSeconds: 604800,
				BudgetSeconds: 3024, SpentSeconds: BudgetSpent, RemainingRatio: 0.5, BurnRate_5M: 30, BurnRate_30M: 28,
				BurnRate_1H: 24, BurnRate_6H: 8, Exhaustion: ts(Now.Add(3*time.Hour + 30*time.Minute))},
		}},
		Metrics: []*slapipev1.PromMetric{
			{Name: "node_memory_MemFree_bytes", Type: "gauge", Help: "Memory information field MemFree_bytes.", Series: 1},
			{Name: "node_disk_written_bytes_total", Type: "counter", Help: "The total number of bytes written successfully.", Series: 2},
		},
		Runs: []*slapipev1.Run{run, {RunId: "0190c6a2-0000-7000-8000-000000000000", StartedAt: ts(Now.Add(-time.Hour)),
			FinishedAt: ts(Now.Add(-time.Hour + time.Second)), Status: "failed", Trigger: "schedule",
			Error: "pulling from prometheus: connection refused", TotalSeconds: 1}},
		ETL: etl,
	}
}

func windows(base float64) []*slapipev1.WindowStats {
	return []*slapipev1.WindowStats{
		{Window: "1h", Samples: 720, Min: base, Max: 2 * base, Mean: 1.5 * base, Stddev: 0.1 * base},
		{Window: "3h", Samples: 2160, Min: base / 2, Max: 2 * base, Mean: 1.4 * base, Stddev: 0.2 * base},
		{Window: "12h", Samples: 8640, Min: base / 4, Max: 3 * base, Mean: 1.3 * base, Stddev: 0.3 * base},
	}
}

// seasonalForecast builds a history tail of 240 samples of a daily-like wave
// and a 120-step forecast continuing it with a widening interval.
func seasonalForecast(level float64) *slapipev1.Forecast {
	fc := &slapipev1.Forecast{Model: "damped_seasonal", Horizon: 120, Sigma: 0.01 * level, Aicc: -1234.5,
		Interval: "empirical", NonNegative: true,
		Params: map[string]float64{"alpha": 0.5, "beta": 0.01, "gamma": 0.1, "phi": 0.98}}
	wave := func(i int) float64 { return level * (1 + 0.2*math.Sin(2*math.Pi*float64(i)/120)) }
	for i := 0; i < 240; i++ {
		fc.History = append(fc.History, wave(i))
	}
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for k := 1; k <= 120; k++ {
		m := wave(239 + k)
		w := 0.02 * level * math.Sqrt(float64(k))
		fc.Points = append(fc.Points, &slapipev1.ForecastPoint{Time: ts(Now.Add(time.Duration(k) * 5 * time.Second)),
			Mean: m, Lower: m - w, Upper: m + w})
		lo, hi, sum = math.Min(lo, m), math.Max(hi, m), sum+m
	}
	fc.PredictedMin, fc.PredictedMax, fc.PredictedMean = lo, hi, sum/120
	return fc
}

// NewRetrieval returns a fake retrieval service holding one memory series
// (seasonal, with a forecast) and two disk series, one of them constant (no
// ADF, no ACF, no season).
func NewRetrieval() *Retrieval {
	common := func(a *slapipev1.SeriesAnalysis) *slapipev1.SeriesAnalysis {
		a.RunId, a.ComputedAt, a.StepSeconds = RunID, ts(Now), 5
		a.RangeStart, a.RangeEnd, a.Samples = ts(Now.Add(-12*time.Hour)), ts(Now), 8641
		return a
	}
	mem := common(&slapipev1.SeriesAnalysis{SeriesId: MemSeries, Metric: "node_memory_MemFree_bytes",
		Labels: map[string]string{"instance": "backfill:9100", "job": "node"}, Transform: "raw", MetricType: "gauge",
		Windows: windows(3e8),
		Adf: &slapipev1.ADF{Statistic: -3.5, Pvalue: 0.008, UsedLag: 12, Nobs: 8628, Critical_1: -3.43,
			Critical_5: -2.86, Critical_10: -2.57, IcBest: 1234.5, Stationary: true},
		Acf:         []float64{1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4},
		Seasonality: &slapipev1.Seasonality{Period: 120, Detected: true, Seasonal: []float64{0.1, -0.1}, Strength: 0.8},
		Forecast:    seasonalForecast(3e8)})
	sda := common(&slapipev1.SeriesAnalysis{SeriesId: DiskSeriesSDA, Metric: "node_disk_written_bytes_total",
		Labels: map[string]string{"device": "sda"}, Transform: "rate", MetricType: "counter", Windows: windows(1e6),
		Adf: &slapipev1.ADF{Statistic: -1.2, Pvalue: 0.67, UsedLag: 3, Nobs: 8637, Critical_1: -3.43,
			Critical_5: -2.86, Critical_10: -2.57, IcBest: 99.5},
		Acf: []float64{1, 0.5, 0.25}, Forecast: seasonalForecast(1e6),
		SeasonCheck: &slapipev1.SeasonCheck{Candidate: 150, Cycles: 57, Z: 6.2, Agreement: 0.55, Strength: 0.04,
			Reason: "cycles disagree: a one-off event, not a season"}})
	sdb := common(&slapipev1.SeriesAnalysis{SeriesId: "ffeeddccbbaa99887766554433221100", Metric: "node_disk_written_bytes_total",
		Labels: map[string]string{"device": "sdb"}, Transform: "rate", MetricType: "counter", Windows: windows(0),
		Forecast: &slapipev1.Forecast{Model: "ses", Horizon: 2, History: []float64{0, 0},
			Points: []*slapipev1.ForecastPoint{{Time: ts(Now.Add(5 * time.Second))}, {Time: ts(Now.Add(10 * time.Second))}}}})
	return &Retrieval{Analyses: []*slapipev1.SeriesAnalysis{mem, sda, sdb}}
}
