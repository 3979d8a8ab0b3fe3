#!/usr/bin/env bash
# bench-e2e.sh - load figures of the pipeline on the real servers (package e2e):
#   * BenchmarkDatastorageThroughput: realistic messages (~7 KiB: 3 windows, ADF, 41 ACF lags,
#     120-value season, 120-point forecast) from an in-process Kafka broker (kfake) through
#     datastorage into MariaDB, until every offset is committed (msgs/s, steady-msgs/s);
#   * BenchmarkRetrievalLatency: the retrieval gRPC service over MariaDB holding 1000 series,
#     p50/p99 latency and calls/s at 1, 8 and 64 concurrent clients.
# Benchmarks are not part of `go test` runs (scripts/test.sh), so CI stays fast.
#
# Usage: scripts/bench-e2e.sh
# Env: SLAPIPE_TEST_MYSQL_DSN (default: the one scripts/test.sh uses; the benchmarks create and
#      drop their own slapipe_e2e_* databases on that server)
#      BENCH_THROUGHPUT_N [3] iterations of 10000 messages   BENCH_CALLS [1000] calls per case
#      BENCH_COUNT [1] repetitions (go test -count)          SERVERS=0 skips `scripts/servers.sh up`
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SLAPIPE_TEST_MYSQL_DSN:-}" ] && [ "${SERVERS:-1}" != 0 ]; then
  export CI_SERVERS_DIR=${CI_SERVERS_DIR:-/tmp/slapipe-servers}
  if [ "$(id -u)" = 0 ]; then scripts/servers.sh up; else sudo -E scripts/servers.sh up; fi
fi
export SLAPIPE_TEST_MYSQL_DSN=${SLAPIPE_TEST_MYSQL_DSN:-"slapipe:slapipe@tcp(127.0.0.1:3306)/slapipe_test?parseTime=true"}

echo "=== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "=== datastorage throughput into MariaDB"
go test -run '^$' -bench 'BenchmarkDatastorageThroughput$' -benchtime "${BENCH_THROUGHPUT_N:-3}x" \
  -count "${BENCH_COUNT:-1}" -timeout 30m ./test/e2e/
echo "=== retrieval latency over MariaDB"
go test -run '^$' -bench 'BenchmarkRetrievalLatency' -benchtime "${BENCH_CALLS:-1000}x" \
  -count "${BENCH_COUNT:-1}" -timeout 30m ./test/e2e/
echo "=== machine after: load $(cut -d' ' -f1-3 /proc/loadavg)"
