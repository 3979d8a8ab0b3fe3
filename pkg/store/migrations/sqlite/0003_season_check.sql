-- season_checks: why a season was taken or refused (see the MySQL migration).
CREATE TABLE IF NOT EXISTS season_checks (
  run_id VARCHAR(64) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  period INT NOT NULL,
  candidate INT NOT NULL,
  cycles INT NOT NULL,
  z DOUBLE NULL,
  agreement DOUBLE NULL,
  strength DOUBLE NULL,
  reason VARCHAR(128) NOT NULL,
  PRIMARY KEY (run_id, series_id),
  CONSTRAINT fk_season_checks_analyses FOREIGN KEY (run_id, series_id) REFERENCES analyses (run_id, series_id) ON DELETE CASCADE
);

ALTER TABLE forecasts ADD COLUMN interval_method VARCHAR(16) NOT NULL DEFAULT '';
ALTER TABLE forecasts ADD COLUMN non_negative BOOLEAN NOT NULL DEFAULT FALSE;
