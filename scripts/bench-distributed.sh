#!/usr/bin/env bash
# bench-distributed.sh - the distributed ETL end to end on 10,000 series x 12 h at 5 s from a
# REAL Prometheus into MariaDB: one `slapipe etl worker` process against two, each GOMAXPROCS=1,
# and the workers' pull through remote read against query_range.
#
# Writes node_exporter-shaped history (etl/internal/benchgen -tsdb: a TSDB block, no text)
# into a Prometheus of its own (not the test servers' one), then runs
#   BenchmarkFetchSeries    (pkg/promsource: pull of every series in tasks of 100, both ways)
#   BenchmarkDistributedRun (cmd/slapipe: run start -> last row in MariaDB, 1 then 2 workers;
#                            kfake, coordinator and datastorage in the benchmark process)
# and stops that Prometheus. MariaDB is scripts/servers.sh's (SLAPIPE_TEST_MYSQL_DSN); each
# run writes a throw-away database. Not part of the test suite: it takes minutes of CPU.
#
# Usage: scripts/bench-distributed.sh [down]
# Env: BENCH_DIR [/tmp/slapipe-bench-distributed]  BENCH_PORT [19391]  BENCH_SERIES [10000]
#      BENCH_READ [auto] the workers' --prometheus-read   BENCH_PULL [1] 0 skips BenchmarkFetchSeries
#      KEEP=1 leaves Prometheus running
set -euo pipefail

DIR=${BENCH_DIR:-/tmp/slapipe-bench-distributed}
PORT=${BENCH_PORT:-19391}
SERIES=${BENCH_SERIES:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PIDFILE=$DIR/prometheus.pid

log() { printf '[bench-distributed] %s\n' "$*" >&2; }

stop() {
  if [ -s "$PIDFILE" ] && [ "$(readlink "/proc/$(cat "$PIDFILE")/exe" 2>/dev/null)" = /usr/bin/prometheus ]; then
    kill "$(cat "$PIDFILE")"; log "stopped prometheus pid $(cat "$PIDFILE")"
  fi
  rm -f "$PIDFILE"
}

if [ "${1:-}" = down ]; then stop; exit 0; fi
[ -x /usr/bin/prometheus ] || { log "needs Debian's prometheus package (/usr/bin/prometheus)"; exit 1; }
mkdir -p "$DIR"

if [ ! -s "$DIR/end" ] || [ "$(cat "$DIR/series" 2>/dev/null)" != "$SERIES" ]; then
  stop
  rm -rf "$DIR/data"; mkdir -p "$DIR/data"
  end=$(( $(date +%s) - 1 )); end=$(( end - end % 5 ))
  log "writing $SERIES series x 12h at 5s as a TSDB block"
  t0=$(date +%s)
  (cd "$ROOT" && go run ./etl/internal/benchgen -tsdb "$DIR/data" -series "$SERIES" -end "$end") >&2
  log "history written in $(( $(date +%s) - t0 ))s"
  echo "$end" > "$DIR/end"; echo "$SERIES" > "$DIR/series"
fi
END=$(cat "$DIR/end")

if ! [ -s "$PIDFILE" ] || ! [ "$(readlink "/proc/$(cat "$PIDFILE")/exe" 2>/dev/null)" = /usr/bin/prometheus ]; then
  printf 'global:\n  scrape_interval: 1m\nscrape_configs: []\n' > "$DIR/prometheus.yml"
  nohup /usr/bin/prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/data" \
    --storage.tsdb.retention.time=30d --web.listen-address="127.0.0.1:$PORT" \
    < /dev/null > "$DIR/prometheus.log" 2>&1 &
  echo $! > "$PIDFILE"
  log "started prometheus pid $! on 127.0.0.1:$PORT"
fi
[ "${KEEP:-}" = 1 ] || trap stop EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/-/ready" >/dev/null && break; sleep 0.1; done
n=$(curl -sf "http://127.0.0.1:$PORT/api/v1/query" --data-urlencode "query=count({instance=\"bench:9100\"})" \
  --data-urlencode "time=$END" | grep -o '"value":\[[^]]*\]' || true)
log "prometheus ready: $n bench series"

cd "$ROOT"
export SLAPIPE_TEST_PROMETHEUS_URL="http://127.0.0.1:$PORT" SLAPIPE_BENCH_END="$END" \
  SLAPIPE_BENCH_SELECTOR='{instance="bench:9100"}' SLAPIPE_BENCH_READ="${BENCH_READ:-}"
export SLAPIPE_TEST_MYSQL_DSN=${SLAPIPE_TEST_MYSQL_DSN:-"slapipe:slapipe@tcp(127.0.0.1:3306)/slapipe_test?parseTime=true"}
log "machine load before: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "${BENCH_PULL:-1}" = 0 ] || go test -count=1 -run '^$' -bench '^BenchmarkFetchSeries$' -benchtime 1x ./pkg/promsource/
go test -count=1 -timeout 30m -run '^$' -bench '^BenchmarkDistributedRun$' -benchtime 1x ./cmd/slapipe/
log "machine load after: $(cut -d' ' -f1-3 /proc/loadavg)"
