#!/usr/bin/env bash
# etl-bench.sh - ETL benchmark on 1000 series x 12 h at 5 s from a REAL Prometheus.
#
# Generates node_exporter-shaped history (etl/internal/benchgen), backfills it with
# `promtool tsdb create-blocks-from openmetrics` into a Prometheus of its own (not the
# test servers' one), runs BenchmarkRun (etl/bench_test.go: pull -> analysis -> in-process
# Kafka broker) and stops that Prometheus again. Prints the per-stage seconds.
#
# Usage: scripts/etl-bench.sh [down]       (down: stop a Prometheus left running)
# Env: BENCH_DIR [/tmp/slapipe-etl-bench]  BENCH_PORT [9091]  BENCH_SERIES [1000]
#      BENCH_COUNT [3] runs measured      KEEP=1 leaves Prometheus running afterwards
set -euo pipefail

DIR=${BENCH_DIR:-/tmp/slapipe-etl-bench}
PORT=${BENCH_PORT:-9091}
SERIES=${BENCH_SERIES:-1000}
COUNT=${BENCH_COUNT:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PIDFILE=$DIR/prometheus.pid

log() { printf '[etl-bench] %s\n' "$*" >&2; }

stop() {
  if [ -s "$PIDFILE" ] && [ "$(readlink "/proc/$(cat "$PIDFILE")/exe" 2>/dev/null)" = /usr/bin/prometheus ]; then
    kill "$(cat "$PIDFILE")"; log "stopped prometheus pid $(cat "$PIDFILE")"
  fi
  rm -f "$PIDFILE"
}

if [ "${1:-}" = down ]; then stop; exit 0; fi
command -v promtool >/dev/null && [ -x /usr/bin/prometheus ] || { log "needs Debian's prometheus package (promtool, /usr/bin/prometheus)"; exit 1; }
mkdir -p "$DIR"

# History: generated once per directory; its end time is remembered so later runs pull the same range.
if [ ! -s "$DIR/end" ] || [ "$(cat "$DIR/series" 2>/dev/null)" != "$SERIES" ]; then
  stop
  rm -rf "$DIR/data"; mkdir -p "$DIR/data"
  end=$(( $(date +%s) - 1 )); end=$(( end - end % 5 ))
  log "generating $SERIES series x 12h at 5s"
  (cd "$ROOT" && go run ./etl/internal/benchgen -out "$DIR/bench.om" -series "$SERIES" -end "$end") >&2
  log "backfilling with promtool"
  t0=$(date +%s)
  promtool tsdb create-blocks-from openmetrics --max-block-duration=24h -q "$DIR/bench.om" "$DIR/data" > "$DIR/promtool.log" 2>&1 \
    || { tail "$DIR/promtool.log"; exit 1; }
  log "backfill took $(( $(date +%s) - t0 ))s"
  rm -f "$DIR/bench.om"
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
n=$(curl -sf "http://127.0.0.1:$PORT/api/v1/series" --data-urlencode 'match[]={instance="bench:9100"}' \
  --data-urlencode "start=$((END - 60))" --data-urlencode "end=$END" | grep -o '"__name__"' | wc -l)
log "prometheus ready, $n bench series"

cd "$ROOT"
SLAPIPE_TEST_PROMETHEUS_URL="http://127.0.0.1:$PORT" SLAPIPE_BENCH_END="$END" \
  SLAPIPE_BENCH_SELECTOR='{instance="bench:9100"}' \
  go test -count=1 -run '^$' -bench '^BenchmarkRun$' -benchtime "${COUNT}x" -benchmem ./etl/
