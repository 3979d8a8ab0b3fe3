-- slapipe schema for MySQL 8 and MariaDB 10.11: migration 0001_init.
--
-- This file is generated from store/migrations/mysql/*.sql (their
-- concatenation, checked by a test); `slapipe migrate` applies the same
-- migrations and records them in schema_migrations.
--
-- Conventions (identical in the SQLite twin, store/migrations/sqlite):
--   * times are DATETIME(3) in UTC: millisecond precision, finer digits are
--     truncated on write;
--   * JSON columns are LONGTEXT checked with JSON_VALID, so MySQL and
--     MariaDB keep the same text;
--   * doubles: NaN is stored as NULL, +Inf and -Inf as +/-1.7976931348623157e308
--     (the largest double) and -0 as 0, both in columns and in JSON arrays;
--   * the long arrays nobody charts in SQL (seasonal indices, forecast
--     history) are LONGBLOBs of little-endian IEEE-754 doubles, 8 bytes each,
--     exact: as JSON text they were 2.4 times larger, pushed the rows off-page
--     and cost a third of the write path's CPU;
--   * identifiers compare byte-wise (utf8mb4_bin), as in Go and SQLite.

CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT NOT NULL,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME(3) NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- series: one row per series ever stored; metric_type and transform are the
-- latest seen (analyses keeps the per-run values).
CREATE TABLE IF NOT EXISTS series (
  series_id VARCHAR(64) NOT NULL,
  metric VARCHAR(255) NOT NULL,
  labels LONGTEXT NOT NULL CHECK (JSON_VALID(labels)),
  metric_type VARCHAR(32) NOT NULL,
  transform VARCHAR(16) NOT NULL,
  first_seen DATETIME(3) NULL,
  last_seen DATETIME(3) NULL,
  PRIMARY KEY (series_id),
  KEY series_metric (metric, series_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- runs: the ETL's run summaries (reported = 1 once the run message arrived)
-- and, for every run that has analyses, when they were computed. sort_at
-- orders runs: started_at, or the analyses' time while the summary is missing.
CREATE TABLE IF NOT EXISTS runs (
  run_id VARCHAR(64) NOT NULL,
  started_at DATETIME(3) NULL,
  finished_at DATETIME(3) NULL,
  status VARCHAR(32) NOT NULL DEFAULT '',
  series_count BIGINT NOT NULL DEFAULT 0,
  pull_seconds DOUBLE NULL,
  analyse_seconds DOUBLE NULL,
  publish_seconds DOUBLE NULL,
  total_seconds DOUBLE NULL,
  error_message TEXT NULL,
  triggered_by VARCHAR(32) NOT NULL DEFAULT '',
  reported BOOLEAN NOT NULL DEFAULT FALSE,
  has_analyses BOOLEAN NOT NULL DEFAULT FALSE,
  analyses_at DATETIME(3) NULL,
  sort_at DATETIME(3) GENERATED ALWAYS AS (COALESCE(started_at, analyses_at)) STORED,
  PRIMARY KEY (run_id),
  KEY runs_started (started_at),
  KEY runs_reported (reported, sort_at, run_id),
  KEY runs_latest (has_analyses, sort_at, run_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- analyses: one row per series per run (the Kafka message's scalar fields).
CREATE TABLE IF NOT EXISTS analyses (
  run_id VARCHAR(64) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  metric_type VARCHAR(32) NOT NULL,
  transform VARCHAR(16) NOT NULL,
  computed_at DATETIME(3) NULL,
  range_start DATETIME(3) NULL,
  range_end DATETIME(3) NULL,
  step_seconds DOUBLE NULL,
  samples BIGINT NOT NULL,
  gaps BIGINT NOT NULL,
  PRIMARY KEY (run_id, series_id),
  KEY analyses_series (series_id, computed_at),
  KEY analyses_computed (computed_at),
  CONSTRAINT fk_analyses_series FOREIGN KEY (series_id) REFERENCES series (series_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- window_stats: the 1h/3h/12h statistics; ordinal keeps the message's order.
CREATE TABLE IF NOT EXISTS window_stats (
  run_id VARCHAR(64) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  window_name VARCHAR(16) NOT NULL,
  ordinal INT NOT NULL,
  samples BIGINT NOT NULL,
  min DOUBLE NULL,
  max DOUBLE NULL,
  mean DOUBLE NULL,
  stddev DOUBLE NULL,
  PRIMARY KEY (run_id, series_id, window_name),
  CONSTRAINT fk_window_stats_analyses FOREIGN KEY (run_id, series_id) REFERENCES analyses (run_id, series_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- stationarity: the Augmented Dickey-Fuller test; no row for a constant series.
CREATE TABLE IF NOT EXISTS stationarity (
  run_id VARCHAR(64) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  statistic DOUBLE NULL,
  pvalue DOUBLE NULL,
  used_lag INT NOT NULL,
  nobs INT NOT NULL,
  critical_1 DOUBLE NULL,
  critical_5 DOUBLE NULL,
  critical_10 DOUBLE NULL,
  ic_best DOUBLE NULL,
  stationary BOOLEAN NOT NULL,
  PRIMARY KEY (run_id, series_id),
  CONSTRAINT fk_stationarity_analyses FOREIGN KEY (run_id, series_id) REFERENCES analyses (run_id, series_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- autocorrelation: lags 0..max_lag as one JSON array of numbers.
CREATE TABLE IF NOT EXISTS autocorrelation (
  run_id VARCHAR(64) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  max_lag INT NOT NULL,
  acf LONGTEXT NOT NULL CHECK (JSON_VALID(acf)),
  PRIMARY KEY (run_id, series_id),
  CONSTRAINT fk_autocorrelation_analyses FOREIGN KEY (run_id, series_id) REFERENCES analyses (run_id, series_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- seasonality: the additive season; seasonal_indices holds period doubles
-- (little-endian float64). No row when no season was found.
CREATE TABLE IF NOT EXISTS seasonality (
  run_id VARCHAR(64) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  period INT NOT NULL,
  detected BOOLEAN NOT NULL,
  strength DOUBLE NULL,
  seasonal_indices LONGBLOB NOT NULL,
  PRIMARY KEY (run_id, series_id),
  CONSTRAINT fk_seasonality_analyses FOREIGN KEY (run_id, series_id) REFERENCES analyses (run_id, series_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- forecasts: the Holt-Winters model, the predicted min/max/mean over the
-- horizon and the forecast itself. params is a JSON object; history the last
-- samples before the forecast, step_seconds apart (little-endian float64);
-- points a JSON array of [time_ms, mean, lower, upper] per step (time_ms:
-- Unix milliseconds, UTC).
-- Points live in one row because 120 rows per series cost MariaDB about ten
-- times the CPU of the rest of the message; the forecast_points view gives
-- them back as rows.
CREATE TABLE IF NOT EXISTS forecasts (
  run_id VARCHAR(64) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  model VARCHAR(64) NOT NULL,
  horizon INT NOT NULL,
  sigma DOUBLE NULL,
  aicc DOUBLE NULL,
  params LONGTEXT NOT NULL CHECK (JSON_VALID(params)),
  predicted_min DOUBLE NULL,
  predicted_max DOUBLE NULL,
  predicted_mean DOUBLE NULL,
  history LONGBLOB NOT NULL,
  points LONGTEXT NOT NULL CHECK (JSON_VALID(points)),
  PRIMARY KEY (run_id, series_id),
  CONSTRAINT fk_forecasts_analyses FOREIGN KEY (run_id, series_id) REFERENCES analyses (run_id, series_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- forecast_points: one row per forecast step (step = 1..horizon) at time ts
-- with its 95 % interval, for Grafana. Filter on run_id and series_id (or
-- join series on series_id): they reach forecasts' keys.
CREATE OR REPLACE VIEW forecast_points AS
SELECT f.run_id, f.series_id, p.step,
  CAST(TIMESTAMPADD(MICROSECOND, p.time_ms * 1000, CAST('1970-01-01 00:00:00' AS DATETIME(3))) AS DATETIME(3)) AS ts,
  p.mean, p.lower, p.upper
FROM forecasts f,
  JSON_TABLE(f.points, '$[*]' COLUMNS (
    step FOR ORDINALITY,
    time_ms BIGINT PATH '$[0]',
    mean DOUBLE PATH '$[1]',
    lower DOUBLE PATH '$[2]',
    upper DOUBLE PATH '$[3]')) AS p;

-- sla_sets: every saved version of the SLA set; the highest version is current.
CREATE TABLE IF NOT EXISTS sla_sets (
  version BIGINT NOT NULL,
  objectives LONGTEXT NOT NULL CHECK (JSON_VALID(objectives)),
  actor VARCHAR(255) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- violation_snapshots: the latest violations answer (protobuf JSON), served
-- marked stale when Prometheus cannot be reached.
CREATE TABLE IF NOT EXISTS violation_snapshots (
  name VARCHAR(32) NOT NULL,
  computed_at DATETIME(3) NULL,
  saved_at DATETIME(3) NOT NULL,
  snapshot LONGTEXT NOT NULL CHECK (JSON_VALID(snapshot)),
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- sla_violations: every violations answer SaveViolations kept, one row per
-- window, objective and series, for Grafana's compliance history. Saving the
-- same answer again (same computed_at) changes nothing.
CREATE TABLE IF NOT EXISTS sla_violations (
  computed_at DATETIME(3) NOT NULL,
  window_name VARCHAR(16) NOT NULL,
  objective VARCHAR(255) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  metric VARCHAR(255) NOT NULL,
  labels LONGTEXT NOT NULL CHECK (JSON_VALID(labels)),
  samples BIGINT NOT NULL,
  samples_out BIGINT NOT NULL,
  episodes BIGINT NOT NULL,
  seconds_out DOUBLE NULL,
  compliance DOUBLE NULL,
  worst DOUBLE NULL,
  worst_at DATETIME(3) NULL,
  first_violation DATETIME(3) NULL,
  last_violation DATETIME(3) NULL,
  PRIMARY KEY (computed_at, window_name, objective, series_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- sla_predictions: every predictions answer SavePredictions kept, one row per
-- objective and series: the probability of leaving the bounds within the
-- horizon and the forecast's min/max/mean.
CREATE TABLE IF NOT EXISTS sla_predictions (
  computed_at DATETIME(3) NOT NULL,
  objective VARCHAR(255) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  metric VARCHAR(255) NOT NULL,
  labels LONGTEXT NOT NULL CHECK (JSON_VALID(labels)),
  probability DOUBLE NULL,
  predicted_min DOUBLE NULL,
  predicted_max DOUBLE NULL,
  predicted_mean DOUBLE NULL,
  first_crossing DATETIME(3) NULL,
  model VARCHAR(64) NOT NULL,
  run_id VARCHAR(64) NOT NULL,
  horizon_seconds DOUBLE NULL,
  PRIMARY KEY (computed_at, objective, series_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
