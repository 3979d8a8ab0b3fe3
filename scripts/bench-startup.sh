#!/usr/bin/env bash
# bench-startup.sh BIN - process start-up of a slapipe binary: the mean wall
# time of 50 runs of `BIN --help` and of 50 runs of `BIN analyze` refusing
# input that is not JSON (README, Figures). Compare the default build with
# the production one:
#   CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /tmp/with-demo ./cmd/slapipe
#   CGO_ENABLED=0 go build -tags nodemo -trimpath -ldflags "-s -w" -o /tmp/nodemo ./cmd/slapipe
#   scripts/bench-startup.sh /tmp/with-demo; scripts/bench-startup.sh /tmp/nodemo
set -euo pipefail
bin=${1:?usage: bench-startup.sh BIN}
for what in help analyze; do
  start=$(date +%s%N)
  for i in $(seq 50); do
    if [ $what = help ]; then "$bin" --help >/dev/null 2>&1; else echo 'not json' | "$bin" analyze >/dev/null 2>&1 || true; fi
  done
  end=$(date +%s%N)
  echo "$what: $(( (end-start)/50/1000 )) us/run"
done
