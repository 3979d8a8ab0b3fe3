package store

// The upsert targets of the write path. Column lists follow schema.sql.

var seriesTable = &tableSpec{
	name: "series",
	cols: []string{"series_id", "metric", "labels", "metric_type", "transform", "first_seen", "last_seen"},
	key:  []string{"series_id"},
	// metric_type and transform follow the newest analysis; a late
	// redelivery of an older run must not roll them back. MySQL evaluates
	// the assignments left to right, so last_seen comes last and the
	// conditions read its old value, as SQLite's always do.
	set: func(dialect string) string {
		if dialect == DialectMySQL {
			newer := "(last_seen IS NULL OR VALUES(last_seen) >= last_seen)"
			return "metric = VALUES(metric), labels = VALUES(labels), " +
				"metric_type = CASE WHEN " + newer + " THEN VALUES(metric_type) ELSE metric_type END, " +
				"transform = CASE WHEN " + newer + " THEN VALUES(transform) ELSE transform END, " +
				"first_seen = LEAST(COALESCE(first_seen, VALUES(first_seen)), COALESCE(VALUES(first_seen), first_seen)), " +
				"last_seen = GREATEST(COALESCE(last_seen, VALUES(last_seen)), COALESCE(VALUES(last_seen), last_seen))"
		}
		newer := "(series.last_seen IS NULL OR excluded.last_seen >= series.last_seen)"
		return "metric = excluded.metric, labels = excluded.labels, " +
			"metric_type = CASE WHEN " + newer + " THEN excluded.metric_type ELSE series.metric_type END, " +
			"transform = CASE WHEN " + newer + " THEN excluded.transform ELSE series.transform END, " +
			"first_seen = min(COALESCE(series.first_seen, excluded.first_seen), COALESCE(excluded.first_seen, series.first_seen)), " +
			"last_seen = max(COALESCE(series.last_seen, excluded.last_seen), COALESCE(excluded.last_seen, series.last_seen))"
	},
}

var analysesTable = &tableSpec{
	name: "analyses",
	cols: []string{"run_id", "series_id", "metric_type", "transform", "computed_at", "range_start", "range_end", "step_seconds", "samples", "gaps"},
	key:  []string{"run_id", "series_id"},
}

var windowTable = &tableSpec{
	name: "window_stats",
	cols: []string{"run_id", "series_id", "window_name", "ordinal", "samples", "min", "max", "mean", "stddev"},
	key:  []string{"run_id", "series_id", "window_name"},
}

var stationarityTable = &tableSpec{
	name: "stationarity",
	cols: []string{"run_id", "series_id", "statistic", "pvalue", "used_lag", "nobs", "critical_1", "critical_5", "critical_10", "ic_best", "stationary"},
	key:  []string{"run_id", "series_id"},
}

var acfTable = &tableSpec{
	name: "autocorrelation",
	cols: []string{"run_id", "series_id", "max_lag", "acf"},
	key:  []string{"run_id", "series_id"},
}

var seasonTable = &tableSpec{
	name: "seasonality",
	cols: []string{"run_id", "series_id", "period", "detected", "strength", "seasonal_indices"},
	key:  []string{"run_id", "series_id"},
}

var seasonCheckTable = &tableSpec{
	name: "season_checks",
	cols: []string{"run_id", "series_id", "period", "candidate", "cycles", "z", "agreement", "strength", "reason"},
	key:  []string{"run_id", "series_id"},
}

var forecastTable = &tableSpec{
	name: "forecasts",
	cols: []string{"run_id", "series_id", "model", "horizon", "sigma", "aicc", "params", "predicted_min", "predicted_max", "predicted_mean", "history", "points", "interval_method", "non_negative"},
	key:  []string{"run_id", "series_id"},
}

// childTables hold the rows owned by one analysis, in write order.
var childTables = []*tableSpec{windowTable, stationarityTable, acfTable, seasonTable, seasonCheckTable, forecastTable}

// runMarkTable marks a run as having analyses (the run summary may arrive
// later or never) and keeps the newest computed_at, which orders the run
// until its summary brings started_at.
var runMarkTable = &tableSpec{
	name: "runs",
	cols: []string{"run_id", "has_analyses", "analyses_at"},
	key:  []string{"run_id"},
	set: func(dialect string) string {
		if dialect == DialectMySQL {
			return "has_analyses = TRUE, analyses_at = GREATEST(COALESCE(analyses_at, VALUES(analyses_at)), COALESCE(VALUES(analyses_at), analyses_at))"
		}
		return "has_analyses = TRUE, analyses_at = max(COALESCE(runs.analyses_at, excluded.analyses_at), COALESCE(excluded.analyses_at, runs.analyses_at))"
	},
}

// runsTable is the run summary; it leaves the analyses marks alone.
var runsTable = &tableSpec{
	name: "runs",
	cols: []string{"run_id", "started_at", "finished_at", "status", "series_count", "pull_seconds", "analyse_seconds", "publish_seconds", "total_seconds", "error_message", "triggered_by", "reported"},
	key:  []string{"run_id"},
}
