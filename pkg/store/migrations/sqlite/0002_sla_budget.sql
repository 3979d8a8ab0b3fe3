-- sla_out_of_range_minutes: the seconds each series of each objective spent
-- out of its bounds, per minute (minutes with none are not kept). Error
-- budgets over days sum these rows instead of re-reading raw 5 s samples;
-- the SLA manager rewrites the minutes of each pull it counts.
CREATE TABLE IF NOT EXISTS sla_out_of_range_minutes (
  objective VARCHAR(255) NOT NULL,
  series_id VARCHAR(64) NOT NULL,
  minute DATETIME(3) NOT NULL,
  seconds_out DOUBLE NOT NULL,
  PRIMARY KEY (objective, series_id, minute)
);
CREATE INDEX IF NOT EXISTS sla_out_of_range_minutes_minute ON sla_out_of_range_minutes (minute);
