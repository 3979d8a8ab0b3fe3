#!/usr/bin/env bash
# test.sh - the whole test suite on a fresh Debian machine with Go installed.
# Installs and starts what the tests need (MariaDB, Prometheus with 12 h of
# backfilled history, node_exporter; see scripts/servers.sh), then runs
# go vet and every Go test. Kafka needs no server: tests start kfake in-process.
#
#   scripts/test.sh              # everything
#   scripts/test.sh ./pkg/store/...  # vet and test only some packages (servers still started)
#
# Under CI=true no test that needs a server may skip: they fail instead.
set -euo pipefail
cd "$(dirname "$0")/.."

export CI_SERVERS_DIR=${CI_SERVERS_DIR:-/tmp/slapipe-servers}
if [ "$(id -u)" = 0 ]; then
  scripts/servers.sh up
else
  sudo -E scripts/servers.sh up
fi

# servers.sh granted the slapipe user the slapipe_* databases; the tests create and drop
# their own (internal/testing/testenv), so the database this DSN names need not exist.
export SLAPIPE_TEST_MYSQL_DSN=${SLAPIPE_TEST_MYSQL_DSN:-"slapipe:slapipe@tcp(127.0.0.1:3306)/slapipe_test?parseTime=true"}
export SLAPIPE_TEST_PROMETHEUS_URL=${SLAPIPE_TEST_PROMETHEUS_URL:-"http://127.0.0.1:9090"}
export SLAPIPE_TEST_SERVERS_DIR=$CI_SERVERS_DIR

pkgs=("$@"); [ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)
echo "=== go vet"
go vet "${pkgs[@]}"
go vet -tags nodemo ./cmd/slapipe # the production image's build (Dockerfile)
echo "=== go test"
go test -count=1 -timeout 30m "${pkgs[@]}"
