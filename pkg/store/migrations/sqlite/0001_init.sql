-- slapipe schema for SQLite: migration 0001_init, the twin of
-- store/migrations/mysql/0001_init.sql (same tables, columns, keys and
-- indexes; a test checks it). Declared types mirror MySQL's; times are TEXT
-- 'YYYY-MM-DD HH:MM:SS.mmm' in UTC so they sort as strings.

CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT NOT NULL,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME(3) NOT NULL,
  PRIMARY KEY (version)
);

CREATE TABLE IF NOT EXISTS series (
  series_id VARCHAR(64) NOT NULL,
  metric VARCHAR(255) NOT NULL,
  labels LONGTEXT NOT NULL CHECK (json_valid(labels)),
  metric_type VARCHAR(32) NOT NULL,
  transform VARCHAR(16) NOT NULL,
  first_seen DATETIME(3) NULL,
  last_seen DATETIME(3) NULL,
  PRIMARY KEY (series_id)
);
CREATE INDEX IF NOT EXISTS series_metric ON series (metric, series_id);

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
  PRIMARY KEY (run_id)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_reported ON runs (reported, sort_at, run_id);
CREATE INDEX IF NOT EXISTS runs_latest ON runs (has_analyses, sort_at, run_id);

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
  CONSTRAINT fk_analyses_series FOREIGN KEY (series_id) REFERENCES series (series_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS analyses_series ON analyses (series_id, computed_at);
CREATE INDEX IF NOT EXISTS analyses_computed ON analyses (computed_at);

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
) WITHOUT ROWID;

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
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS autocorrelation (
  run_id VARCHAR(64) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  max_lag INT NOT NULL,
  acf LONGTEXT NOT NULL CHECK (json_valid(acf)),
  PRIMARY KEY (run_id, series_id),
  CONSTRAINT fk_autocorrelation_analyses FOREIGN KEY (run_id, series_id) REFERENCES analyses (run_id, series_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS seasonality (
  run_id VARCHAR(64) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  period INT NOT NULL,
  detected BOOLEAN NOT NULL,
  strength DOUBLE NULL,
  seasonal_indices LONGBLOB NOT NULL,
  PRIMARY KEY (run_id, series_id),
  CONSTRAINT fk_seasonality_analyses FOREIGN KEY (run_id, series_id) REFERENCES analyses (run_id, series_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS forecasts (
  run_id VARCHAR(64) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  model VARCHAR(64) NOT NULL,
  horizon INT NOT NULL,
  sigma DOUBLE NULL,
  aicc DOUBLE NULL,
  params LONGTEXT NOT NULL CHECK (json_valid(params)),
  predicted_min DOUBLE NULL,
  predicted_max DOUBLE NULL,
  predicted_mean DOUBLE NULL,
  history LONGBLOB NOT NULL,
  points LONGTEXT NOT NULL CHECK (json_valid(points)),
  PRIMARY KEY (run_id, series_id),
  CONSTRAINT fk_forecasts_analyses FOREIGN KEY (run_id, series_id) REFERENCES analyses (run_id, series_id) ON DELETE CASCADE
);

CREATE VIEW IF NOT EXISTS forecast_points AS
SELECT f.run_id, f.series_id, CAST(p.key AS INT) + 1 AS step,
  strftime('%Y-%m-%d %H:%M:%f', json_extract(p.value, '$[0]') / 1000.0, 'unixepoch') AS ts,
  json_extract(p.value, '$[1]') AS mean,
  json_extract(p.value, '$[2]') AS lower,
  json_extract(p.value, '$[3]') AS upper
FROM forecasts f, json_each(f.points) AS p;

CREATE TABLE IF NOT EXISTS sla_sets (
  version BIGINT NOT NULL,
  objectives LONGTEXT NOT NULL CHECK (json_valid(objectives)),
  actor VARCHAR(255) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (version)
);

CREATE TABLE IF NOT EXISTS violation_snapshots (
  name VARCHAR(32) NOT NULL,
  computed_at DATETIME(3) NULL,
  saved_at DATETIME(3) NOT NULL,
  snapshot LONGTEXT NOT NULL CHECK (json_valid(snapshot)),
  PRIMARY KEY (name)
);

-- sla_violations: every violations answer SaveViolations kept, one row per
-- window, objective and series, for Grafana's compliance history. Saving the
-- same answer again (same computed_at) changes nothing.
CREATE TABLE IF NOT EXISTS sla_violations (
  computed_at DATETIME(3) NOT NULL,
  window_name VARCHAR(16) NOT NULL,
  objective VARCHAR(255) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  metric VARCHAR(255) NOT NULL,
  labels LONGTEXT NOT NULL CHECK (json_valid(labels)),
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
);

-- sla_predictions: every predictions answer SavePredictions kept, one row per
-- objective and series: the probability of leaving the bounds within the
-- horizon and the forecast's min/max/mean.
CREATE TABLE IF NOT EXISTS sla_predictions (
  computed_at DATETIME(3) NOT NULL,
  objective VARCHAR(255) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  metric VARCHAR(255) NOT NULL,
  labels LONGTEXT NOT NULL CHECK (json_valid(labels)),
  probability DOUBLE NULL,
  predicted_min DOUBLE NULL,
  predicted_max DOUBLE NULL,
  predicted_mean DOUBLE NULL,
  first_crossing DATETIME(3) NULL,
  model VARCHAR(64) NOT NULL,
  run_id VARCHAR(64) NOT NULL,
  horizon_seconds DOUBLE NULL,
  PRIMARY KEY (computed_at, objective, series_id)
);
